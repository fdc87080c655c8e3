"""Local features (ORB keypoints + 256-bit binary descriptors): the crop- and overlay-robust signal.

A copy that was cropped, padded, rotated, put in perspective, overlaid with text or pasted into
another picture still shares many keypoints with its reference; the matcher finds them through
a binary index and then checks that they agree on one geometric transform (RANSAC), which is
what makes a match evidence rather than coincidence.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from kenri.fingerprints.base import Fingerprint
from kenri.fingerprints.imageio import fit

WORK_MAX_SIDE = 512
WORK_MIN_SIDE = 320


class LocalFeatureSignal:
    name: ClassVar[str] = "orb"
    version: ClassVar[int] = 1

    def __init__(
        self, features: int = 500, levels: int = 10, max_side: int = WORK_MAX_SIDE
    ) -> None:
        self.features = features
        self.levels = levels
        self.max_side = max_side

    def _detector(self) -> cv2.ORB:
        return cv2.ORB_create(
            nfeatures=self.features,
            scaleFactor=1.2,
            nlevels=self.levels,
            edgeThreshold=19,
            patchSize=31,
            fastThreshold=10,
        )

    def extract(
        self, rgb: np.ndarray, features: int | None = None, min_side: int = WORK_MIN_SIDE
    ) -> Fingerprint:
        """``min_side``: smaller pictures are enlarged to it first (more keypoints, more time)."""
        return self._from_gray(self.gray(rgb, min_side), features)

    def extract_with_mirror(
        self,
        rgb: np.ndarray,
        mirror_features: int | None = None,
        features: int | None = None,
        min_side: int = WORK_MIN_SIDE,
    ) -> tuple[Fingerprint, Fingerprint]:
        """The image and its mirror image, from one resize (queries try both orientations).

        ``mirror_features`` caps the mirror image's keypoints: a mirrored copy is usually the
        whole picture, which its strongest keypoints find, so the second pass can be cheaper.
        """
        gray = self.gray(rgb, min_side)
        mirrored = np.ascontiguousarray(gray[:, ::-1])
        return self._from_gray(gray, features), self._from_gray(mirrored, mirror_features)

    def gray(self, rgb: np.ndarray, min_side: int = WORK_MIN_SIDE) -> np.ndarray:
        return cv2.cvtColor(fit(rgb, self.max_side, min_side), cv2.COLOR_RGB2GRAY)

    def _from_gray(self, gray: np.ndarray, features: int | None = None) -> Fingerprint:
        detector = self._detector()
        if features is not None:
            detector.setMaxFeatures(features)
        keypoints, descriptors = detector.detectAndCompute(gray, None)
        if descriptors is None or not keypoints:
            points = np.zeros((0, 2), np.float32)
            descriptors = np.zeros((0, 32), np.uint8)
        else:
            points = np.array([kp.pt for kp in keypoints], dtype=np.float32)
        return Fingerprint(
            self.name,
            self.version,
            {
                "points": points,
                "descriptors": np.ascontiguousarray(descriptors, dtype=np.uint8),
                "size": np.array(gray.shape[::-1], dtype=np.int32),  # width, height
            },
        )
