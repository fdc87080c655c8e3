"""Fuzz ``kenri.catalog.schema.parse_line(line, base_dir)``.

Contract: a ``CatalogEntry``, None for a blank line, or ``InvalidInput``; anything else is a
bug. The bytes are decoded with surrogateescape, so lone surrogates are tried too.
"""

from __future__ import annotations

from pathlib import Path

import atheris

with atheris.instrument_imports(include=["kenri"]):
    from kenri.catalog.schema import CatalogEntry, parse_line
    from kenri.errors import InvalidInput

import _harness  # noqa: E402

BASE = Path("/nonexistent/catalog")


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    line = data.decode("utf-8", "surrogateescape")
    try:
        entry = parse_line(line, BASE)
    except InvalidInput:
        return
    assert entry is None or isinstance(entry, CatalogEntry)


if __name__ == "__main__":
    atheris.Setup(_harness.argv("catalog", max_len=16384), TestOneInput)
    atheris.Fuzz()
