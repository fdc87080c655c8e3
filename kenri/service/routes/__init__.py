"""REST routes, one module per area; each opens one transaction per request."""
