"""The watermark on its own: ids round-trip, ordinary edits keep them, and pictures that were
never marked (or were marked with another id) never read as a wrong id."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from kenri.demo.artwork import captain_comet, lantern_town
from kenri.demo.generator import toy_image
from kenri.provenance import watermark


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


@pytest.mark.parametrize("payload", [0, 1, 123_456_789, 2**32 - 1])
def test_ids_round_trip_under_jpeg_resize_and_crop(payload: int) -> None:
    picture = toy_image(f"round trip {payload}", (640, 480))
    marked = watermark.embed(picture, payload)
    assert watermark.psnr(marked, picture) >= 40
    h, w = marked.shape[:2]
    edits = {
        "as is": marked,
        "jpeg q50": _jpeg(marked, 50),
        "half": np.asarray(Image.fromarray(marked).resize((w // 2, h // 2), Image.LANCZOS)),
        "crop": marked[h // 20 : h - h // 20, w // 10 :],
    }
    for name, edited in edits.items():
        found = watermark.extract(edited)
        assert found is not None and found[0] == payload, name


def test_unmarked_pictures_read_as_nothing() -> None:
    pictures = [toy_image(f"unmarked {i}", (512, 384)) for i in range(12)]
    pictures += [np.asarray(f().convert("RGB")) for f in (captain_comet, lantern_town)]
    pictures.append(np.full((300, 400, 3), 128, np.uint8))  # flat grey
    rng = np.random.default_rng(0)
    pictures.append(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8))  # noise
    for picture in pictures:
        assert watermark.extract(picture) is None


def test_a_second_mark_does_not_make_up_a_third_id() -> None:
    picture = toy_image("twice", (512, 384))
    both = watermark.embed(watermark.embed(picture, 41), 42)
    found = watermark.extract(both)
    assert found is None or found[0] in (41, 42)


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="RGB"):
        watermark.embed(np.zeros((10, 10), np.uint8), 1)
    with pytest.raises((ValueError, OverflowError)):
        watermark.embed(np.zeros((64, 64, 3), np.uint8), 2**32)
