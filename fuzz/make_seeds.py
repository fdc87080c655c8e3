"""Write the seed corpus of every fuzz target into ``fuzz/corpus/<target>/`` (gitignored).

Everything is made here by code: small valid PNG, JPEG, GIF (animated), WebP, BMP and TIFF
images, a tiny H.264 MP4 and VP8 WebM (PyAV), webdataset tars, catalog lines, API bodies,
prompts and opt-out metadata. Run: ``python fuzz/make_seeds.py``.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path

import av
import numpy as np
from PIL import Image

CORPUS = Path(__file__).resolve().parent / "corpus"


def _picture(size: tuple[int, int] = (16, 12), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w, h = size
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    rgb[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    rgb[2:6, 2:6] = rng.integers(0, 255, (4, 4, 3))
    return rgb


def images() -> dict[str, bytes]:
    rgb = Image.fromarray(_picture())
    out: dict[str, bytes] = {}

    def save(name: str, image: Image.Image, fmt: str, **kw) -> None:
        buf = io.BytesIO()
        image.save(buf, fmt, **kw)
        out[name] = buf.getvalue()

    save("rgb.png", rgb, "PNG")
    save("rgba.png", rgb.convert("RGBA"), "PNG")
    save("palette.png", rgb.convert("P"), "PNG", transparency=0)
    save("gray.png", rgb.convert("L"), "PNG")
    save("rgb.jpg", rgb, "JPEG", quality=80)
    save("progressive.jpg", rgb, "JPEG", progressive=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotated, so exif_transpose runs
    save("exif.jpg", rgb, "JPEG", exif=exif.tobytes())
    frames = [Image.fromarray(_picture(seed=i)).convert("P") for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    out["animated.gif"] = buf.getvalue()
    save("lossy.webp", rgb, "WEBP", quality=50)
    save("lossless.webp", rgb.convert("RGBA"), "WEBP", lossless=True)
    save("rgb.bmp", rgb, "BMP")
    save("rgb.tiff", rgb, "TIFF")
    return out


def videos() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, codec in (("tiny.mp4", "libx264"), ("tiny.webm", "libvpx")):
            path = Path(tmp) / name
            with av.open(str(path), "w") as container:
                stream = container.add_stream(codec, rate=4)
                stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
                for i in range(4):
                    rgb = np.roll(_picture((32, 24), seed=i), i * 4, axis=1)
                    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                    for packet in stream.encode(frame):
                        container.mux(packet)
                for packet in stream.encode():
                    container.mux(packet)
            out[name] = path.read_bytes()
    return out


def _tar(members: list[tuple[str, bytes]], mode: str = "w", kind: bytes = tarfile.REGTYPE) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.type = len(data), kind
            if kind != tarfile.REGTYPE:
                info.size, info.linkname = 0, "/etc/passwd"
            archive.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


def webdataset(picture: bytes) -> dict[str, bytes]:
    meta = json.dumps({"url": "https://example.org/a.png", "X-Robots-Tag": "noai"}).encode()
    item = [("000001.png", picture), ("000001.txt", b"a yellow star"), ("000001.json", meta)]
    two = item + [("000002.png", picture), ("000002.json", b'{"caption": "c"}')]
    return {
        "one.tar": _tar(item),
        "two.tar": _tar(two),
        "two.tar.gz": _tar(two, "w:gz"),
        "unsafe.tar": _tar([("../000001.png", picture), ("/abs.txt", b"x")]),
        "link.tar": _tar([("000001.png", b"")], kind=tarfile.SYMTYPE),
        "long-name.tar": _tar([("d/" + "k" * 120 + ".png", picture)]),
    }


CATALOG = [
    {"holder": "Studio Kumo", "country": "JP", "work": "Hoshimaru Adventures",
     "work_titles": ["星丸の冒険"], "character": "Hoshimaru",
     "names": ["星丸", "ほしまる", {"text": "Hoshimaru", "script": "romaji", "lang": "ja"}],
     "descriptions": ["a yellow five-pointed star with pink cheeks"],
     "references": ["art/hoshimaru.png", "/abs/ref.png"]},
    {"holder": "Studio Kumo", "work": "Hoshimaru Adventures", "character": None},
    {"holder": " ", "work": 3},
]  # fmt: skip

API_BODIES = {
    "TenantIn": {"name": "Acme AI", "role": "licensee", "country": "US"},
    "KeyIn": {"label": "ci", "expires_in_days": 30},
    "WorkIn": {"title": "Hoshimaru", "titles": [{"text": "星丸", "script": "kanji"}]},
    "CharacterIn": {"name": "Hoshimaru", "names": [{"text": "ほしまる"}], "descriptions": ["s"]},
    "NamesIn": {"names": [{"text": "Hoshi", "lang": "en"}]},
    "GrantIn": {"licensee": "Acme", "work_id": 1, "character_id": 2, "purposes": ["generation"],
                "territories": ["JP"], "valid_from": "2026-01-01T00:00:00Z",
                "valid_until": "2027-01-01", "fee": "JPY 1", "revenue_share": 0.1,
                "terms": "t", "users": ["u1"]},
    "PersonIn": {"name": "A Person", "aliases": ["P"]},
    "RevokeIn": {"reason": "contract ended"},
    "PromptIn": {"prompt": "Hoshimaru on a beach", "purpose": "generation", "territory": "JP",
                 "user": "u"},
    "GenerationIn": {"decision": "allow", "prompt": "p", "grants": [1], "pdq": ["00ff"],
                     "media_base64": "aGVsbG8=", "keep_media": True, "details": {"a": [1, {}]}},
    "ClaimIn": {"kind": "claim", "message": "that is ours", "generation_id": 1,
                "licensee": "Acme", "work_id": 1, "character_id": 1},
    "ClaimActionIn": {"action": "resolve", "note": "n", "actions": ["a"], "pattern": "p.*"},
    "TenantIn-bad": {"name": "", "role": "king"},
    "WebhookIn": {"url": "https://example.org/hook", "secret": "s" * 16},
}  # fmt: skip

PROMPTS = [
    "Hoshimaru on a beach, 4k, 35mm",
    "P1k@chu and Ch4rm4nd3r",
    "ピカチュウ と ﾋﾟｶﾁｭｳ と ぴかちゅう",
    "Ｐｏｋéｍｏｎ — Роkémоn",
    "piiiikachuuuu from mew",
    "東方Project 々 ゔ ゙ ゚ ｰ ッ",
    "e\u0301\u0301 \u200b\u202e zalgo o\u0336\u0337",
]


def write() -> None:
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    pictures = images()
    sets: dict[str, dict[str, bytes]] = {
        "images": pictures,
        "video": videos(),
        "webdataset": webdataset(pictures["rgb.png"]),
        "catalog": {f"line{i}.jsonl": json.dumps(c, ensure_ascii=i != 0).encode()
                    for i, c in enumerate(CATALOG)},
        "prompt": {f"prompt{i}.txt": p.encode() for i, p in enumerate(PROMPTS)},
        "optout": {
            "headers.json": json.dumps({"headers": {"x-robots-tag": "noimageai"},
                                        "tdm_reservation": 1}).encode(),
            "nested.json": b'{"a": [{"b": {"X-Robots-Tag": ["noai", null]}}]}',
            "c2pa.bin": b"\x00jumb c2pa.training-mining \xa1 use notAllowed \x00",
        },
    }  # fmt: skip
    models = sorted(
        [
            "ClaimActionIn",
            "ClaimIn",
            "CharacterIn",
            "GenerationIn",
            "GrantIn",
            "KeyIn",
            "NameIn",
            "NamesIn",
            "PersonIn",
            "PromptIn",
            "RevokeIn",
            "TenantIn",
            "WebhookIn",
            "WorkIn",
        ]
    )  # the order fuzz/api_bodies.py picks from, by the first byte
    sets["api_bodies"] = {
        f"{name}.json": bytes([models.index(name.split("-")[0])]) + json.dumps(body).encode()
        for name, body in API_BODIES.items()
    }
    for target, files in sets.items():
        folder = CORPUS / target
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        print(f"{target}: {len(files)} seeds, {sum(map(len, files.values()))} bytes")


if __name__ == "__main__":
    write()
