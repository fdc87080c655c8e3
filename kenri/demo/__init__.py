"""The demo: original characters drawn by code (so the project may ship them), a catalog, grants."""
