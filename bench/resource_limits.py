"""Benchmark: peak memory and outcome for hostile inputs, each in a fresh process.

Every case runs in its own child process: it imports kenri, records its resident set
(``VmRSS``), runs one operation, and reports the peak (``VmHWM``) and the outcome (what was
refused and with which message). The baseline case decodes an ordinary 1024x768 PNG, so the
peak of a refusal can be read against it. Inputs are made by this script (no eval data).

    .venv/bin/python bench/resource_limits.py [--json]
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.evaldata import run_header  # noqa: E402


def _png(path: Path, width: int, height: int, channels: int = 3, bits: int = 8) -> Path:
    """A PNG of zeros written row by row: tiny on disk, ``width*height*channels*bits/8`` raw."""
    colour = {1: 0, 3: 2, 4: 6}[channels]

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\0" * (1 + width * channels * bits // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bits, colour, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
                     + chunk(b"IEND", b""))  # fmt: skip
    return path


def _video(path: Path, rate: int, frames: int, size: tuple[int, int], pts_step: int = 1) -> Path:
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        rng = np.random.default_rng(0)
        for i in range(frames):
            pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i * pts_step
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


CHILD = r"""
import json, sys, time
def mem(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
import kenri, kenri.fingerprints.video, kenri.fingerprints.imageio, kenri.catalog  # noqa
from kenri.errors import KenriError
from fastapi.testclient import TestClient
case, arg = sys.argv[1], sys.argv[2]
setup = {}
if case == "api":
    import tempfile
    from kenri.service.app import create_app
    from kenri.service.tenants import Tenants
    home = tempfile.mkdtemp()
    app = kenri.open(home, f"sqlite:///{home}/r.sqlite")
    with app.transaction() as tx:
        tenants = Tenants(tx.registry, "bench")
        _, key = tenants.issue_key(tenants.create("bench", "licensee"))
    client = TestClient(create_app(app, deliver_webhooks=False))
    body = open(arg, "rb").read() if arg != "-" else b""
before = mem("VmRSS")
start = time.perf_counter()
outcome = "accepted"
try:
    if case == "image":
        rgb = kenri.fingerprints.imageio.load_image(arg)
        outcome = f"accepted: {rgb.shape[1]}x{rgb.shape[0]}"
    elif case == "video":
        frames = sum(1 for _ in kenri.fingerprints.video.sample_frames(arg))
        outcome = f"accepted: {frames} frames sampled"
    elif case == "catalog":
        home = __import__("tempfile").mkdtemp()
        app = kenri.open(home, f"sqlite:///{home}/r.sqlite")
        report = kenri.catalog.import_catalog(app, arg)
        outcome = "; ".join(f"line {r.line}: {r.error}" for r in report.errors) or "accepted"
    elif case == "api":
        response = client.post("/v1/screen/prompt", content=body, headers={
            "authorization": f"Bearer {key}", "content-type": "application/json"})
        outcome = f"HTTP {response.status_code}: {response.text[:90]}"
except KenriError as exc:
    outcome = f"refused: {exc}"
elapsed = time.perf_counter() - start
print(json.dumps({"before_mb": before, "peak_mb": mem("VmHWM"), "seconds": elapsed,
                  "outcome": outcome}))
"""


def _child(case: str, arg: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, case, arg], capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    if done.returncode != 0:
        return {"outcome": f"child failed ({done.returncode}): {done.stderr[-300:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def cases(folder: Path) -> list[tuple[str, str, str]]:
    """(label, child case, argument)."""
    from PIL import Image

    normal = folder / "normal.png"
    Image.effect_noise((1024, 768), 50).convert("RGB").save(normal)
    catalog_line = folder / "long_line.jsonl"
    catalog_line.write_text('{"holder": "H", "work": "W", "names": ["' + "x" * 200_000_000
                            + '"]}\n')  # fmt: skip
    deep = folder / "deep.json"
    deep.write_bytes(b'{"prompt": ' + b"[" * 1_000_000 + b"]" * 1_000_000 + b"}")
    huge_body = folder / "huge.json"
    huge_body.write_bytes(b'{"prompt": "' + b"a" * 100_000_000 + b'"}')
    long_prompt = folder / "long_prompt.json"
    long_prompt.write_bytes(b'{"prompt": "' + b"a" * 5_000_000 + b'"}')
    return [
        ("baseline: 1024x768 PNG", "image", str(normal)),
        ("PNG header 50,000 x 50,000 (2.5 G pixels)", "image",
         str(_png(folder / "header.png", 50_000, 50_000, bits=8))),
        ("PNG 8,000 x 8,000 RGB, zeros (at the 64 M pixel limit; 192 MB inflated)", "image",
         str(_png(folder / "at_limit.png", 8_000, 8_000))),
        ("PNG 8,000 x 8,000 RGBA 16-bit (512 MB inflated)", "image",
         str(_png(folder / "rgba16.png", 8_000, 8_000, channels=4, bits=16))),
        ("PNG 8,001 x 8,000 (just past the limit)", "image",
         str(_png(folder / "past.png", 8_001, 8_000))),
        ("video 640x360, 10 s", "video", str(_video(folder / "v10.mp4", 24, 240, (640, 360)))),
        ("video 640x360, 60 s", "video",
         str(_video(folder / "v60.mp4", 24, 1440, (640, 360)))),
        ("video at 1,000 fps", "video", str(_video(folder / "fast.mp4", 1000, 200, (64, 48)))),
        ("video of 6 hours (3 frames)", "video",
         str(_video(folder / "long.mp4", 1, 3, (64, 48), pts_step=3 * 3600))),
        ("video 8,200 x 8,200 frames", "video",
         str(_video(folder / "huge.mp4", 1, 1, (8200, 8200)))),
        ("catalog line of 200 MB", "catalog", str(catalog_line)),
        ("API: JSON nested 1,000,000 deep (2 MB)", "api", str(deep)),
        ("API: 5 MB prompt", "api", str(long_prompt)),
        ("API: 100 MB JSON body", "api", str(huge_body)),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run_header("resource_limits")), file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, case, arg in cases(Path(tmp)):
            started = time.perf_counter()
            result = _child(case, arg)
            result["label"], result["wall_s"] = label, time.perf_counter() - started
            rows.append(result)
            if not args.json:
                grow = result.get("peak_mb", 0) - result.get("before_mb", 0)
                print(f"| {label} | {result['outcome'][:110]} | {result.get('before_mb', 0):.0f}"
                      f" | {result.get('peak_mb', 0):.0f} | {grow:+.0f} |"
                      f" {result.get('seconds', 0):.2f} |", flush=True)  # fmt: skip
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
