"""Find faces in a picture and describe each by dlib's 128-number face descriptor.

The models ship offline in ``face-recognition-models`` and run on ``dlib-bin`` (the
``likeness`` extra): a HOG face detector, the 5-point landmark model (CC0) that aligns each
face, and the ResNet descriptor (public domain; 99.38% on LFW pairs by its author's
measurement). Two descriptors of one person's faces lie about 0.3-0.5 apart (Euclidean),
of two people's faces mostly beyond 0.6; ``kenri.likeness.scoring`` turns distance into a
score. The iBUG 68-point model in the same package is not used: its training data forbids
commercial use.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kenri.concurrency import one_per_process
from kenri.errors import KenriError
from kenri.fingerprints.base import Fingerprint

FACE = "face"  # the signal name of face descriptors in the fingerprint table
FACE_VERSION = 1
DETECT_MAX_SIDE = 1280  # larger pictures are scaled down before detection
UPSAMPLE_BELOW = 720  # below this shorter side, the detector also looks at 2x (small faces)
MIN_FACE_SIDE = 36  # pixels, at the detection scale: smaller faces carry no identity
EXTRA_HINT = "face screening needs the likeness extra: pip install 'kenri[likeness]'"


@dataclass(frozen=True)
class Face:
    """One face: its box in the input's pixels (x0, y0, x1, y1) and its descriptor."""

    box: tuple[int, int, int, int]
    descriptor: np.ndarray  # float32[128]
    detector_score: float

    def to_dict(self) -> dict[str, Any]:
        return {"box": list(self.box), "detector_score": round(self.detector_score, 3)}


def _models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    # Found without importing it: its __init__ needs pkg_resources, gone from new setuptools.
    if spec is None or not spec.submodule_search_locations:
        raise KenriError(EXTRA_HINT)
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class FaceModel:
    """The detector, aligner and descriptor, loaded once; calls are serialised (dlib state)."""

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError:
            raise KenriError(EXTRA_HINT) from None
        models = _models_dir()
        self._detector = dlib.get_frontal_face_detector()
        self._aligner = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._describer = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat")
        )
        self._rectangle = dlib.rectangle
        self._lock = threading.Lock()

    def faces(self, rgb: np.ndarray) -> list[Face]:
        """Every face large enough to identify, biggest first."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise KenriError("a picture for face detection must be HxWx3 uint8 RGB")
        height, width = rgb.shape[:2]
        scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
        work = rgb
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            work = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        work = np.ascontiguousarray(work)
        upsample = 1 if min(work.shape[:2]) < UPSAMPLE_BELOW else 0
        found: list[Face] = []
        with self._lock:
            boxes, scores, _ = self._detector.run(work, upsample, 0.0)
            for box, score in zip(boxes, scores, strict=True):
                if min(box.width(), box.height()) < MIN_FACE_SIDE:
                    continue
                shape = self._aligner(work, box)
                descriptor = np.asarray(
                    self._describer.compute_face_descriptor(work, shape), dtype=np.float32
                )
                found.append(
                    Face(
                        box=_in_input_pixels(box, scale, width, height),
                        descriptor=descriptor,
                        detector_score=float(score),
                    )
                )
        return sorted(found, key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))


def _in_input_pixels(box: Any, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0 = max(0, round(box.left() / scale)), max(0, round(box.top() / scale))
    x1, y1 = min(width, round(box.right() / scale)), min(height, round(box.bottom() / scale))
    return int(x0), int(y0), int(x1), int(y1)


# The process's one face model (loading takes about a second).
face_model = one_per_process(FaceModel)


def faces_fingerprint(faces: list[Face]) -> Fingerprint:
    """Faces as a storable fingerprint row (the registry keeps descriptors, not crops)."""
    return Fingerprint(
        FACE,
        FACE_VERSION,
        {
            "descriptors": np.stack([f.descriptor for f in faces]).astype(np.float32),
            "boxes": np.array([f.box for f in faces], dtype=np.int32),
        },
    )
