"""Fuzz the REST API's request bodies: ``Model.model_validate_json(body)`` for every model in
``kenri.service.schemas``. The first byte picks the model; the rest is the body.

Contract: a model instance or pydantic's ``ValidationError`` (a 422); anything else is a bug.
"""

from __future__ import annotations

from pathlib import Path

import atheris

with atheris.instrument_imports(include=["kenri"]):
    from contracts import check_api_body

import _harness  # noqa: E402


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    check_api_body(data)


if __name__ == "__main__":
    # Validation runs in pydantic-core (Rust, not instrumented): without coverage libFuzzer
    # would drop every seed, so the seeds are kept and mutated with JSON tokens.
    dictionary = str(Path(__file__).with_name("api_bodies.dict"))
    _harness.fuzz("api_bodies", TestOneInput, max_len=65536, keep_seed="1", dict=dictionary)
