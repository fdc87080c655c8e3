"""A faiss binary index with 64-bit ids: exact while small, inverted-file (IVF) when large.

Sizes (256-bit codes, 32 bytes each plus an 8-byte id): 1M reference images x 500 local
descriptors = 500M codes = 20 GB, which fits one 24-64 GB machine only in IVF form on disk
(``faiss.OnDiskInvertedLists``); at 300 descriptors per reference and 1M references it is 12 GB
in memory. Past one machine, shard by reference id across processes (each shard answers the
same query; votes are merged), which the 64-bit id layout below already allows.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from kenri.files import write_atomically

IVF_THRESHOLD = 25_000  # codes; below this an exact (flat) search is fast enough


def _flat(nbits: int) -> faiss.IndexBinary:
    return faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(nbits))


class BinaryIndex:
    def __init__(self, nbits: int = 256, index: faiss.IndexBinary | None = None) -> None:
        self.nbits = nbits
        self.index = index if index is not None else _flat(nbits)
        self.nprobe = 3

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def is_ivf(self) -> bool:
        return isinstance(self.index, faiss.IndexBinaryIVF)

    def add(self, codes: np.ndarray, ids: np.ndarray) -> None:
        if len(codes) == 0:
            return
        codes = np.ascontiguousarray(codes, dtype=np.uint8)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        self.index.add_with_ids(codes, ids)

    def remove_range(self, start: int, stop: int) -> int:
        """Remove every id in [start, stop); returns how many codes went."""
        return int(self.index.remove_ids(faiss.IDSelectorRange(start, stop)))

    def remove_ids(self, ids: np.ndarray) -> int:
        if len(ids) == 0:
            return 0
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))
        return int(self.index.remove_ids(selector))

    def search(self, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, ids), each [n, k]; missing neighbours have id -1."""
        if self.ntotal == 0 or len(codes) == 0:
            empty = np.full((len(codes), k), -1, dtype=np.int64)
            return np.full((len(codes), k), self.nbits + 1, dtype=np.int32), empty
        if self.is_ivf:
            self.index.nprobe = self.nprobe
        return self.index.search(np.ascontiguousarray(codes, dtype=np.uint8), k)

    def to_ivf(self, codes: np.ndarray, ids: np.ndarray) -> None:
        """Rebuild as IVF over ``codes`` (all of them), with about 2 * sqrt(n) lists.

        The list centroids are codes drawn at random instead of k-means centres: binary k-means
        over millions of codes takes minutes to hours, while random centroids found the same
        copies in our measurements (docs/benchmarks.md) and build in seconds. With 2 * sqrt(n)
        lists the exact scan of the centroids and of the few probed lists cost about the same,
        which measured faster than an HNSW graph over many small lists.
        """
        nlist = int(2 ** round(np.log2(max(256, 2 * np.sqrt(len(codes))))))
        nlist = min(nlist, len(codes))
        rng = np.random.default_rng(0)
        centroids = codes[rng.choice(len(codes), size=nlist, replace=False)]
        quantizer = faiss.IndexBinaryFlat(self.nbits)
        quantizer.add(np.ascontiguousarray(centroids))
        index = faiss.IndexBinaryIVF(quantizer, self.nbits, nlist)
        index.is_trained = True
        index.own_fields = True
        quantizer.this.disown()  # the IVF index owns its quantizer from here on
        index.add_with_ids(np.ascontiguousarray(codes), np.ascontiguousarray(ids, np.int64))
        self.index = index

    def save(self, path: Path) -> None:
        write_atomically(path, lambda tmp: faiss.write_index_binary(self.index, tmp))

    @classmethod
    def load(cls, path: Path, nbits: int = 256) -> BinaryIndex:
        return cls(nbits, faiss.read_index_binary(str(path)))


class FloatIndex:
    """Exact inner-product search over L2-normalised vectors (cosine), with 64-bit ids.

    Global descriptors are one vector per picture, so exact search stays fast far longer than
    for local descriptors: 1M references x 1280 floats = 5 GB; past that, faiss IVF-PQ.
    """

    is_ivf = False

    def __init__(self, index: faiss.Index | None = None) -> None:
        self.index = index

    @property
    def ntotal(self) -> int:
        return 0 if self.index is None else int(self.index.ntotal)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        if len(vectors) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.index is None:
            self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
        self.index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def remove_range(self, start: int, stop: int) -> int:
        if self.index is None:
            return 0
        return int(self.index.remove_ids(faiss.IDSelectorRange(start, stop)))

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.ntotal == 0:
            return np.zeros((len(vectors), k), np.float32), np.full((len(vectors), k), -1)
        return self.index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)

    def save(self, path: Path) -> None:
        if self.index is None:
            write_atomically(path, lambda tmp: Path(tmp).write_bytes(b""))
        else:
            write_atomically(path, lambda tmp: faiss.write_index(self.index, tmp))

    @classmethod
    def load(cls, path: Path) -> FloatIndex:
        if path.stat().st_size == 0:
            return cls()
        return cls(faiss.read_index(str(path)))
