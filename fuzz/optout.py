"""Fuzz the opt-out readers: ``metadata_reasons(json)`` on any JSON the item json may hold
and ``c2pa_reasons(bytes)`` on any file.

Contract: a list of reason strings; never raises.
"""

from __future__ import annotations

import json

import atheris

with atheris.instrument_imports(include=["kenri"]):
    from kenri.screening.dataset.optout import c2pa_reasons, metadata_reasons

import _harness  # noqa: E402


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    reasons = c2pa_reasons(data)
    assert all(isinstance(r, str) for r in reasons)
    try:
        loaded = json.loads(data)
    except (ValueError, RecursionError):
        return  # the tar reader records unreadable json (see fuzz/webdataset.py)
    if isinstance(loaded, dict):
        reasons = metadata_reasons(loaded)
        assert all(isinstance(r, str) for r in reasons)


if __name__ == "__main__":
    atheris.Setup(_harness.argv("optout", max_len=16384), TestOneInput)
    atheris.Fuzz()
