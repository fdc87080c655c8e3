"""PDQ (Meta): a 256-bit perceptual hash, interoperable with HMA / ThreatExchange hash banks.

Strong on re-encodes, resizes and colour changes of the whole picture; weak on crops, padding,
rotation and pasting (which is why kenri has a local-feature signal beside it).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pdqhash

from kenri.fingerprints.base import Fingerprint
from kenri.fingerprints.imageio import fit

PDQ_BITS = 256
PDQ_MATCH_DISTANCE = 31  # HMA's default: a match at <= 31 differing bits of 256


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """PDQ's 256 0/1 values -> 32 bytes, first bit most significant (ThreatExchange's order)."""
    return np.packbits(bits.astype(np.uint8))


def to_hex(code: np.ndarray) -> str:
    """The 64-character hex string that ThreatExchange and HMA exchange."""
    return bytes(code).hex()


def from_hex(text: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(text), dtype=np.uint8).copy()


class PdqSignal:
    name: ClassVar[str] = "pdq"
    version: ClassVar[int] = 1

    def extract(self, rgb: np.ndarray, mirror: bool = True) -> Fingerprint:
        """Hash of the image and, with ``mirror``, of its mirror image (flipped copies match).

        References store both; a query needs only its own (``mirror=False``, half the time).
        """
        small = fit(rgb, 256)  # PDQ works on a 64x64 reduction; more pixels add only time
        bits, quality = pdqhash.compute(np.ascontiguousarray(small))
        codes = [pack_bits(bits)]
        if mirror:
            mirrored, _ = pdqhash.compute(np.ascontiguousarray(small[:, ::-1]))
            codes.append(pack_bits(mirrored))
        return Fingerprint(
            self.name, self.version, {"codes": np.stack(codes), "quality": np.array([quality])}
        )
