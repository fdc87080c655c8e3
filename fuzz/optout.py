"""Fuzz the opt-out readers: ``metadata_reasons(json)`` on any JSON the item json may hold
and ``c2pa_reasons(bytes)`` on any file.

Contract: a list of reason strings; never raises.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["kenri"]):
    from contracts import check_optout

import _harness  # noqa: E402


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    check_optout(data)


if __name__ == "__main__":
    _harness.fuzz("optout", TestOneInput, max_len=16384)
