"""Fuzz ``kenri.catalog.schema.parse_line(line, base_dir)``.

Contract: a ``CatalogEntry``, None for a blank line, or ``InvalidInput``; anything else is a
bug. The bytes are decoded with surrogateescape, so lone surrogates are tried too.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["kenri"]):
    from contracts import check_catalog

import _harness  # noqa: E402


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    check_catalog(data)


if __name__ == "__main__":
    _harness.fuzz("catalog", TestOneInput, max_len=16384)
