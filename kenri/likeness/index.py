"""The registered faces in memory: one descriptor per face photo, searched exhaustively.

Persons register a handful of photos each, so even 100k faces are 50 MB and one exhaustive
numpy pass (~5 ms): no approximate index is needed. The index reloads when a face row is
added or a reference retired (two aggregate queries per check).
"""

from __future__ import annotations

import threading

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kenri.fingerprints.base import Fingerprint
from kenri.likeness.faces import FACE, FACE_VERSION
from kenri.matching.scoring import BLOCK_THRESHOLD, REVIEW_THRESHOLD
from kenri.registry.models import FingerprintRow, Reference

# Distances between dlib descriptors, calibrated in bench/likeness.py (docs/likeness.md). One
# person across video frames: 0.38-0.47; different people in real photos: 0.58 and more; but
# different people's low-resolution faces (upscaled 25 px crops) come as close as 0.45-0.55.
# So a block needs <= 0.45 and the grey zone up to 0.55 goes to a person.
FACE_BLOCK_DISTANCE = 0.45
FACE_REVIEW_DISTANCE = 0.55
FACE_FAR_DISTANCE = 0.75  # scores fade to 0 here


# Distance to score, so face matches share the screening thresholds (0.5 review, 0.9 block).
_DISTANCES = (0.0, FACE_BLOCK_DISTANCE, FACE_REVIEW_DISTANCE, FACE_FAR_DISTANCE)
_SCORES = (1.0, BLOCK_THRESHOLD, REVIEW_THRESHOLD, 0.0)


def face_score(distance: float) -> float:
    return round(float(np.interp(distance, _DISTANCES, _SCORES)), 4)


class FaceIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._marks: tuple | None = None
        # (reference ids, descriptors), swapped as one so a reader never sees half a reload
        self._data = (np.zeros(0, dtype=np.int64), np.zeros((0, 128), dtype=np.float32))

    def __len__(self) -> int:
        return len(self._data[0])

    def sync(self, session: Session) -> None:
        live = (
            select(func.max(FingerprintRow.id), func.count(FingerprintRow.id))
            .join(Reference, Reference.id == FingerprintRow.reference_id)
            .where(FingerprintRow.signal == FACE, Reference.removed_at.is_(None))
        )
        marks = tuple(session.execute(live).one())
        if marks == self._marks:
            return
        with self._lock:
            ids, vectors = [], []
            rows = session.execute(
                select(FingerprintRow.reference_id, FingerprintRow.version, FingerprintRow.data)
                .join(Reference, Reference.id == FingerprintRow.reference_id)
                .where(FingerprintRow.signal == FACE, Reference.removed_at.is_(None))
                .order_by(FingerprintRow.id)
            )
            for reference_id, version, data in rows:
                if version != FACE_VERSION:
                    continue
                found = Fingerprint.from_bytes(FACE, version, data).arrays["descriptors"]
                ids += [reference_id] * len(found)
                vectors.append(found)
            self._data = (
                np.array(ids, dtype=np.int64),
                np.concatenate(vectors).astype(np.float32)
                if vectors
                else np.zeros((0, 128), dtype=np.float32),
            )
            self._marks = marks

    def nearest(
        self, descriptor: np.ndarray, within: float = FACE_FAR_DISTANCE
    ) -> dict[int, float]:
        """Registered face photos within ``within`` of one face: {reference id: distance}."""
        reference_ids, descriptors = self._data
        if not len(reference_ids):
            return {}
        distances = np.linalg.norm(descriptors - descriptor[None, :], axis=1)
        found: dict[int, float] = {}
        for position in np.flatnonzero(distances <= within):
            reference_id = int(reference_ids[position])
            distance = float(distances[position])
            if distance < found.get(reference_id, np.inf):
                found[reference_id] = distance
        return found
