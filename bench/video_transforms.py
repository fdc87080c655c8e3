"""Video edits for the video copy benchmark, read and written with PyAV (which bundles FFmpeg).

Why PyAV and not the ffmpeg CLI: ``av`` is already a kenri dependency, so the benchmark needs
no extra binary, and working frame by frame lets the benchmark know exactly which reference
frames went into a query (the ground truth) instead of trusting filter arithmetic.

Frame transforms are ``rgb -> rgb`` on HxWx3 uint8 arrays; stream transforms (speed change,
splicing) work on the frame sequence and are built in ``bench/video_copy.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

FrameTransform = Callable[[np.ndarray], np.ndarray]


def read_frames(
    path: Path, start: float = 0.0, end: float = float("inf"), size: tuple[int, int] | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """(presentation time, RGB) of every frame with start <= time < end, optionally resized.

    Decodes from the beginning (no seek) so that frame times are exact on any container.
    """
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            t = frame.time if frame.time is not None else index / float(stream.average_rate or 25)
            if t < start - 1e-3:
                continue
            if t >= end - 1e-3:
                break
            if size is None:
                yield t, frame.to_ndarray(format="rgb24")
            else:
                yield t, frame.reformat(width=size[0], height=size[1], format="rgb24").to_ndarray()


def write_video(
    path: Path,
    frames: Iterable[np.ndarray],
    fps: int = 24,
    bitrate: int | None = None,
    crf: int = 23,
    preset: str = "veryfast",
) -> int:
    """Encode RGB frames as H.264 in MP4 (constant ``fps``); returns the number of frames.

    ``bitrate`` (bits/s) replaces the constant-quality ``crf`` for a low-bitrate re-encode.
    """
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        raise ValueError(f"{path.name}: no frames to write")
    height, width = first.shape[0] & ~1, first.shape[1] & ~1
    count = 0
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        options = {"preset": preset}
        if bitrate is None:
            options["crf"] = str(crf)
        else:
            stream.bit_rate = bitrate
        stream.options = options
        for rgb in itertools.chain([first], iterator):
            rgb = np.ascontiguousarray(rgb[:height, :width])
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
            count += 1
        for packet in stream.encode():
            container.mux(packet)
    return count


def center_crop(rgb: np.ndarray, keep: float = 0.7) -> np.ndarray:
    """The central ``keep`` of each side (0.7 keeps 49% of the area), as re-uploads crop."""
    h, w = rgb.shape[:2]
    ch, cw = int(h * keep) & ~1, int(w * keep) & ~1
    y, x = (h - ch) // 2, (w - cw) // 2
    return np.ascontiguousarray(rgb[y : y + ch, x : x + cw])


def overlay(rgb: np.ndarray) -> np.ndarray:
    """A caption bar with text over the lower fifth and an opaque logo box in a corner."""
    out = rgb.copy()
    h, w = out.shape[:2]
    bar = out[int(h * 0.78) : int(h * 0.96), int(w * 0.04) : int(w * 0.96)]
    bar[:] = (bar.astype(np.uint16) * 2 // 5).astype(np.uint8)  # darkened, 60% opaque
    scale = h / 360
    cv2.putText(
        out,
        "WATCH FULL MOVIE FREE - link in bio",
        (int(w * 0.07), int(h * 0.9)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.9 * scale,
        (255, 255, 255),
        max(1, int(2 * scale)),
        cv2.LINE_AA,
    )
    x0, y0, side = int(w * 0.78), int(h * 0.05), int(h * 0.18)
    cv2.rectangle(out, (x0, y0), (x0 + side * 2, y0 + side), (230, 40, 40), thickness=-1)
    cv2.putText(
        out,
        "TV24",
        (x0 + int(side * 0.2), y0 + int(side * 0.7)),
        cv2.FONT_HERSHEY_DUPLEX,
        1.2 * scale,
        (255, 255, 255),
        max(1, int(2 * scale)),
        cv2.LINE_AA,
    )
    return out


def mirror(rgb: np.ndarray) -> np.ndarray:
    """Horizontal flip: a cheap way re-uploaders dodge matching."""
    return np.ascontiguousarray(rgb[:, ::-1])


def identity(rgb: np.ndarray) -> np.ndarray:
    return rgb


def rescale_clip(
    source: Path, target: Path, start: float, end: float, size: tuple[int, int], fps: int = 24
) -> int:
    """Re-encode ``source`` [start, end) at ``size`` as H.264 (the speed test's big clip).

    Frames stay in YUV (no RGB round trip), so making a 1080p clip costs only the encode.
    """
    count = 0
    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        video = src.streams.video[0]
        video.thread_type = "AUTO"
        out = dst.add_stream("libx264", rate=fps)
        out.width, out.height, out.pix_fmt = size[0], size[1], "yuv420p"
        out.options = {"preset": "veryfast", "crf": "23"}
        for frame in src.decode(video):
            t = frame.time or 0.0
            if t < start - 1e-3:
                continue
            if t >= end - 1e-3:
                break
            scaled = frame.reformat(width=size[0], height=size[1], format="yuv420p")
            scaled.pts, scaled.time_base = count, Fraction(1, fps)
            for packet in out.encode(scaled):
                dst.mux(packet)
            count += 1
        for packet in out.encode():
            dst.mux(packet)
    return count
