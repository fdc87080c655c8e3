"""The ``kenri`` command line (typer + rich)."""
