"""Media and catalogs the tests make themselves (PyAV videos, busy scenes), and kenri as a child."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw


def make_video(
    path: Path,
    frames: int = 24,
    size: tuple[int, int] = (160, 120),
    fps: int = 12,
    pts_step: int = 1,
) -> Path:
    """A moving colour gradient, H.264 in MP4 (or VP8 in WebM by the file suffix).

    ``pts_step`` spaces the frames' timestamps (in 1/``fps`` units): 3600 * fps makes each frame
    an hour apart, a long video in a few frames.
    """
    codec = "libvpx" if path.suffix == ".webm" else "libx264"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        w, h = size
        for i in range(frames):
            x = np.linspace(0, 255, w).astype(np.int64)[None, :].repeat(h, 0)
            y = np.linspace(0, 255, h).astype(np.int64)[:, None].repeat(w, 1)
            rgb = np.stack([(x + i * 8) % 256, y, np.full_like(x, (i * 20) % 256)], axis=-1)
            frame = av.VideoFrame.from_ndarray(rgb.astype(np.uint8), format="rgb24")
            frame.pts = i * pts_step
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def picture_catalog(folder: Path, name: str, numbers: range, label: str) -> Path:
    """A catalog of one character per number, each with its own busy picture (seeded by it).

    The same number always gives the same picture, so two catalogs may share lines.
    """
    art = folder / "art"
    art.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in numbers:
        image = art / f"{i}.png"
        if not image.exists():
            Image.fromarray(unrelated_picture(300 + i)).save(image)
        lines.append({
            "holder": f"{label} Holder {i % 3}", "country": "JP", "work": f"{label} Work {i}",
            "character": f"{label} Character {i}", "names": [f"{label}ling {i}"],
            "references": [f"art/{i}.png"],
        })  # fmt: skip
    path = folder / name
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def kenri_process(home: Path, db_url: str, *args: str, **popen) -> subprocess.Popen:
    """``kenri --home HOME --db URL ARGS...`` as a child process (stdout dropped unless asked)."""
    command = [sys.executable, "-m", "kenri", "--home", str(home), "--db", db_url, *args]
    popen.setdefault("stdout", subprocess.DEVNULL)
    return subprocess.Popen(command, stderr=subprocess.PIPE, **popen)


def unrelated_picture(seed: int = 7) -> np.ndarray:
    """A busy scene drawn from a seed: shapes and text nobody registered."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (640, 480), tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.integers(0, 640), rng.integers(0, 480)
        w, h = rng.integers(10, 120, 2)
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
        else:
            draw.rectangle((x, y, x + w, y + h), outline=colour, width=3)
    return np.asarray(image)


def write_frames(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 480, 360, "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def video_with_stretch(
    path: Path, art: np.ndarray, start_s: float, length_s: float, scenery: int = 100
) -> Path:
    """10 s of unrelated frames with the artwork shown from ``start_s`` for ``length_s``."""
    fps = 10
    frames = []
    for i in range(10 * fps):
        frame = unrelated_picture(scenery + i // 5).copy()[:360, :480]
        if start_s <= i / fps < start_s + length_s:
            frame[40:320, 100:380] = cv2.resize(art, (280, 280))
        frames.append(frame)
    return write_frames(path, frames, fps)
