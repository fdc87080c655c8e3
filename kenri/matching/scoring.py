"""From evidence to one score in [0, 1] (higher = more certain the picture copies the reference).

The local-feature evidence is the RANSAC support (inliers discounted for clustering and chance);
PDQ's is the Hamming distance.
Each maps to a probability-like score with a logistic curve; the final score is the larger.
The curves' parameters and the default thresholds are calibrated on data by
``bench/image_copy.py --calibrate`` and recorded, with the precision they give, in
docs/benchmarks.md.
"""

from __future__ import annotations

import math
import os

# Calibrated parameters (see module docstring). inliers at which the score is 0.5, and slope.
LOCAL_MIDPOINT = 12.0
LOCAL_SLOPE = 0.45
PDQ_MIDPOINT = 40.0  # Hamming distance (of 256 bits) at which the score is 0.5
PDQ_SLOPE = 0.25

DESCRIPTOR_MIDPOINT = float(os.environ.get("KENRI_DESCRIPTOR_MIDPOINT", "0.92"))
DESCRIPTOR_SLOPE = float(os.environ.get("KENRI_DESCRIPTOR_SLOPE", "60"))

# Prompt descriptions: strength (see screening/prompt/descriptions.py) at which the score is 0.5,
# fitted by bench/prompt_screening.py --calibrate for the onnxruntime text model (e5-small-int8).
DESCRIPTION_MIDPOINT = float(os.environ.get("KENRI_DESCRIPTION_MIDPOINT", "0.209"))
DESCRIPTION_SLOPE = float(os.environ.get("KENRI_DESCRIPTION_SLOPE", "32.8"))

REVIEW_THRESHOLD = 0.5
BLOCK_THRESHOLD = 0.9


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def local_score(support: float) -> float:
    """``support``: RANSAC inliers discounted for clustering and chance (see matcher.verify)."""
    return _logistic(LOCAL_SLOPE * (support - LOCAL_MIDPOINT)) if support > 0 else 0.0


def pdq_score(distance: int | None) -> float:
    return 0.0 if distance is None else _logistic(PDQ_SLOPE * (PDQ_MIDPOINT - distance))


def descriptor_score(cosine: float | None) -> float:
    """Learned descriptors are model-specific: calibrate these two numbers per model."""
    if cosine is None:
        return 0.0
    return _logistic(DESCRIPTOR_SLOPE * (cosine - DESCRIPTOR_MIDPOINT))


def description_score(strength: float) -> float:
    return round(_logistic(DESCRIPTION_SLOPE * (strength - DESCRIPTION_MIDPOINT)), 4)


def score_candidate(inliers: int, pdq_distance: int | None, cosine: float | None = None) -> float:
    return round(max(local_score(inliers), pdq_score(pdq_distance), descriptor_score(cosine)), 4)
