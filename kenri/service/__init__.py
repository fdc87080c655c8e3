"""The REST service and the rights-holders portal."""
