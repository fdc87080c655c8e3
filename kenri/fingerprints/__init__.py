"""Fingerprints of media: PDQ (global, interoperable with HMA) and local features (crop-robust).

``fingerprint_frame`` is the one place that decides which signals a frame gets.
"""

from __future__ import annotations

import numpy as np

from kenri.fingerprints.base import Fingerprint, Signal
from kenri.fingerprints.local import LocalFeatureSignal
from kenri.fingerprints.pdq import PdqSignal

REFERENCE_SIGNALS: tuple[Signal, ...] = (PdqSignal(), LocalFeatureSignal(features=500))


def reference_signals(descriptor: Signal | None = None) -> tuple[Signal, ...]:
    """The signals every reference gets: PDQ, local features, and a learned descriptor if set."""
    return REFERENCE_SIGNALS + ((descriptor,) if descriptor is not None else ())


def fingerprint_frame(
    rgb: np.ndarray, signals: tuple[Signal, ...] = REFERENCE_SIGNALS
) -> list[Fingerprint]:
    return [signal.extract(rgb) for signal in signals]


__all__ = [
    "REFERENCE_SIGNALS",
    "Fingerprint",
    "Signal",
    "fingerprint_frame",
    "fingerprint_media",
    "reference_signals",
]


def fingerprint_media(
    path, kind: str, signals: tuple[Signal, ...] = REFERENCE_SIGNALS
) -> list[tuple[int, float, Fingerprint]]:
    """Every signal of a reference file: one frame for an image, sampled frames for a video."""
    from kenri.fingerprints.imageio import load_image
    from kenri.fingerprints.video import sample_frames

    if kind == "image":
        return [(0, 0.0, fp) for fp in fingerprint_frame(load_image(path), signals)]
    return [
        (frame.index, frame.time_s, fp)
        for frame in sample_frames(path)
        for fp in fingerprint_frame(frame.rgb, signals)
    ]
