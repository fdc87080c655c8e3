"""The signal seam (after python-threatexchange's SignalType): one class per kind of fingerprint.

A signal turns an RGB frame into a ``Fingerprint``: bytes that can be stored in the registry
and read back without pickle, so every reference's signals are computed once, at import.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np


@dataclass(frozen=True)
class Fingerprint:
    signal: str
    version: int
    arrays: dict[str, np.ndarray]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, **self.arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, signal: str, version: int, data: bytes) -> Fingerprint:
        with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
            return cls(signal, version, {k: loaded[k] for k in loaded.files})


class Signal(Protocol):
    """What the matcher needs of a signal."""

    name: ClassVar[str]
    version: ClassVar[int]

    def extract(self, rgb: np.ndarray) -> Fingerprint: ...
