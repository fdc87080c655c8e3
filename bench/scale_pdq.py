"""Benchmark: the PDQ signal of 10k, 100k and 1M references in one index (build, memory, queries).

Local descriptors at 1M references would take ~20 GB (see ``bench/scale_index.py``), so this run
scales the signal every reference has: PDQ, the 256-bit whole-image hash that HMA and
ThreatExchange exchange. The registry holds **only PDQ rows**; kenri has no setting for that,
but ``Kenri.signals`` decides what an import computes, and the Matcher copes with an empty
local-feature index (its local search then returns nothing, PDQ alone finds candidates).

The references:

1. **Real**: all Pokémon artworks and Manga109 covers (918), imported through the catalog
   importer with ``k.signals = (PdqSignal(),)``: the rows an import writes, PDQ only.
2. **Synthetic fill**, generated here, up to each of ``--sizes``. ``--distinct`` real PDQ
   fingerprints (``PdqSignal().extract``, image and mirror image) of augmented crops of urban
   photos and evaluation-video frames (``scale_index.augmented``: crop, rotation, rescale,
   mirror), kept when PDQ's quality is >= the matcher's minimum (flat crops are not indexed)
   and when the code is new (an uncropped photo at another scale hashes the same).
   The first ``--distinct`` fill references are those codes as they are; each further one takes
   a random base and flips 32 random bits of its code and, independently, of its mirror code
   (``scale_index.flip_masks``): distinct codes (checked) with the bit statistics of real PDQ,
   32 bits from their base (just past HMA's match distance 31) and ~56 from their siblings,
   i.e. clusters of near-duplicates as real banks have. Fully random 256-bit codes were not
   used: they lack PDQ's bit correlations and near-duplicate structure, which a multi-index
   hash (threatexchange's PDQIndex) is sensitive to. None of the fill photos is a query.
3. Inserted in bulk as ``Reference`` + ``FingerprintRow`` rows (synthetic SHA-256, holder
   "Synthetic fill"), one ``pdq`` row per reference, exactly as an import writes them.

At each size a fresh process (so RSS and peak RSS belong to that size alone) builds a Matcher
from the registry (``sync`` on an empty index folder), reloads it from its snapshot, then asks
the same queries on one core (OMP_NUM_THREADS=1): real transformed copies of registered real
references (JPEG q20, downscale to 1/2 and 1/4 + JPEG q20, crops keeping 97 % and 90 % of the
area, mirror, greyscale) and unrelated photo crops. Measured for kenri: build time, RSS growth and
peak, index bytes on disk, ``Matcher.match`` latency (a full screening call: PDQ hash, PDQ
search, and the ORB pass that finds nothing here), the PDQ index search inside it and the same
search asked back to back (no ORB pass evicting the codes from the CPU caches between), recall
at the block threshold (for PDQ: distance <= 31, HMA's match distance) and false matches.
Baselines in the same process over the same codes (image + mirror image per reference, the
quality filter applied) and the same query codes: a bare ``faiss.IndexBinaryFlat`` (k-NN with
k = 8 as kenri asks, and a range search at radius 31: the floor), and, when installed,
threatexchange's ``PDQIndex`` (multi-index hashing, what HMA's ``PdqSignal`` uses) and
``PDQIndex2``. Prints one JSON line; progress goes to stderr.

    OMP_NUM_THREADS=1 .venv/bin/python bench/scale_pdq.py [--sizes 10000,100000,1000000]
        [--quick] [--distinct 5000] [--queries-per-family 50] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import faiss
import numpy as np
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kenri  # noqa: E402
from bench.evaldata import code_version, run_header  # noqa: E402
from bench.image_copy import stable_seed  # noqa: E402
from bench.scale_index import (  # noqa: E402
    N_BACKGROUNDS,
    augmented,
    eval_sources,
    fill_sources,
    flip_masks,
    import_real,
    log,
    peak_rss_mb,
    rss_now_mb,
)
from bench.transforms import grayscale, hflip, jpeg_downscale, random_crop  # noqa: E402
from kenri.app import Kenri  # noqa: E402
from kenri.fingerprints.base import Fingerprint  # noqa: E402
from kenri.fingerprints.imageio import load_image  # noqa: E402
from kenri.fingerprints.pdq import PDQ_MATCH_DISTANCE, PdqSignal  # noqa: E402
from kenri.matching.matcher import PDQ_MIN_QUALITY, Matcher  # noqa: E402
from kenri.matching.scoring import BLOCK_THRESHOLD  # noqa: E402
from kenri.registry.models import FingerprintRow, Reference  # noqa: E402

FLIP_BITS = 32  # bits flipped per synthetic code (from its base)
INSERT_BATCH = 10_000
MASK_CHUNK = 20_000
PDQ_K = 8  # neighbours kenri's Matcher asks the PDQ index for


# -- queries ----------------------------------------------------------------------------------
def crop(rgb: np.ndarray, rng: np.random.Generator, area: float) -> np.ndarray:
    """A small crop: a random window keeping ``area`` of the picture (aspect may change a bit)."""
    height, width = rgb.shape[:2]
    fw = rng.uniform(area, 1.0)
    cw, ch = round(width * fw), round(height * area / fw)
    x, y = int(rng.integers(0, width - cw + 1)), int(rng.integers(0, height - ch + 1))
    return np.ascontiguousarray(rgb[y : y + ch, x : x + cw])


QUERY_FAMILIES = {
    "jpeg20": partial(jpeg_downscale, scale=1.0),
    "resize50_jpeg20": partial(jpeg_downscale, scale=0.5),
    "resize25_jpeg20": jpeg_downscale,
    "crop97": partial(crop, area=0.97),
    "crop90": partial(crop, area=0.9),
    "hflip": hflip,
    "grayscale": grayscale,
}


@dataclass
class Query:
    family: str
    truth: str | None  # the real reference's key; None for unrelated material
    rgb: np.ndarray
    code: np.ndarray | None = None  # PDQ of the query (no mirror), as kenri computes it
    quality: int = 0


def make_queries(meta: dict, per_family: int, seed: int) -> list[Query]:
    """Every family on ``per_family`` real references, and half as many unrelated crops."""
    real = sorted(meta["paths"])
    queries = []
    for family, transform in QUERY_FAMILIES.items():
        rng = np.random.default_rng(stable_seed(seed, "pdq-scale", family))
        for j in rng.choice(len(real), min(per_family, len(real)), replace=False):
            key = real[int(j)]
            rgb = load_image(meta["paths"][key])
            edit_rng = np.random.default_rng(stable_seed(seed, family, key))
            queries.append(Query(family, key, transform(rgb, edit_rng)))
    photos = [load_image(p) for p in meta["backgrounds"]]
    rng = np.random.default_rng(stable_seed(seed, "pdq-unrelated"))
    families = list(QUERY_FAMILIES)
    for i in range(per_family * len(families) // 2):
        crop = random_crop(photos[i % len(photos)], rng)
        family = families[int(rng.integers(len(families)))]
        queries.append(Query(f"unrelated/{family}", None, QUERY_FAMILIES[family](crop, rng)))
    return queries


# -- measuring --------------------------------------------------------------------------------
class PeakRss:
    """RSS before and after a block, and its peak (VmRSS sampled every 20 ms by a thread)."""

    def __enter__(self) -> PeakRss:
        gc.collect()
        self.before = self.peak = rss_now_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self._start = time.perf_counter()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_now_mb())

    def __exit__(self, *_exc: object) -> None:
        self.seconds = time.perf_counter() - self._start
        self._stop.set()
        self._thread.join()
        gc.collect()
        self.after = rss_now_mb()
        self.peak = max(self.peak, self.after)

    def summary(self) -> dict[str, float]:
        return {
            "build_s": round(self.seconds, 2),
            "rss_growth_mb": round(self.after - self.before, 1),
            "peak_growth_mb": round(self.peak - self.before, 1),
        }


def percentiles(times_ms: list[float]) -> dict[str, float]:
    ordered = sorted(times_ms)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
    }


class Tally:
    """Recall at the match threshold (top-1 right) and false matches, per system."""

    def __init__(self) -> None:
        self.right: dict[str, list[bool]] = {}
        self.wrong_positive = 0  # a copy whose best match at threshold is another reference
        self.false = 0
        self.unrelated = 0

    def add(self, query: Query, found: str | None) -> None:
        """``found``: the best reference at the threshold, or None."""
        if query.truth is None:
            self.unrelated += 1
            self.false += found is not None
            return
        self.right.setdefault(query.family, []).append(found == query.truth)
        self.wrong_positive += found is not None and found != query.truth

    def summary(self) -> dict[str, Any]:
        every = [r for rights in self.right.values() for r in rights]
        return {
            "recall": round(float(np.mean(every)), 4),
            "family_recall": {f: round(float(np.mean(r)), 3) for f, r in self.right.items()},
            "wrong_reference_at_threshold": self.wrong_positive,
            "false_matches": self.false,
            "unrelated": self.unrelated,
        }


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def kenri_stage(
    home: Path, index_dir: Path, key_of: dict[int, str], queries: list[Query], profile: bool
) -> dict[str, Any]:
    """Build kenri's Matcher from the registry, reload it, and answer every query."""
    out: dict[str, Any] = {}
    with kenri.open(home) as k:
        profiler = cProfile.Profile() if profile else None
        with PeakRss() as build:
            matcher = Matcher(index_dir)
            if profiler:
                profiler.enable()
            with k.transaction() as tx:
                matcher.sync(tx.session)
            if profiler:
                profiler.disable()
        out.update(build.summary())
        if profiler:
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(18)
            log(text.getvalue())
        index = matcher.snapshot.indexes["pdq"]
        out["pdq_codes"] = index.ntotal
        current = index_dir / (index_dir / "CURRENT").read_text().strip()
        out["index_bytes"] = folder_bytes(current)
        out["pdq_index_bytes"] = (current / "pdq.faiss").stat().st_size
        start = time.perf_counter()
        with k.transaction() as tx:
            changed = matcher.sync(tx.session)
        out["noop_sync_ms"] = round((time.perf_counter() - start) * 1000, 2)
        assert not changed
        del matcher, index
        with PeakRss() as load:
            matcher = Matcher(index_dir)  # a restart: the snapshot from disk
        out["load_s"] = round(load.seconds, 2)
        out["load_rss_growth_mb"] = round(load.after - load.before, 1)

        index = matcher.snapshot.indexes["pdq"]
        search = index.search
        spent = [0.0]

        def timed_search(codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
            start = time.perf_counter()
            try:
                return search(codes, k)
            finally:
                spent[0] += time.perf_counter() - start

        index.search = timed_search  # type: ignore[method-assign]
        match_ms, search_ms, tally = [], [], Tally()
        for query in queries:
            spent[0] = 0.0
            start = time.perf_counter()
            with k.transaction() as tx:
                candidates = matcher.match(tx.session, query.rgb, top=3)
            match_ms.append((time.perf_counter() - start) * 1000)
            search_ms.append(spent[0] * 1000)
            top = candidates[0] if candidates else None
            blocked = top is not None and top.score >= BLOCK_THRESHOLD
            tally.add(query, key_of.get(top.reference_id, "synthetic") if blocked else None)
        del index.search
        hot_ms = []  # the same index searched back to back: no ORB pass between (warm caches)
        for query in queries:
            start = time.perf_counter()
            index.search(query.code[None], PDQ_K)
            hot_ms.append((time.perf_counter() - start) * 1000)
    out["match"] = percentiles(match_ms)
    out["pdq_search"] = percentiles(search_ms)
    out["pdq_search_back_to_back"] = percentiles(hot_ms)
    out.update(tally.summary())
    return out


def baseline_codes(codes: np.ndarray, quality: np.ndarray, ref_ids: np.ndarray):
    """The codes kenri indexes (image + mirror image, quality >= the minimum), flattened."""
    keep = quality >= PDQ_MIN_QUALITY
    flat = np.ascontiguousarray(codes[keep].reshape(-1, 32))
    return flat, np.repeat(ref_ids[keep], 2)


def faiss_stage(
    codes: np.ndarray, row_ref: np.ndarray, key_of: dict[int, str], queries: list[Query]
) -> dict[str, Any]:
    """The floor: a bare IndexBinaryFlat, k-NN (k = 8) and range search (radius 31)."""
    with PeakRss() as build:
        index = faiss.IndexBinaryFlat(256)
        index.add(codes)
    knn_ms, range_ms, tally = [], [], Tally()
    for query in queries:
        code = query.code[None]
        start = time.perf_counter()
        distances, ids = index.search(code, PDQ_K)
        knn_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        index.range_search(code, PDQ_MATCH_DISTANCE + 1)
        range_ms.append((time.perf_counter() - start) * 1000)
        found = None
        if ids[0, 0] >= 0 and distances[0, 0] <= PDQ_MATCH_DISTANCE:
            found = key_of.get(int(row_ref[ids[0, 0]]), "synthetic")
        tally.add(query, found)
    return {
        **build.summary(),
        "knn": percentiles(knn_ms),
        "range": percentiles(range_ms),
        **tally.summary(),
    }


def threatexchange_stage(
    cls: type, codes: np.ndarray, row_ref: np.ndarray, key_of: dict[int, str], queries: list[Query]
) -> dict[str, Any]:
    """threatexchange's own PDQ index: built from hex strings, asked with hex strings."""
    with PeakRss() as build:  # the hex strings the index keeps count too
        index = cls(entries=((bytes(c).hex(), int(r)) for c, r in zip(codes, row_ref, strict=True)))
    times, tally = [], Tally()
    for query in queries:
        text = bytes(query.code).hex()
        start = time.perf_counter()
        matches = index.query(text)
        times.append((time.perf_counter() - start) * 1000)
        found = None
        if matches:
            best = min(matches, key=lambda m: m.similarity_info.distance)
            found = key_of.get(best.metadata, "synthetic")
        tally.add(query, found)
    return {**build.summary(), "query": percentiles(times), **tally.summary()}


def truth_distances(
    queries: list[Query], codes: np.ndarray, ref_ids: np.ndarray, key_of: dict[int, str]
) -> dict[str, float]:
    """Per family, the median PDQ distance from a copy to its own reference (or its mirror)."""
    row_of = {key_of[int(ref)]: row for row, ref in enumerate(ref_ids) if int(ref) in key_of}
    distances: dict[str, list[int]] = {}
    for query in queries:
        if query.truth is not None:
            bits = np.unpackbits(codes[row_of[query.truth]] ^ query.code, axis=1).sum(axis=1)
            distances.setdefault(query.family, []).append(int(bits.min()))
    return {family: float(np.median(d)) for family, d in distances.items()}


def run_stage(work: Path, target: int, args: argparse.Namespace) -> dict[str, Any]:
    """One size, in its own process: kenri, then the baselines, over the first ``target``."""
    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)
    meta = json.loads((work / "meta.json").read_text())
    key_of = {int(i): key for i, key in meta["key_of"].items()}
    log(f"[{target}] rendering queries")
    queries = make_queries(meta, args.queries_per_family, args.seed)
    pdq, hash_ms = PdqSignal(), []
    for query in queries:
        start = time.perf_counter()
        fp = pdq.extract(query.rgb, mirror=False)
        hash_ms.append((time.perf_counter() - start) * 1000)
        query.code, query.quality = fp.arrays["codes"][0], int(fp.arrays["quality"][0])
    stage: dict[str, Any] = {
        "references": target,
        "queries": len(queries),
        "query_pdq_hash": percentiles(hash_ms),
        "low_quality_queries": sum(q.quality < PDQ_MIN_QUALITY for q in queries),
        "rss_start_mb": round(rss_now_mb(), 1),
    }
    log(f"[{target}] kenri: building the Matcher from the registry")
    stage["kenri"] = kenri_stage(
        work / "home", work / f"index-{target}", key_of, queries, args.profile
    )
    shutil.rmtree(work / f"index-{target}", ignore_errors=True)
    gc.collect()
    log(f"[{target}] kenri: {json.dumps(stage['kenri'])}")

    codes = np.load(work / "codes.npy", mmap_mode="r")[:target]
    quality = np.load(work / "quality.npy", mmap_mode="r")[:target]
    ref_ids = np.load(work / "ref_ids.npy", mmap_mode="r")[:target]
    flat, row_ref = baseline_codes(codes, quality, ref_ids)
    stage["truth_distance_median"] = truth_distances(queries, codes, ref_ids, key_of)
    log(f"[{target}] baseline: faiss IndexBinaryFlat over {len(flat)} codes")
    stage["faiss_flat"] = faiss_stage(flat, row_ref, key_of, queries)
    if not args.no_threatexchange:
        try:
            from threatexchange.signal_type.pdq.pdq_index import PDQIndex
            from threatexchange.signal_type.pdq.pdq_index2 import PDQIndex2
        except ImportError:
            log("threatexchange not installed: its PDQ indexes are skipped")
        else:
            for name, cls in (("te_pdqindex", PDQIndex), ("te_pdqindex2", PDQIndex2)):
                log(f"[{target}] baseline: threatexchange {cls.__name__}")
                stage[name] = threatexchange_stage(cls, flat, row_ref, key_of, queries)
                gc.collect()
    stage["peak_rss_mb"] = round(peak_rss_mb(), 1)
    kenri_out, floor = stage["kenri"], stage["faiss_flat"]
    ratios = {
        "pdq_search_vs_flat_knn_p50": kenri_out["pdq_search"]["p50_ms"] / floor["knn"]["p50_ms"],
        "pdq_search_vs_flat_knn_p99": kenri_out["pdq_search"]["p99_ms"] / floor["knn"]["p99_ms"],
        "match_vs_flat_knn_p50": kenri_out["match"]["p50_ms"] / floor["knn"]["p50_ms"],
    }
    if "te_pdqindex" in stage:
        te = stage["te_pdqindex"]["query"]
        ratios["pdq_search_vs_te_pdqindex_p50"] = kenri_out["pdq_search"]["p50_ms"] / te["p50_ms"]
        ratios["pdq_search_vs_te_pdqindex_p99"] = kenri_out["pdq_search"]["p99_ms"] / te["p99_ms"]
    stage["ratios"] = {name: round(value, 2) for name, value in ratios.items()}
    return stage


# -- the fill ---------------------------------------------------------------------------------
def make_pdq_bases(
    sources: list[np.ndarray], count: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` real PDQ fingerprints (image + mirror image) of augmented crops."""
    pdq = PdqSignal()
    rng = np.random.default_rng(stable_seed(seed, "pdq-bases"))
    codes, quality, seen = [], [], set()
    start = time.perf_counter()
    while len(codes) < count:
        rgb = augmented(sources[int(rng.integers(len(sources)))], rng)
        fp = pdq.extract(rgb)
        if int(fp.arrays["quality"][0]) < PDQ_MIN_QUALITY:  # flat crops: not indexed anyway
            continue
        if bytes(fp.arrays["codes"][0]) in seen:  # an uncropped photo at another scale
            continue
        seen.add(bytes(fp.arrays["codes"][0]))
        codes.append(fp.arrays["codes"])
        quality.append(int(fp.arrays["quality"][0]))
        if len(codes) % 1000 == 0:
            log(f"  fill images {len(codes)}/{count}  {time.perf_counter() - start:.0f} s")
    return np.stack(codes), np.array(quality, dtype=np.int64)


def make_fill(
    bases: np.ndarray, base_quality: np.ndarray, count: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The bases as they are, then a random base with 32 bits flipped in each of its codes."""
    rng = np.random.default_rng(stable_seed(seed, "pdq-fill"))
    first = np.arange(min(len(bases), count))
    source = np.concatenate([first, rng.integers(0, len(bases), max(0, count - len(bases)))])
    codes = bases[source]
    for start in range(len(first), count, MASK_CHUNK):
        stop = min(count, start + MASK_CHUNK)
        codes[start:stop] ^= flip_masks(rng, 2 * (stop - start), FLIP_BITS).reshape(-1, 2, 32)
    return codes, base_quality[source]


def insert_pdq_fill(
    k: Kenri, codes: np.ndarray, quality: np.ndarray, first_id: int, start: int, stop: int
) -> None:
    """Bulk-insert fill references ``start..stop-1`` (ids ``first_id + i``), one PDQ row each."""
    version = PdqSignal.version
    with k.transaction() as tx:
        holders = {h.name: h for h in tx.registry.holders()}
        holder = holders.get("Synthetic fill") or tx.registry.add_holder("Synthetic fill", "JP")
        works = tx.registry.works(holder)
        work_id = works[0].id if works else tx.registry.add_work(holder, "Synthetic fill").id
    for batch_start in range(start, stop, INSERT_BATCH):
        references, rows = [], []
        for i in range(batch_start, min(stop, batch_start + INSERT_BATCH)):
            arrays = {"codes": codes[i], "quality": np.array([int(quality[i])])}
            references.append(
                {
                    "id": first_id + i,
                    "work_id": work_id,
                    "character_id": None,
                    "sha256": hashlib.sha256(f"synthetic-pdq-{i}".encode()).hexdigest(),
                    "kind": "image",
                    "mime": "image/jpeg",
                    "size_bytes": 100_000,
                    "width": 640,
                    "height": 480,
                    "original_name": f"synthetic-{i}.jpg",
                    "origin": "manual",
                }
            )
            rows.append(
                {
                    "reference_id": first_id + i,
                    "signal": PdqSignal.name,
                    "version": version,
                    "frame_index": 0,
                    "time_s": 0.0,
                    "data": Fingerprint(PdqSignal.name, version, arrays).to_bytes(),
                }
            )
        with k.transaction() as tx:
            tx.session.execute(insert(Reference), references)
            tx.session.execute(insert(FingerprintRow), rows)
        if (batch_start // INSERT_BATCH) % 20 == 19:
            log(f"  inserted {batch_start + len(rows) - start}/{stop - start}")


def pair_distances(codes: np.ndarray, rng: np.random.Generator, pairs: int = 4000) -> float:
    """Median Hamming distance between random pairs (a sanity check of the fill's spread)."""
    a, b = rng.integers(0, len(codes), (2, pairs))
    keep = a != b
    bits = np.unpackbits(codes[a[keep]] ^ codes[b[keep]], axis=1).sum(axis=1)
    return float(np.median(bits))


# -- the run ----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="total references")
    parser.add_argument("--distinct", type=int, default=5000, help="real PDQ fill codes")
    parser.add_argument("--queries-per-family", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--profile", action="store_true", help="cProfile of each sync (stderr)")
    parser.add_argument("--no-threatexchange", action="store_true")
    parser.add_argument("--stage", type=int, help=argparse.SUPPRESS)  # internal: one size
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n_pokemon, n_manga = 809, 109
    if args.quick:
        args.sizes, args.distinct, args.queries_per_family = "2000,5000", 300, 4
        n_pokemon, n_manga = 100, 20
    if args.stage:
        print(json.dumps(run_stage(args.work, args.stage, args)), flush=True)
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    code = code_version()  # before the run: kenri may be edited while it runs
    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)

    paths, urban, videos = eval_sources(args.seed, n_pokemon, n_manga)

    work = Path(tempfile.mkdtemp(prefix="kenri-bench-pdq-"))
    stages: list[dict[str, Any]] = []
    try:
        with kenri.open(work / "home") as k:
            k.signals = (PdqSignal(),)  # the import computes PDQ only: no local features
            key_of, import_s = import_real(k, work, paths)
            with k.transaction() as tx:
                rows = tx.session.execute(
                    select(FingerprintRow.reference_id, FingerprintRow.data)
                    .where(FingerprintRow.signal == PdqSignal.name)
                    .order_by(FingerprintRow.reference_id)
                ).all()
                first_fill_id = (tx.session.scalar(select(func.max(Reference.id))) or 0) + 1
        real_ids = np.array([ref for ref, _ in rows], dtype=np.int64)
        real = [Fingerprint.from_bytes(PdqSignal.name, PdqSignal.version, d) for _, d in rows]
        real_codes = np.stack([fp.arrays["codes"] for fp in real])
        real_quality = np.array([int(fp.arrays["quality"][0]) for fp in real], dtype=np.int64)

        log("fingerprinting fill images (PDQ)")
        start = time.perf_counter()
        sources = fill_sources(
            urban[N_BACKGROUNDS:], videos, frames_per_s=1.0 if not args.quick else 0.25
        )
        bases, base_quality = make_pdq_bases(sources, args.distinct, args.seed)
        del sources
        fill_count = max(0, sizes[-1] - len(real_ids))
        fill_codes, fill_quality = make_fill(bases, base_quality, fill_count, args.seed)
        fill_s = time.perf_counter() - start
        distinct = len(np.unique(fill_codes[:, 0].copy().view(np.dtype("V32"))))
        codes = np.concatenate([real_codes, fill_codes])
        np.save(work / "codes.npy", codes)
        np.save(work / "quality.npy", np.concatenate([real_quality, fill_quality]))
        fill_ids = first_fill_id + np.arange(fill_count, dtype=np.int64)
        np.save(work / "ref_ids.npy", np.concatenate([real_ids, fill_ids]))
        meta = {
            "paths": {key: str(path) for key, path in paths.items()},
            "key_of": {str(i): key for i, key in key_of.items()},
            "backgrounds": [str(p) for p in urban[:N_BACKGROUNDS]],
        }
        (work / "meta.json").write_text(json.dumps(meta))
        spread_rng = np.random.default_rng(1)
        fill_info = {
            "distinct_images": len(bases),
            "sources": "urban100 (minus query photos) + evaluation video frames",
            "derived": f"a random base, {FLIP_BITS} bits flipped in its code and mirror code",
            "distinct_codes": distinct,
            "of": fill_count,
            "median_pair_distance_real": pair_distances(real_codes[:, 0], spread_rng),
            "median_pair_distance_fill": pair_distances(fill_codes[:, 0], spread_rng),
            "fingerprint_s": round(fill_s, 1),
        }
        log(json.dumps(fill_info))
        del fill_codes

        total = len(real_ids)
        for target in sizes:
            if target < total:
                continue
            insert_s = 0.0
            if target > total:
                log(f"inserting {target - total} synthetic references")
                start = time.perf_counter()
                with kenri.open(work / "home") as k:
                    insert_pdq_fill(
                        k,
                        codes[len(real_ids) :],
                        np.load(work / "quality.npy")[len(real_ids) :],
                        first_fill_id,
                        total - len(real_ids),
                        target - len(real_ids),
                    )
                insert_s = time.perf_counter() - start
                total = target
            command = [sys.executable, __file__, "--stage", str(target), "--work", str(work)]
            command += ["--queries-per-family", str(args.queries_per_family)]
            command += ["--seed", str(args.seed)]
            command += ["--profile"] * args.profile + ["--no-threatexchange"] * bool(
                args.no_threatexchange
            )
            env = {**os.environ, "OMP_NUM_THREADS": "1"}
            done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
            stage = json.loads(done.stdout.strip().splitlines()[-1])
            stage["insert_s"] = round(insert_s, 1)
            stage["registry_bytes"] = folder_bytes(work / "home") - folder_bytes(
                work / "home" / "media"
            )
            stages.append(stage)
            log(json.dumps(stage))
        result = {
            **run_header("scale_pdq", code),
            "real_references": len(real_ids),
            "real_low_quality": int((real_quality < PDQ_MIN_QUALITY).sum()),
            "import_real_s": round(import_s, 1),
            "fill": fill_info,
            "threads": 1,
            "match_threshold": f"score >= {BLOCK_THRESHOLD} (PDQ distance <= 31)",
            "stages": stages,
        }
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
