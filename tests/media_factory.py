"""Media the tests make themselves: small videos encoded with PyAV (FFmpeg), busy scenes."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw


def make_video(
    path: Path, frames: int = 24, size: tuple[int, int] = (160, 120), fps: int = 12
) -> Path:
    """A moving colour gradient, H.264 in MP4 (or VP8 in WebM by the file suffix)."""
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
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


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
