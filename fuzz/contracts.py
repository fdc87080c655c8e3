"""The contract of each parser under fuzzing: one check per target, shared by the atheris
targets (``fuzz/<target>.py``) and by the regression tests (``tests/test_fuzz_regressions.py``,
which must run without atheris). A check returns normally when the parser kept its contract
(a result, or its documented error) and raises ``AssertionError`` or the escaped exception when
it did not. Imported by a target inside ``atheris.instrument_imports`` so kenri is instrumented.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pydantic import BaseModel, ValidationError

from kenri.catalog.schema import CatalogEntry, parse_line
from kenri.errors import InvalidInput, MediaError
from kenri.fingerprints.imageio import load_image
from kenri.fingerprints.video import sample_frames
from kenri.screening.dataset.optout import c2pa_reasons, metadata_reasons
from kenri.screening.dataset.sources import Item, Shard, read_items
from kenri.screening.prompt.normalize import fold, is_deliberately_obfuscated
from kenri.service import schemas

# Every request model, in a fixed order: an API-body input's first byte picks the model.
MODELS = sorted(
    (v for v in vars(schemas).values() if isinstance(v, type) and issubclass(v, BaseModel)
     and v is not BaseModel),
    key=lambda m: m.__name__,
)  # fmt: skip
PROMPT_SLOW_S = 2.0


def check_image(data: bytes) -> None:
    """An RGB uint8 array (height x width x 3) or ``MediaError``."""
    try:
        rgb = load_image(data)
    except MediaError:
        return
    assert rgb.dtype.name == "uint8" and rgb.ndim == 3 and rgb.shape[2] == 3, rgb.shape


def check_video(data: bytes, path: Path) -> None:
    """RGB frames or ``MediaError`` (``data`` is written to ``path`` first)."""
    path.write_bytes(data)
    try:
        for frame in sample_frames(path):
            rgb = frame.rgb
            assert rgb.dtype.name == "uint8" and rgb.ndim == 3 and rgb.shape[2] == 3
    except MediaError:
        return


def read_tar(data: bytes, path: Path) -> list[Item]:
    """Never raises: every member becomes an item, a bad one an item with its error."""
    path.write_bytes(data)
    items, last = list(read_items(Shard("fuzz", "tar", path))), -1
    for item in items:
        assert item.shard == "fuzz" and item.position >= last
        assert item.error is not None or item.media is not None
        assert isinstance(item.metadata, dict)
        last = item.position
    return items


def check_catalog(data: bytes) -> None:
    """A catalog entry, None (a blank line) or ``InvalidInput``."""
    try:
        entry = parse_line(data.decode("utf-8", "surrogateescape"), Path("/nonexistent/catalog"))
    except InvalidInput:
        return
    assert entry is None or isinstance(entry, CatalogEntry)


def check_api_body(data: bytes) -> None:
    """The first byte picks a request model; the rest validates or raises ``ValidationError``."""
    if not data:
        return
    model = MODELS[data[0] % len(MODELS)]
    try:
        parsed = model.model_validate_json(data[1:])
    except ValidationError:
        return
    assert isinstance(parsed, model)
    parsed.model_dump_json()  # what the service logs and stores must serialise again


def check_prompt(text: str, slow_s: float = PROMPT_SLOW_S) -> None:
    """Folding keeps an offset per character, in order, and stays fast on any text."""
    start = time.perf_counter()
    folded = fold(text)
    is_deliberately_obfuscated(text)
    elapsed = time.perf_counter() - start
    assert len(folded.offsets) == len(folded.text)
    assert all(0 <= o < len(text) for o in folded.offsets)
    assert list(folded.offsets) == sorted(folded.offsets)
    assert elapsed < slow_s, f"{len(text)} characters took {elapsed:.1f} s"


def check_optout(data: bytes) -> None:
    """Opt-out reasons are strings, from any file bytes and any JSON object."""
    assert all(isinstance(r, str) for r in c2pa_reasons(data))
    try:
        loaded = json.loads(data)
    except (ValueError, RecursionError):
        return  # the tar reader records unreadable json (see read_tar)
    if isinstance(loaded, dict):
        assert all(isinstance(r, str) for r in metadata_reasons(loaded))
