"""Encoding and decoding generated media: what the Guard writes and what tracing reads."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from PIL import Image

from kenri.errors import MediaError

IMAGE_FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
VIDEO_CRF = 18  # visually lossless H.264: the watermark must survive the Guard's own encode


def encode_image(rgb: np.ndarray, fmt: str = "png", quality: int = 95) -> tuple[bytes, str]:
    if fmt not in IMAGE_FORMATS:
        raise MediaError(f"unknown image format {fmt!r} (known: {', '.join(IMAGE_FORMATS)})")
    buffer = io.BytesIO()
    options = {"quality": quality} if fmt in ("jpeg", "webp") else {}
    Image.fromarray(np.ascontiguousarray(rgb, np.uint8)).save(buffer, fmt.upper(), **options)
    return buffer.getvalue(), IMAGE_FORMATS[fmt]


def encode_video(frames: Sequence[np.ndarray], fps: float, crf: int = VIDEO_CRF) -> bytes:
    """H.264 in MP4 (yuv420p, even sides) from RGB frames of one size."""
    import av

    if not frames:
        raise MediaError("a video needs at least one frame")
    h, w = frames[0].shape[:2]
    with tempfile.NamedTemporaryFile(suffix=".mp4") as handle:
        with av.open(handle.name, "w") as container:
            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height = w - w % 2, h - h % 2
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf)}
            for rgb in frames:
                if rgb.shape[:2] != (h, w):
                    raise MediaError("all frames of a video must have one size")
                frame = av.VideoFrame.from_ndarray(
                    np.ascontiguousarray(rgb[: stream.height, : stream.width]), format="rgb24"
                )
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return open(handle.name, "rb").read()  # noqa: SIM115 - the temp file closes with the block


def decode_video(data: bytes, max_frames: int | None = None) -> tuple[list[np.ndarray], float]:
    """All frames (or the first ``max_frames``) at full size, and the frame rate."""
    import av

    frames: list[np.ndarray] = []
    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or 25)
            for frame in container.decode(stream):
                frames.append(frame.to_ndarray(format="rgb24"))
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except (av.FFmpegError, IndexError, ValueError) as exc:
        if not frames:
            raise MediaError(f"not a readable video: {exc}") from None
    if not frames:
        raise MediaError("no frame of the video could be decoded")
    return frames, fps
