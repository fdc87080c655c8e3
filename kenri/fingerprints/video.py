"""Sample video frames for fingerprinting: a few frames a second, scaled down while decoding."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kenri.errors import MediaError
from kenri.fingerprints.imageio import MAX_PIXELS

SAMPLE_FPS = 2.0
FRAME_MAX_SIDE = 512
MAX_DURATION_S = 4 * 3600
MAX_FRAME_RATE = 480  # frames per second a stream may declare (slow-motion phones: 240)
MAX_SAMPLED_FRAMES = 20_000
# Decoding cost is bounded even where a stream lies about its rate or length.
MAX_DECODED_FRAMES = MAX_DURATION_S * 60


@dataclass(frozen=True)
class SampledFrame:
    index: int  # running number of the sampled frame
    time_s: float
    rgb: np.ndarray


def check_stream(container, stream, name: str) -> None:
    """Refuse, from the headers alone, a stream too long, too fast or too large to decode."""
    if container.duration is not None and container.duration / 1e6 > MAX_DURATION_S:
        raise MediaError(f"{name}: longer than {MAX_DURATION_S} s")
    context = stream.codec_context
    if context is None:  # a codec FFmpeg has no decoder for (found by fuzzing)
        raise MediaError(f"{name}: not a readable video (no decoder for its codec)")
    width, height = context.width or 0, context.height or 0
    if width * height > MAX_PIXELS:
        raise MediaError(f"{name}: {width}x{height} frames exceed {MAX_PIXELS} pixels")
    rate = stream.average_rate or stream.guessed_rate
    if rate is not None and float(rate) > MAX_FRAME_RATE:
        raise MediaError(f"{name}: {float(rate):.0f} frames per second exceeds {MAX_FRAME_RATE}")


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
        check_stream(container, stream, name)
        step = 1.0 / fps
        next_t = 0.0
        produced = decoded = 0
        try:
            for frame in container.decode(stream):
                decoded += 1
                if decoded > MAX_DECODED_FRAMES:
                    raise MediaError(f"{name}: more than {MAX_DECODED_FRAMES} frames")
                t = frame.time if frame.time is not None else produced * step
                if t > MAX_DURATION_S:
                    raise MediaError(f"{name}: longer than {MAX_DURATION_S} s")
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
