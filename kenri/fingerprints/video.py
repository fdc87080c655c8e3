"""Sample video frames for fingerprinting: a few frames a second, scaled down while decoding."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kenri.errors import MediaError

SAMPLE_FPS = 2.0
FRAME_MAX_SIDE = 512
MAX_DURATION_S = 4 * 3600
MAX_SAMPLED_FRAMES = 20_000


@dataclass(frozen=True)
class SampledFrame:
    index: int  # running number of the sampled frame
    time_s: float
    rgb: np.ndarray


def sample_frames(
    path: str | os.PathLike[str], fps: float = SAMPLE_FPS, max_side: int = FRAME_MAX_SIDE
) -> Iterator[SampledFrame]:
    """Frames at ``fps`` (by presentation time); raises ``MediaError`` when nothing decodes.

    A stream that breaks part-way (truncated file) ends the iteration after the frames that
    did decode; the caller sees how far it got from the last ``time_s``.
    """
    import av

    name = Path(path).name
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"{name}: not a readable video ({exc})") from None
    with container:
        if not container.streams.video:
            raise MediaError(f"{name}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if container.duration is not None and container.duration / 1e6 > MAX_DURATION_S:
            raise MediaError(f"{name}: longer than {MAX_DURATION_S} s")
        step = 1.0 / fps
        next_t = 0.0
        produced = 0
        try:
            for frame in container.decode(stream):
                t = frame.time if frame.time is not None else produced * step
                if t + 1e-6 < next_t:
                    continue
                width, height = frame.width, frame.height
                scale = min(1.0, max_side / max(width, height))
                out_w, out_h = max(2, int(width * scale)) & ~1, max(2, int(height * scale)) & ~1
                rgb = frame.reformat(width=out_w, height=out_h, format="rgb24").to_ndarray()
                yield SampledFrame(produced, float(t), rgb)
                produced += 1
                next_t = max(next_t + step, t + step * 0.5)
                if produced >= MAX_SAMPLED_FRAMES:
                    break
        except av.FFmpegError as exc:
            if produced == 0:
                raise MediaError(f"{name}: not a readable video ({exc})") from None
        if produced == 0:
            raise MediaError(f"{name}: no decodable video frame")
