"""Every parser of outside input keeps its contract on what fuzzing found, and on hand-made
hostile inputs: it returns, or it raises its documented error class; nothing else.

``tests/fuzz_regressions/<target>/`` holds the inputs the atheris campaigns (``fuzz/``, see
docs/reliability.md) crashed on before the fix; each folder is fed to the parser its target
fuzzes. Atheris itself is not needed here.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from pydantic import BaseModel

from fuzz.contracts import (
    MODELS,
    check_api_body,
    check_catalog,
    check_image,
    check_optout,
    check_prompt,
    check_video,
    read_tar,
)
from kenri.catalog.schema import parse_line
from kenri.errors import InvalidInput, MediaError
from kenri.fingerprints.imageio import load_image
from kenri.fingerprints.video import sample_frames
from kenri.screening.dataset.optout import c2pa_reasons, metadata_reasons
from kenri.screening.prompt.normalize import fold, is_deliberately_obfuscated
from kenri.service import schemas

REGRESSIONS = Path(__file__).parent / "fuzz_regressions"
DEEP = 10_000


def _prompt(text: str) -> None:
    is_deliberately_obfuscated("warm")  # the first call loads the word lists (about 1 s)
    check_prompt(text, slow_s=1.0)


CHECKS: dict[str, Callable[[bytes, Path], object]] = {
    "images": lambda data, _: check_image(data),
    "video": lambda data, folder: check_video(data, folder / "input.mp4"),
    "webdataset": lambda data, folder: read_tar(data, folder / "shard.tar"),
    "catalog": lambda data, _: check_catalog(data),
    "api_bodies": lambda data, _: check_api_body(data),
    "prompt": lambda data, _: _prompt(data.decode("utf-8", "replace")),
    "optout": lambda data, _: check_optout(data),
}
FOUND = sorted(p for p in REGRESSIONS.glob("*/*") if p.is_file())


def test_every_regression_folder_has_a_check():
    folders = {p.name for p in REGRESSIONS.iterdir() if p.is_dir()}
    assert folders and folders <= set(CHECKS)


@pytest.mark.parametrize("path", FOUND, ids=[f"{p.parent.name}/{p.name[:20]}" for p in FOUND])
def test_fuzz_regression(path: Path, tmp_path: Path):
    CHECKS[path.parent.name](path.read_bytes(), tmp_path)


# Hand-made hostile inputs, so that each parser's test can fail.


def _png(size: tuple[int, int] = (64, 48)) -> bytes:
    noise = np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG")
    return buffer.getvalue()


def _animated_gif() -> bytes:
    frames = [Image.new("P", (8, 8), i) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50)
    return buffer.getvalue()


def _bomb_png() -> bytes:
    """A valid PNG header claiming 100,000 x 100,000 pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    head = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n",
        _png()[:2000],  # truncated in the pixel data
        _animated_gif()[:-20],  # the last frame cut short
        _bomb_png(),
        b"GIF89a" + b"\xff" * 64,
        b"II*\x00" + b"\x00" * 64,  # a TIFF header and nothing else
        bytes(range(256)) * 4,
    ],
    ids=[
        "empty",
        "png-magic",
        "truncated-png",
        "truncated-gif",
        "bomb",
        "gif-junk",
        "tiff",
        "noise",
    ],
)
def test_hostile_images(data: bytes):
    check_image(data)


def test_a_truncated_image_is_a_media_error_not_a_crash():
    with pytest.raises(MediaError):
        load_image(_png()[:2000])
    with pytest.raises(MediaError, match="exceeds"):
        load_image(_bomb_png())


def _mp4(tmp_path: Path) -> bytes:
    path = tmp_path / "tiny.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=4)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        for i in range(4):
            rgb = np.full((24, 32, 3), i * 40, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes()


def test_hostile_videos(tmp_path: Path):
    mp4 = _mp4(tmp_path)
    for data in (b"", mp4[: len(mp4) // 2], mp4[:64], mp4[:-64], _png(), b"\x00" * 4096):
        check_video(data, tmp_path / "input.mp4")
    for data in (b"", b"\x00" * 4096, mp4[:64]):
        with pytest.raises(MediaError):
            list(sample_frames(_write(tmp_path / "bad.mp4", data)))
    assert len(list(sample_frames(_write(tmp_path / "cut.mp4", mp4[:-64])))) >= 1


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _tar(members: list[tuple[str, bytes]], kind: bytes = tarfile.REGTYPE) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                info.linkname = "../../etc/passwd"
                archive.addfile(info)
    return buffer.getvalue()


def test_hostile_tars_become_error_items(tmp_path: Path):
    png = _png()
    members = [("../evil.png", png), ("/abs.png", png), ("a\\b.png", png)]
    unsafe = read_tar(_tar(members), tmp_path / "shard.tar")
    assert [i.error.split(":")[0] for i in unsafe] == ["unsafe member path"] * 3
    link = read_tar(_tar([("k.png", b"")], kind=tarfile.SYMTYPE), tmp_path / "shard.tar")
    assert "not a regular file" in link[0].error
    good = _tar([("000001.png", png), ("000001.txt", b"caption")] * 1)
    truncated = read_tar(good[:700], tmp_path / "shard.tar")
    assert truncated and "truncated or corrupt" in truncated[-1].error
    for data in (b"", b"\x1f\x8b" + b"\x00" * 100, b"BZh9" + b"\xff" * 100, b"x" * 1024):
        read_tar(data, tmp_path / "shard.tar")


def test_item_json_nested_too_deep_is_unreadable_metadata_not_a_crash(tmp_path: Path):
    """json.loads raises RecursionError (not a ValueError) past ~1,000 levels; it escaped
    read_items and failed the whole shard."""
    deep = b"[" * DEEP + b"]" * DEEP
    items = read_tar(_tar([("1.png", _png()), ("1.json", deep)]), tmp_path / "shard.tar")
    assert items[0].metadata == {"_unreadable_json": True} and items[0].error is None


@pytest.mark.parametrize(
    "line",
    [
        "[" * DEEP + "]" * DEEP,
        '{"holder": ' + "[" * DEEP + "]" * DEEP + "}",
        '{"holder": "\ud800", "work": "w", "names": ["\udfff"]}',
        '{"holder": "h", "work": "w", "names": [{"text": "n", "script": 1}]}',
        '{"holder": "h", "work": "w", "references": ["a\\u0000b"]}',
        '{"holder": "h", "work": "w", "names": [' + '"n",' * 1001 + '"n"]}',
        '{"holder": "h", "work": "w", "country": 1e999}',
        '{"holder": 1' + "0" * 5000 + "}",
        "\x00",
    ],
    ids=[
        "deep",
        "deep-field",
        "surrogates",
        "script-type",
        "nul",
        "many",
        "inf",
        "bigint",
        "nul-line",
    ],
)
def test_hostile_catalog_lines(line: str):
    check_catalog(line.encode("utf-8", "surrogatepass"))
    if "\ud800" not in line and line != "\x00":  # those two are valid entries
        with pytest.raises(InvalidInput):
            parse_line(line, Path("/catalog"))


def test_a_number_past_python_s_digit_limit_is_invalid_input():
    """json.loads raises a plain ValueError (not JSONDecodeError) for an integer of more
    than 4,300 digits; it escaped parse_line and stopped the import."""
    with pytest.raises(InvalidInput, match="invalid JSON"):
        parse_line('{"holder": "h", "work": "w", "country": ' + "9" * 5000 + "}", Path("/c"))


def _body(model: type[BaseModel], body: str | bytes) -> bytes:
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return bytes([MODELS.index(model)]) + raw


GEN = '{"decision": "allow", "details": '
GRANT = '{"licensee": "a", "work_id": 1, "purposes": ["x"]'
API_BODIES = {
    "deep-list": _body(schemas.GenerationIn, GEN + "[" * DEEP + "]" * DEEP + "}"),
    "deep-dict": _body(schemas.GenerationIn, GEN + '{"a":' * DEEP + "1" + "}" * DEEP + "}"),
    "surrogates": _body(schemas.PromptIn, '{"prompt": "\\ud800\\udfff\\ud800"}'),
    "bad-utf8": _body(schemas.PromptIn, b'{"prompt": "\xff\xfe"}'),
    "bigint": _body(schemas.GrantIn, GRANT + ', "character_id": 1' + "0" * 400 + "}"),
    "nan": _body(schemas.GrantIn, GRANT + ', "revenue_share": NaN}'),
    "date": _body(schemas.GrantIn, GRANT + ', "valid_from": "9999-99-99"}'),
    "dup-key": _body(schemas.TenantIn, '{"name": "a", "role": "holder", "name": "b"}'),
    "null": _body(schemas.KeyIn, "null"),
}


@pytest.mark.parametrize("data", API_BODIES.values(), ids=API_BODIES.keys())
def test_hostile_api_bodies(data: bytes):
    check_api_body(data)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 10_000,  # an API prompt at its limit: quadratic in _collapse took 4 s
        "Pika" + "a" * 10_000 + "chu",
        "ピ" * 5_000 + "ー" * 5_000,
        "\ud800\udfff" * 100 + "a\udc80b",
        "e" + "\u0301" * 5_000,
        "\u202e\u200b\ufeff" * 1_000,
        "ﬀ" * 3_000 + "1" * 3_000,
        "\U0001f600" * 3_000,
    ],
    ids=["repeated", "long-name", "kana", "surrogates", "combining", "format", "ligature", "emoji"],
)
def test_hostile_prompts(text: str):
    _prompt(text)


def test_folding_stays_linear_on_a_repeated_letter():
    """``_collapse`` rescanned the whole run for every repeated letter: 10,000 "a" took 4 s,
    20,000 took 18 s. Now both are milliseconds and fold to one letter."""
    assert fold("a" * 20_000).text == "a"
    assert fold("a@a").text == "aa" and fold("ピーカー").text == "pika"


def test_hostile_opt_out_metadata():
    nested: dict = {"x-robots-tag": "noai"}
    for _ in range(DEEP):
        nested = {"n": [nested]}
    assert metadata_reasons(nested) == ["opt-out: X-Robots-Tag noai"]
    assert metadata_reasons({1: None, (2, 3): [[], {}], "tdm_reservation": [1]}) == []
    data = b"\x00" * 100_000 + b"c2pa.training-mining" + b"\xff" * 4100 + b"notAllowed"
    assert c2pa_reasons(data) == []  # past the 4 KiB window
    check_optout(b"[" * DEEP + b"]" * DEEP)
    check_optout(b'{"X-Robots-Tag": ' + b"1" * 5000 + b"}")
