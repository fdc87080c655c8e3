"""Benchmark: query latency, recall and index cost as the registry grows to 10k and 100k references.

Stage 0 registers the real references (all Pokémon artworks and Manga109 covers, about 1k)
through a catalog import. Later stages fill the registry up to each of ``--sizes`` with
*synthetic* references, because importing 100k real images would take hours here:

1. ``--distinct`` augmented images (default 3,000) are cut from urban photos and frames of the
   evaluation videos (4 in 5 cropped to 20-70% of the area, half rotated by up to 30 degrees,
   rescaled to a 320-800 px longer side, 3 in 10 mirrored) and fingerprinted with kenri's own
   signals (``LocalFeatureSignal().extract``, ``PdqSignal().extract``): real ORB and PDQ.
2. The first ``--distinct`` synthetic references are those fingerprints as they are. Each
   further one recombines two of them (half the keypoints of each, the second's points mapped
   into the first's frame) and flips 8 of the 256 bits of every descriptor and 32 bits of
   the PDQ codes: new descriptor sets with the statistics of real ones, not copies.
3. They are inserted in bulk as ``Reference`` + ``FingerprintRow`` rows (synthetic SHA-256,
   one holder "Synthetic fill"), exactly the rows an import would write.

None of the photos or frames used for the fill is a query or a paste background, so a query's
only right answer is its real reference. At every size the same queries (every family of
``bench/transforms.py`` applied to real references, plus unrelated photo crops) are answered
by one Matcher after ``sync``. Measured: sync (build) time, RSS growth, codes in each faiss
index, median/p95 query time on one core, recall (top-1 right; and at the block threshold),
false matches at the block threshold. Prints one JSON line; progress goes to stderr.

    .venv/bin/python bench/scale_index.py [--sizes 10000,100000] [--quick] [--build-threads 1]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import faiss
import numpy as np
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kenri  # noqa: E402
from bench.evaldata import code_version, require, run_header  # noqa: E402
from bench.image_copy import stable_seed, write_catalog  # noqa: E402
from bench.transforms import families, random_crop  # noqa: E402
from kenri.app import Kenri  # noqa: E402
from kenri.catalog import import_catalog  # noqa: E402
from kenri.fingerprints.base import Fingerprint  # noqa: E402
from kenri.fingerprints.imageio import fit, load_image  # noqa: E402
from kenri.fingerprints.local import LocalFeatureSignal  # noqa: E402
from kenri.fingerprints.pdq import PdqSignal  # noqa: E402
from kenri.fingerprints.video import sample_frames  # noqa: E402
from kenri.matching.matcher import Matcher  # noqa: E402
from kenri.matching.scoring import BLOCK_THRESHOLD  # noqa: E402
from kenri.registry.models import FingerprintRow, Reference  # noqa: E402

N_BACKGROUNDS = 20  # urban photos kept for queries (paste backgrounds, unrelated crops)
SKIP_VIDEOS = ("smpte", "doc_medias_example.mp4", "long_examples")  # test patterns: no detail
BATCH = 2000


@dataclass
class Base:
    """The fingerprints of one augmented fill image."""

    points: np.ndarray
    descriptors: np.ndarray
    size: np.ndarray
    codes: np.ndarray  # PDQ, [plain, mirrored]


def rss_now_mb() -> float:
    """Current resident memory (not the peak), from /proc on Linux."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the fill ---------------------------------------------------------------------------------
def fill_sources(urban: list[Path], videos: list[Path], frames_per_s: float) -> list[np.ndarray]:
    sources = [fit(load_image(p), 1024) for p in urban]
    for video in videos:
        sources += [f.rgb for f in sample_frames(video, fps=frames_per_s, max_side=800)]
    return sources


def augmented(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mostly a crop, often rotated, always rescaled, sometimes mirrored: distinct fingerprints
    from few photos (the same photo cropped twice shares some, as real registries do)."""
    rgb = random_crop(rgb, rng) if rng.random() < 0.8 else rgb
    angle = rng.uniform(-30, 30) if rng.random() < 0.5 else 0.0
    if angle:
        height, width = rgb.shape[:2]
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        rgb = cv2.warpAffine(rgb, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    side = rng.uniform(320, 800)
    scale = side / max(rgb.shape[:2])
    rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb[:, ::-1]) if rng.random() < 0.3 else rgb


def make_bases(sources: list[np.ndarray], count: int, seed: int) -> list[Base]:
    local, pdq = LocalFeatureSignal(), PdqSignal()  # the signals references get at import
    rng = np.random.default_rng(stable_seed(seed, "bases"))
    bases: list[Base] = []
    start = time.perf_counter()
    while len(bases) < count:
        rgb = augmented(sources[int(rng.integers(len(sources)))], rng)
        fp = local.extract(rgb).arrays
        if len(fp["descriptors"]) < 50:  # nearly flat crops: not what references look like
            continue
        codes = pdq.extract(rgb).arrays["codes"]
        bases.append(Base(fp["points"], fp["descriptors"], fp["size"], codes))
        if len(bases) % 500 == 0:
            log(f"  fill images {len(bases)}/{count}  {time.perf_counter() - start:.0f} s")
    return bases


def flip_masks(rng: np.random.Generator, count: int, bits: int) -> np.ndarray:
    """``count`` 256-bit XOR masks with ``bits`` random bits set each (drawn once, reused)."""
    positions = np.argsort(rng.random((count, 256)), axis=1)[:, :bits]
    mask = np.zeros((count, 256), np.uint8)
    np.put_along_axis(mask, positions, 1, axis=1)
    return np.packbits(mask, axis=1)


class Fill:
    """Synthetic references made from ``bases``: the bases as they are, then recombinations."""

    def __init__(self, bases: list[Base], seed: int) -> None:
        self.bases, self.seed = bases, seed
        rng = np.random.default_rng(stable_seed(seed, "masks"))
        self.descriptor_masks = flip_masks(rng, 1 << 15, 8)
        self.pdq_masks = flip_masks(rng, 1 << 12, 32)

    def make(self, i: int) -> Base:
        if i < len(self.bases):
            return self.bases[i]
        rng = np.random.default_rng(stable_seed(self.seed, "fill", i))
        a, b = (self.bases[int(j)] for j in rng.choice(len(self.bases), 2, replace=False))
        keep_a = rng.random(len(a.descriptors)) < 0.5
        keep_b = rng.random(len(b.descriptors)) < 0.5
        b_points = b.points[keep_b] * (a.size / np.maximum(b.size, 1)).astype(np.float32)
        descriptors = np.concatenate([a.descriptors[keep_a], b.descriptors[keep_b]])
        descriptors ^= self.descriptor_masks[
            rng.integers(0, len(self.descriptor_masks), len(descriptors))
        ]
        codes = a.codes ^ self.pdq_masks[rng.integers(0, len(self.pdq_masks), 2)]
        points = np.concatenate([a.points[keep_a], b_points]).astype(np.float32)
        return Base(points, descriptors, a.size, codes)


def insert_fill(k: Kenri, fill: Fill, start: int, stop: int) -> None:
    """Bulk-insert synthetic references ``start..stop-1`` with their two fingerprint rows."""
    local_v, pdq_v = LocalFeatureSignal.version, PdqSignal.version
    with k.transaction() as tx:
        holders = {h.name: h for h in tx.registry.holders()}
        holder = holders.get("Synthetic fill") or tx.registry.add_holder("Synthetic fill", "JP")
        works = tx.registry.works(holder)
        work_id = works[0].id if works else tx.registry.add_work(holder, "Synthetic fill").id
    for batch_start in range(start, stop, BATCH):
        batch = range(batch_start, min(stop, batch_start + BATCH))
        with k.transaction() as tx:
            next_id = (tx.session.scalar(select(func.max(Reference.id))) or 0) + 1
            references, rows = [], []
            for offset, i in enumerate(batch):
                ref_id = next_id + offset
                synthetic = fill.make(i)
                width, height = (int(v) for v in synthetic.size)
                references.append(
                    {
                        "id": ref_id,
                        "work_id": work_id,
                        "character_id": None,
                        "sha256": hashlib.sha256(f"synthetic-{i}".encode()).hexdigest(),
                        "kind": "image",
                        "mime": "image/jpeg",
                        "size_bytes": 100_000,
                        "width": width,
                        "height": height,
                        "original_name": f"synthetic-{i}.jpg",
                        "origin": "manual",
                    }
                )
                local = {
                    "points": synthetic.points,
                    "descriptors": synthetic.descriptors,
                    "size": synthetic.size,
                }
                pdq = {"codes": synthetic.codes, "quality": np.array([100])}
                for signal, version, arrays in (("orb", local_v, local), ("pdq", pdq_v, pdq)):
                    data = Fingerprint(signal, version, arrays).to_bytes()
                    rows.append(
                        {
                            "reference_id": ref_id,
                            "signal": signal,
                            "version": version,
                            "frame_index": 0,
                            "time_s": 0.0,
                            "data": data,
                        }
                    )
            tx.session.execute(insert(Reference), references)
            tx.session.execute(insert(FingerprintRow), rows)


# -- the queries ------------------------------------------------------------------------------
@dataclass
class Query:
    label: str
    truth: str | None
    rgb: np.ndarray


def import_real(k: Kenri, work: Path, paths: dict[str, Path]) -> tuple[dict[int, str], float]:
    """Import the real references (the evaluation artwork) as a catalog, before any fill.

    Returns each reference id's character name (the truth queries are checked against) and
    the seconds the import took; a failed import ends the benchmark.
    """
    log(f"importing {len(paths)} real references")
    start = time.perf_counter()
    report = import_catalog(k, write_catalog(work / "catalog", list(paths), paths))
    seconds = time.perf_counter() - start
    if report.errors:
        sys.exit(f"catalog import failed: {report.errors[:3]}")
    with k.transaction() as tx:
        return {r.id: r.character.name for r in tx.registry.references()}, seconds


def make_queries(
    real: list[str], paths: dict[str, Path], backgrounds: list[Path], per_family: int, seed: int
) -> list[Query]:
    """Every family on ``per_family`` real references each, and as many unrelated crops."""
    photos = [load_image(p) for p in backgrounds]
    transforms = families(photos)
    queries = []
    for family, transform in transforms.items():
        rng = np.random.default_rng(stable_seed(seed, "scale", family))
        for j in rng.choice(len(real), per_family, replace=False):
            key = real[int(j)]
            rgb = transform(
                load_image(paths[key]), np.random.default_rng(stable_seed(seed, family, key))
            )
            queries.append(Query(family, key, rgb))
    rng = np.random.default_rng(stable_seed(seed, "unrelated"))
    for i in range(per_family * len(transforms) // 2):
        crop = random_crop(photos[i % len(photos)], rng)
        family = list(transforms)[int(rng.integers(len(transforms)))]
        queries.append(Query(f"unrelated/{family}", None, transforms[family](crop, rng)))
    return queries


def measure(k: Kenri, matcher: Matcher, key_of: dict[int, str], queries: list[Query]) -> dict:
    """Answer every query once; latency (and the part spent in the ORB index), recall, FMR."""
    index = matcher.snapshot.indexes["orb"]
    searching = [0.0]
    search = index.search

    def timed_search(codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        start = time.perf_counter()
        try:
            return search(codes, k)
        finally:
            searching[0] += time.perf_counter() - start

    index.search = timed_search  # type: ignore[method-assign]
    times, search_times, right, right_block, false_block, per_family = [], [], [], [], [], {}
    for query in queries:
        searching[0] = 0.0
        start = time.perf_counter()
        with k.transaction() as tx:
            candidates = matcher.match(tx.session, query.rgb, top=3)
        times.append((time.perf_counter() - start) * 1000)
        search_times.append(searching[0] * 1000)
        top = candidates[0] if candidates and candidates[0].score > 0 else None
        top_key = key_of.get(top.reference_id, "synthetic") if top else None
        score = top.score if top else 0.0
        if query.truth is None:
            false_block.append(score >= BLOCK_THRESHOLD)
            continue
        right.append(top_key == query.truth)
        right_block.append(top_key == query.truth and score >= BLOCK_THRESHOLD)
        per_family.setdefault(query.label, []).append(right_block[-1])
    del index.search  # back to the class's method
    times.sort()
    return {
        "queries": len(queries),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
        "orb_search_median_ms": round(statistics.median(search_times), 1),
        "recall_top1": round(float(np.mean(right)), 4),
        "recall_at_block": round(float(np.mean(right_block)), 4),
        "family_recall_at_block": {f: round(float(np.mean(v)), 3) for f, v in per_family.items()},
        "unrelated": len(false_block),
        "false_matches_at_block": int(sum(false_block)),
    }


# -- the run ----------------------------------------------------------------------------------
def eval_sources(
    seed: int, n_pokemon: int, n_manga: int
) -> tuple[dict[str, Path], list[Path], list[Path]]:
    """(real references by key, urban photos in a seeded order, evaluation videos).

    The first ``N_BACKGROUNDS`` urban photos are query backgrounds, the rest fill material.
    """
    rng = np.random.default_rng(seed)
    pokemon = sorted(require("images/pokemon_art").glob("*.png"))
    manga = sorted(require("images/manga109_covers").glob("*.jpg"))
    urban = [Path(p) for p in rng.permutation(sorted(require("images/urban100").glob("*.jpg")))]
    chosen = [pokemon[int(i)] for i in rng.permutation(len(pokemon))[:n_pokemon]]
    chosen += [manga[int(i)] for i in rng.permutation(len(manga))[:n_manga]]
    paths = {f"{'pokemon' if p.suffix == '.png' else 'manga'}/{p.stem}": p for p in chosen}
    videos = [
        p
        for p in sorted(require("videos").rglob("*"))
        if p.suffix in (".mp4", ".webm", ".gif") and not any(s in str(p) for s in SKIP_VIDEOS)
    ]
    return paths, urban, videos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="total references per stage")
    parser.add_argument("--distinct", type=int, default=3000, help="distinct fill images")
    parser.add_argument("--queries-per-family", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--build-threads", type=int, default=1, help="faiss threads for sync")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args()
    n_pokemon, n_manga = 809, 109
    if args.quick:
        args.sizes, args.distinct, args.queries_per_family = "600,1500", 150, 2
        n_pokemon, n_manga = 100, 20
    sizes = sorted(int(s) for s in args.sizes.split(","))
    code = code_version()  # before the run: kenri may be edited while it runs
    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)

    paths, urban, videos = eval_sources(args.seed, n_pokemon, n_manga)
    real = list(paths)

    work = Path(tempfile.mkdtemp(prefix="kenri-bench-scale-"))
    stages: list[dict[str, Any]] = []
    try:
        log(f"rendering queries over {len(real)} real references")
        queries = make_queries(
            real, paths, urban[:N_BACKGROUNDS], args.queries_per_family, args.seed
        )
        log("fingerprinting fill images")
        start = time.perf_counter()
        sources = fill_sources(
            urban[N_BACKGROUNDS:], videos, frames_per_s=1.0 if not args.quick else 0.25
        )
        bases = make_bases(sources, args.distinct, args.seed)
        del sources
        fill = Fill(bases, args.seed)
        fill_s = time.perf_counter() - start

        with kenri.open(work / "home") as k:
            key_of, import_s = import_real(k, work, paths)
            matcher = Matcher(k.settings.home / "index")
            total, filled = len(real), 0
            for target in [len(real), *[s for s in sizes if s > len(real)]]:
                stage: dict[str, Any] = {"references": target, "synthetic": target - len(real)}
                if target > total:
                    log(f"inserting {target - total} synthetic references")
                    start = time.perf_counter()
                    insert_fill(k, fill, filled, filled + target - total)
                    stage["insert_s"] = round(time.perf_counter() - start, 1)
                    filled += target - total
                    total = target
                log(f"sync at {target} references")
                gc.collect()
                rss_before = rss_now_mb()
                faiss.omp_set_num_threads(args.build_threads)
                start = time.perf_counter()
                with k.transaction() as tx:
                    matcher.sync(tx.session)
                stage["sync_s"] = round(time.perf_counter() - start, 1)
                faiss.omp_set_num_threads(1)
                gc.collect()
                stage["rss_growth_mb"] = round(rss_now_mb() - rss_before, 1)
                stage["rss_mb"] = round(rss_now_mb(), 1)
                indexes = matcher.snapshot.indexes
                stage["index"] = {
                    name: {"ntotal": ix.ntotal, "ivf": ix.is_ivf} for name, ix in indexes.items()
                }
                stage["index_codes_mb"] = round(
                    sum(ix.ntotal for ix in indexes.values()) * (32 + 8) / 2**20, 1
                )
                log(f"querying at {target} references")
                stage.update(measure(k, matcher, key_of, queries))
                stages.append(stage)
                log(
                    json.dumps(
                        {key: v for key, v in stage.items() if key != "family_recall_at_block"}
                    )
                )
        result = {
            **run_header("scale_index", code),
            "real_references": len(real),
            "fill": {
                "distinct_images": len(bases),
                "sources": "urban100 (minus query photos) + evaluation video frames",
                "recombined": "2 bases, half the keypoints each, 8 bits flipped per descriptor",
                "fingerprint_s": round(fill_s, 1),
            },
            "import_real_s": round(import_s, 1),
            "build_threads": args.build_threads,
            "query_threads": 1,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "stages": stages,
        }
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
