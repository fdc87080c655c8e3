"""Fuzz the REST API's request bodies: ``Model.model_validate_json(body)`` for every model in
``kenri.service.schemas``. The first byte picks the model; the rest is the body.

Contract: a model instance or pydantic's ``ValidationError`` (a 422); anything else is a bug.
"""

from __future__ import annotations

from pathlib import Path

import atheris

with atheris.instrument_imports(include=["kenri"]):
    from pydantic import BaseModel, ValidationError

    from kenri.service import schemas

import _harness  # noqa: E402

MODELS = sorted(
    (v for v in vars(schemas).values() if isinstance(v, type) and issubclass(v, BaseModel)
     and v is not BaseModel),
    key=lambda m: m.__name__,
)  # fmt: skip


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    if not data:
        return
    model = MODELS[data[0] % len(MODELS)]
    try:
        parsed = model.model_validate_json(data[1:])
    except ValidationError:
        return
    assert isinstance(parsed, model)
    parsed.model_dump_json()  # what the service logs and stores must serialise again


if __name__ == "__main__":
    # Validation runs in pydantic-core (Rust, not instrumented): without coverage libFuzzer
    # would drop every seed, so the seeds are kept and mutated with JSON tokens.
    dictionary = str(Path(__file__).with_name("api_bodies.dict"))
    args = _harness.argv("api_bodies", max_len=65536, keep_seed="1", dict=dictionary)
    atheris.Setup(args, TestOneInput)
    atheris.Fuzz()
