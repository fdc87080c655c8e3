"""Catalog import: the bulk way rights holders register what they protect (JSON Lines)."""

from kenri.catalog.importer import ImportReport, LineResult, import_catalog
from kenri.catalog.schema import CatalogEntry, parse_line

__all__ = ["CatalogEntry", "ImportReport", "LineResult", "import_catalog", "parse_line"]
