"""Media the tests make themselves: small videos encoded with PyAV (FFmpeg)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


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
