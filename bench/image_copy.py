"""Benchmark: image copy detection, kenri against a PDQ baseline measured in the same run.

References (registered through a catalog import into a fresh data folder): a seeded sample of
the Pokémon artworks and Manga109 covers in ``../shared/eval``, plus the three AugLy inputs.
Distractors (never registered): the other artworks and covers, and urban photos. Queries:
every family of ``bench/transforms.py`` applied to references (positives: the truth is that
reference) and to distractors (negatives), plus an unrelated set (distractors as they are, crops
of urban photos) so that false matches are counted over at least ``--unrelated`` images.

Two disjoint splits (different references, different distractors): thresholds are fitted on
the *calibration* split only and reported on the *evaluation* split. ``--calibrate`` runs only
the calibration split and prints the thresholds for ``kenri/matching/scoring.py``.

A query's prediction is its top-1 candidate and score; a positive is right only when the top-1
is its own reference. Metrics: micro-AP, recall at precision 0.9/0.99, per-family recall at the
calibrated P0.99 threshold, false match rate at the block threshold, query time (one core), and
the AugLy ready-made edits of dfdc_1. Prints one JSON line, then a markdown report (or writes
it to ``--out``); progress goes to stderr.

    .venv/bin/python bench/image_copy.py [--refs 360] [--queries-per-family 30] [--seed 0]
        [--unrelated 1000] [--calibrate] [--quick] [--out report.md]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import faiss
import numpy as np
import pdqhash

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kenri  # noqa: E402
from bench.evaldata import code_version, require, run_header  # noqa: E402
from bench.transforms import families, random_crop  # noqa: E402
from kenri.app import Kenri  # noqa: E402
from kenri.catalog import import_catalog  # noqa: E402
from kenri.fingerprints.imageio import load_image  # noqa: E402
from kenri.matching.matcher import Matcher  # noqa: E402
from kenri.matching.scoring import BLOCK_THRESHOLD, REVIEW_THRESHOLD  # noqa: E402

SPLITS = ("calibration", "evaluation")
HMA_PDQ_DISTANCE = 31  # HMA / ThreatExchange's default PDQ match threshold (of 256 bits)
AUGLY_TARGET = "dfdc/dfdc_1"

Prediction = tuple[str | None, float]  # (top-1 reference key, score); (None, 0.0) = nothing


# -- which images play which part -------------------------------------------------------------
@dataclass
class Selection:
    """Image keys ("pokemon/025", "manga/ARMS", ...) and the role each plays."""

    paths: dict[str, Path]  # every key used, registered or not
    references: list[str]  # registered (catalog order)
    split_references: dict[str, list[str]]  # split -> references its positives come from
    split_distractors: dict[str, list[str]]  # split -> never-registered images
    backgrounds: list[Path]  # photos the paste transform pastes into
    augly_queries: list[Path] = field(default_factory=list)


def _keyed(prefix: str, paths: Iterable[Path]) -> dict[str, Path]:
    return {f"{prefix}/{p.stem}": p for p in sorted(paths)}


def _halves(keys: Sequence[str]) -> tuple[list[str], list[str]]:
    return list(keys[0::2]), list(keys[1::2])


def select_images(seed: int, n_refs: int, n_backgrounds: int = 20) -> Selection:
    """A seeded sample: 5/6 of ``n_refs`` artworks, 1/6 covers; halves go to the two splits."""
    rng = np.random.default_rng(seed)
    groups = {
        "pokemon": _keyed("pokemon", require("images/pokemon_art").glob("*.png")),
        "manga": _keyed("manga", require("images/manga109_covers").glob("*.jpg")),
        "urban": _keyed("urban", require("images/urban100").glob("*.jpg")),
    }
    order = {name: [str(k) for k in rng.permutation(list(g))] for name, g in groups.items()}
    n_manga = max(2, round(n_refs / 6))
    taken = {"pokemon": n_refs - n_manga, "manga": n_manga, "urban": 0}
    split_refs: dict[str, list[str]] = {s: [] for s in SPLITS}
    split_distractors: dict[str, list[str]] = {s: [] for s in SPLITS}
    for name, keys in order.items():
        rest = keys[taken[name] :]
        if name == "urban":  # the first photos are backgrounds, never queries of their own
            rest = rest[n_backgrounds:]
        for split, half in zip(SPLITS, _halves(keys[: taken[name]]), strict=True):
            split_refs[split] += half
        for split, half in zip(SPLITS, _halves(rest), strict=True):
            split_distractors[split] += half
    paths = {k: v for g in groups.values() for k, v in g.items()}
    augly = require("images/augly_tests")
    dfdc = _keyed("dfdc", (augly / "inputs").glob("dfdc_*.jpg"))
    paths.update(dfdc)
    references = split_refs["calibration"] + split_refs["evaluation"] + list(dfdc)
    return Selection(
        paths=paths,
        references=references,
        split_references=split_refs,
        split_distractors=split_distractors,
        backgrounds=[groups["urban"][k] for k in order["urban"][:n_backgrounds]],
        augly_queries=sorted((augly / "expected_outputs_of_dfdc_1").glob("*.jpg")),
    )


HOLDERS = {
    "pokemon": ("The Pokémon Company", "JP", "Pokémon"),
    "manga": ("Manga109 publishers", "JP", "Manga109 covers"),
    "dfdc": ("DFDC (AugLy test assets)", "US", "DFDC frames"),
}


def write_catalog(folder: Path, keys: Sequence[str], paths: dict[str, Path]) -> Path:
    """One catalog line per reference; the character name is the key, so ids map back."""
    folder.mkdir(parents=True, exist_ok=True)
    catalog = folder / "catalog.jsonl"
    with open(catalog, "w", encoding="utf-8") as out:
        for key in keys:
            holder, country, work = HOLDERS[key.split("/")[0]]
            line = {
                "holder": holder,
                "country": country,
                "work": work,
                "character": key,
                "names": [],
                "descriptions": [],
                "references": [str(paths[key])],
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return catalog


# -- the systems under test -------------------------------------------------------------------
class KenriSystem:
    """kenri's Matcher over the registry: the top-1 candidate and its score."""

    name = "kenri"

    def __init__(self, k: Kenri, matcher: Matcher) -> None:
        self.k, self.matcher = k, matcher
        with k.transaction() as tx:
            self.key_of = {r.id: r.character.name for r in tx.registry.references()}

    def query(self, rgb: np.ndarray) -> Prediction:
        with self.k.transaction() as tx:
            candidates = self.matcher.match(tx.session, rgb, top=3)
        if not candidates or candidates[0].score <= 0:
            return None, 0.0
        return self.key_of[candidates[0].reference_id], float(candidates[0].score)


def pdq_code(rgb: np.ndarray) -> np.ndarray:
    """PDQ as HMA computes it: the whole picture, no mirror, 32 bytes (first bit first)."""
    bits, _quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return np.packbits(bits.astype(np.uint8))


class PdqBaseline:
    """Exact nearest PDQ code (faiss IndexBinaryFlat); score = 1 - distance / 256."""

    name = "pdq"

    def __init__(self, codes: dict[str, np.ndarray]) -> None:
        self.keys = list(codes)
        self.index = faiss.IndexBinaryFlat(256)
        self.index.add(np.stack([codes[k] for k in self.keys]))

    def query(self, rgb: np.ndarray) -> Prediction:
        distances, ids = self.index.search(pdq_code(rgb)[None], 1)
        if ids[0, 0] < 0:
            return None, 0.0
        return self.keys[int(ids[0, 0])], 1.0 - float(distances[0, 0]) / 256


class ThreatExchangePdq:
    """python-threatexchange's own PDQ index (matches only up to distance 31): a cross-check
    that the numpy baseline behaves like the PDQ matcher HMA deployments run."""

    name = "pdq_threatexchange"

    def __init__(self, codes: dict[str, np.ndarray]) -> None:
        from threatexchange.signal_type.pdq.signal import PdqSignal

        self.index = PdqSignal.get_index_cls().build(
            (bytes(code).hex(), key) for key, code in codes.items()
        )

    def query(self, rgb: np.ndarray) -> Prediction:
        matches = self.index.query(bytes(pdq_code(rgb)).hex())
        if not matches:
            return None, 0.0
        best = min(matches, key=lambda m: m.similarity_info.distance)
        return best.metadata, 1.0 - best.similarity_info.distance / 256


def threatexchange_available() -> bool:
    try:
        import threatexchange.signal_type.pdq.signal  # noqa: F401
    except ImportError:
        return False
    return True


# -- queries ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    split: str
    group: str  # positive | negative | unrelated | augly
    family: str  # a transform family, "original", "urban_crop", or an AugLy file name
    source: str  # image key, or a path for AugLy files
    truth: str | None  # the reference this query copies; None for unrelated material
    seed: int


def stable_seed(*parts: object) -> int:
    """A stable 32-bit seed from labels, so adding a family or split never reshuffles others."""
    entropy = [zlib.crc32(str(part).encode()) for part in parts]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def plan_queries(
    selection: Selection, split: str, seed: int, per_family: int, unrelated: int, names: list[str]
) -> list[Query]:
    """Positives and negatives for every family, then unrelated images up to ``unrelated``."""
    queries: list[Query] = []
    refs, distractors = selection.split_references[split], selection.split_distractors[split]
    for group, pool in (("positive", refs), ("negative", distractors)):
        for family in names:
            rng = np.random.default_rng(stable_seed(seed, split, group, family))
            chosen = rng.choice(len(pool), size=min(per_family, len(pool)), replace=False)
            for i in chosen:
                key = pool[int(i)]
                truth = key if group == "positive" else None
                queries.append(
                    Query(split, group, family, key, truth, stable_seed(seed, family, key))
                )
    needed = max(0, unrelated - sum(q.group == "negative" for q in queries))
    for key in distractors[:needed]:
        queries.append(Query(split, "unrelated", "original", key, None, 0))
    urban = [k for k in distractors if k.startswith("urban/")]
    for i in range(max(0, needed - len(distractors))):
        key = urban[i % len(urban)]
        queries.append(
            Query(split, "unrelated", "urban_crop", key, None, stable_seed(seed, key, i))
        )
    return queries


def augly_queries(selection: Selection) -> list[Query]:
    return [
        Query("augly", "augly", p.stem.removeprefix("test_"), str(p), AUGLY_TARGET, 0)
        for p in selection.augly_queries
    ]


def render(query: Query, selection: Selection, transforms: dict[str, Callable]) -> np.ndarray:
    if query.group == "augly":
        return load_image(query.source)
    rgb = load_image(selection.paths[query.source])
    rng = np.random.default_rng(query.seed)
    if query.family == "original":
        return rgb
    if query.family == "urban_crop":
        return random_crop(rgb, rng)
    return transforms[query.family](rgb, rng)


def run_queries(
    queries: list[Query], selection: Selection, transforms: dict[str, Callable], systems: list
) -> list[dict[str, Any]]:
    rows = []
    start = time.perf_counter()
    for n, query in enumerate(queries, 1):
        rgb = render(query, selection, transforms)
        row: dict[str, Any] = {"query": query}
        for system in systems:
            t0 = time.perf_counter()
            top, score = system.query(rgb)
            row[system.name] = (top, score, (time.perf_counter() - t0) * 1000)
        rows.append(row)
        if n % 100 == 0 or n == len(queries):
            elapsed = time.perf_counter() - start
            print(f"  queries {n}/{len(queries)}  {elapsed:.0f} s", file=sys.stderr, flush=True)
    return rows


# -- metrics ----------------------------------------------------------------------------------
def predictions(rows: list[dict], system: str) -> list[tuple[float, bool]]:
    """(score, right) for each query; right = a positive whose top-1 is its own reference."""
    out = []
    for row in rows:
        top, score, _ms = row[system]
        out.append((score, row["query"].truth is not None and top == row["query"].truth))
    return out


def pr_curve(preds: list[tuple[float, bool]], n_pos: int) -> list[tuple[float, float, float]]:
    """(threshold, precision, recall) at every distinct positive score, highest first."""
    scored = sorted((p for p in preds if p[0] > 0), key=lambda p: -p[0])
    curve, tp, fp, i = [], 0, 0, 0
    while i < len(scored):
        threshold = scored[i][0]
        while i < len(scored) and scored[i][0] == threshold:
            tp, fp, i = tp + scored[i][1], fp + (not scored[i][1]), i + 1
        curve.append((threshold, tp / (tp + fp), tp / max(1, n_pos)))
    return curve


def average_precision(curve: list[tuple[float, float, float]]) -> float:
    ap, last_recall = 0.0, 0.0
    for _t, precision, recall in curve:
        ap += (recall - last_recall) * precision
        last_recall = recall
    return ap


def at_precision(curve: list[tuple[float, float, float]], target: float) -> dict[str, Any]:
    """The most recall with precision >= target, and the highest threshold that gives it
    (at equal recall a higher threshold only drops false matches: the safer choice)."""
    best = {"recall": 0.0, "threshold": None}
    for threshold, precision, recall in curve:
        if precision >= target and recall > best["recall"]:
            best = {"recall": recall, "threshold": threshold}
    return best


def rate(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def split_metrics(rows: list[dict], system: str) -> dict[str, Any]:
    """Ranking metrics over positives + negatives of one split, and the zero-false threshold."""
    ranked = [r for r in rows if r["query"].group in ("positive", "negative")]
    n_pos = sum(r["query"].group == "positive" for r in ranked)
    curve = pr_curve(predictions(ranked, system), n_pos)
    p90, p99 = at_precision(curve, 0.9), at_precision(curve, 0.99)
    false_scores = [s for s, right in predictions(rows, system) if not right and s > 0]
    max_false = max(false_scores, default=0.0)
    return {
        "positives": n_pos,
        "negatives": len(ranked) - n_pos,
        "micro_ap": _r(average_precision(curve)),
        "recall_at_p90": _r(p90["recall"]),
        "recall_at_p99": _r(p99["recall"]),
        "threshold_p90": _r(p90["threshold"]),
        "threshold_p99": _r(p99["threshold"]),
        "max_false_score": _r(max_false),
        # Just above every false score (scores have 4 decimals); None when a false match
        # already scores 1.0, so that no threshold separates it.
        "zero_false_threshold": _r(max_false + 1e-4) if max_false < 1.0 else None,
        "false_scores_at_1": sum(s >= 1.0 for s in false_scores),
    }


def at_threshold(rows: list[dict], system: str, threshold: float | None) -> dict[str, Any]:
    """Precision and recall of one split's positives+negatives at a fixed threshold."""
    if threshold is None:
        return {"threshold": None}
    ranked = [r for r in rows if r["query"].group in ("positive", "negative")]
    hits = [(s >= threshold, right) for s, right in predictions(ranked, system)]
    tp = sum(h and right for h, right in hits)
    flagged = sum(h for h, _ in hits)
    positives = sum(r["query"].group == "positive" for r in ranked)
    return {
        "threshold": _r(threshold),
        "precision": _r(tp / flagged) if flagged else None,
        "recall": _r(tp / positives) if positives else None,
    }


def family_recall(rows: list[dict], system: str, threshold: float | None) -> dict[str, Any]:
    if threshold is None:
        return {}
    by_family: dict[str, list[bool]] = {}
    for row in rows:
        if row["query"].group == "positive":
            top, score, _ = row[system]
            right = top == row["query"].truth and score >= threshold
            by_family.setdefault(row["query"].family, []).append(right)
    return {family: rate(values) for family, values in by_family.items()}


def false_match_rate(rows: list[dict], system: str, threshold: float | None) -> dict[str, Any]:
    """Unrelated images (negatives + unrelated group) whose top-1 scores >= threshold."""
    unrelated = [r for r in rows if r["query"].group in ("negative", "unrelated")]
    if threshold is None:
        return {"images": len(unrelated)}
    false = [r for r in unrelated if r[system][1] >= threshold]
    examples = [
        {
            "query": f"{r['query'].family}:{r['query'].source}",
            "top": r[system][0],
            "score": r[system][1],
        }
        for r in sorted(false, key=lambda r: -r[system][1])[:10]
    ]
    return {
        "images": len(unrelated),
        "false_matches": len(false),
        "rate": rate([True] * len(false) + [False] * (len(unrelated) - len(false))),
        "examples": examples,
    }


def augly_found(rows: list[dict], system: str, thresholds: dict[str, float | None]) -> dict:
    found: dict[str, Any] = {"queries": len(rows)}
    for label, threshold in thresholds.items():
        if threshold is None:
            continue
        hits = [r[system][0] == AUGLY_TARGET and r[system][1] >= threshold for r in rows]
        found[label] = sum(hits)
        if label == "review":
            found["missed_at_review"] = sorted(
                r["query"].family for r, hit in zip(rows, hits, strict=True) if not hit
            )
    return found


def disagreements(rows: list[dict], a: str, b: str) -> int:
    """Queries where two PDQ matchers decide differently at HMA's distance 31."""
    cut = 1 - HMA_PDQ_DISTANCE / 256 - 1e-9

    def decision(row: dict, system: str) -> str | None:
        top, score, _ = row[system]
        return top if score >= cut else None

    return sum(decision(r, a) != decision(r, b) for r in rows)


def timing(rows: list[dict], system: str) -> dict[str, float]:
    ms = sorted(r[system][2] for r in rows)
    return {
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1),
    }


# -- the run ----------------------------------------------------------------------------------
def rss_mb() -> float:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def summarise(rows: list[dict], systems: list[str], splits: list[str]) -> dict[str, Any]:
    fixed = {
        "kenri": {"review": REVIEW_THRESHOLD, "block": BLOCK_THRESHOLD},
        "pdq": {"block": 1 - HMA_PDQ_DISTANCE / 256},
        "pdq_threatexchange": {"block": 1 - HMA_PDQ_DISTANCE / 256},
    }
    out: dict[str, Any] = {}
    for system in systems:
        by_split = {s: [r for r in rows if r["query"].split == s] for s in splits}
        cal = split_metrics(by_split["calibration"], system)
        result: dict[str, Any] = {"calibration": cal, "timing": timing(rows, system)}
        if "evaluation" in by_split:
            ev_rows = by_split["evaluation"]
            block = fixed[system]["block"]
            result["evaluation"] = {
                **split_metrics(ev_rows, system),
                "at_calibrated_p99": at_threshold(ev_rows, system, cal["threshold_p99"]),
                "at_calibrated_p90": at_threshold(ev_rows, system, cal["threshold_p90"]),
                "at_block": at_threshold(ev_rows, system, block),
                "false_match_rate_at_block": false_match_rate(ev_rows, system, block),
                "false_match_rate_at_calibrated_zero_false": false_match_rate(
                    ev_rows, system, cal["zero_false_threshold"]
                ),
                "at_calibrated_zero_false": at_threshold(
                    ev_rows, system, cal["zero_false_threshold"]
                ),
                "family_recall_at_calibrated_p99": family_recall(
                    ev_rows, system, cal["threshold_p99"]
                ),
                "family_recall_at_block": family_recall(ev_rows, system, block),
            }
            if "review" in fixed[system]:
                result["evaluation"]["family_recall_at_review"] = family_recall(
                    ev_rows, system, fixed[system]["review"]
                )
        if system == "pdq_threatexchange" and "pdq" in systems:
            result["note"] = "matches only up to distance 31: ranking metrics are truncated"
            result["disagreements_with_pdq_at_d31"] = disagreements(rows, "pdq", system)
        augly = [r for r in rows if r["query"].group == "augly"]
        if augly:
            thresholds = {**fixed[system], "calibrated_p99": cal["threshold_p99"]}
            result["augly_dfdc_1"] = augly_found(augly, system, thresholds)
        out[system] = result
    return out


def markdown(summary: dict[str, Any]) -> str:
    k, p = summary["systems"]["kenri"], summary["systems"]["pdq"]
    setup = summary["setup"]
    lines = [
        f"## Image copy detection: kenri vs PDQ ({summary['date']}, {summary['machine']})",
        "",
        f"`{summary['command']}`: {setup['references']} references, "
        f"{setup['queries_per_family']} queries per family and split, "
        f"{setup['families']} families, seed {setup['seed']}. "
        + (
            "Thresholds fitted on the calibration split, reported on the evaluation split."
            if "evaluation" in k
            else "Calibration split only (--calibrate): thresholds to put in scoring.py."
        ),
        "",
    ]
    if "evaluation" in k:
        ke, pe = k["evaluation"], p["evaluation"]
        rows = [
            ("micro-AP (eval)", ke["micro_ap"], pe["micro_ap"]),
            ("recall @ precision 0.90 (eval curve)", ke["recall_at_p90"], pe["recall_at_p90"]),
            ("recall @ precision 0.99 (eval curve)", ke["recall_at_p99"], pe["recall_at_p99"]),
            (
                "P0.99 threshold from calibration",
                k["calibration"]["threshold_p99"],
                p["calibration"]["threshold_p99"],
            ),
            (
                "eval precision / recall at it",
                _pair(ke["at_calibrated_p99"]),
                _pair(pe["at_calibrated_p99"]),
            ),
            (
                "eval precision / recall at block (kenri 0.9, PDQ d<=31)",
                _pair(ke["at_block"]),
                _pair(pe["at_block"]),
            ),
            (
                "false matches at block, unrelated images",
                _fmr(ke["false_match_rate_at_block"]),
                _fmr(pe["false_match_rate_at_block"]),
            ),
            (
                "calibrated zero-false threshold: eval false matches, recall",
                _zero_false(k["calibration"], ke),
                _zero_false(p["calibration"], pe),
            ),
        ]
    else:
        kc, pc = k["calibration"], p["calibration"]
        rows = [
            (name, kc[key], pc[key])
            for name, key in (
                ("micro-AP (calibration)", "micro_ap"),
                ("recall @ precision 0.99 (calibration)", "recall_at_p99"),
                ("threshold for precision 0.90", "threshold_p90"),
                ("threshold for precision 0.99", "threshold_p99"),
                ("highest false score", "max_false_score"),
                ("block threshold with zero false matches", "zero_false_threshold"),
            )
        ]
    rows.append(
        (
            "query time median / p95 (ms, one core)",
            f"{k['timing']['median_ms']} / {k['timing']['p95_ms']}",
            f"{p['timing']['median_ms']} / {p['timing']['p95_ms']}",
        )
    )
    if "augly_dfdc_1" in k:
        ka, pa = k["augly_dfdc_1"], p["augly_dfdc_1"]
        rows.append(
            (
                f"AugLy edits of dfdc_1 found (of {ka['queries']}): review / block",
                f"{ka.get('review')} / {ka.get('block')}",
                f"- / {pa.get('block')}",
            )
        )
    lines += ["| metric | kenri | PDQ |", "|---|---|---|"]
    lines += [f"| {name} | {a} | {b} |" for name, a, b in rows]
    lines += ["", f"Peak RSS of the whole run: {summary['peak_rss_mb']} MB."]
    if "evaluation" in k:
        ke, pe = k["evaluation"], p["evaluation"]
        lines += [
            "",
            "Recall per family, evaluation split (top-1 must be the right reference):",
            "",
            "| family | kenri @ cal. P0.99 | PDQ @ cal. P0.99 | kenri @ block 0.9 | "
            "kenri @ review 0.5 | PDQ @ d<=31 |",
            "|---|---|---|---|---|---|",
        ]
        for family in summary["setup"]["family_names"]:
            cells = [
                ke["family_recall_at_calibrated_p99"].get(family),
                pe["family_recall_at_calibrated_p99"].get(family),
                ke["family_recall_at_block"].get(family),
                ke["family_recall_at_review"].get(family),
                pe["family_recall_at_block"].get(family),
            ]
            lines.append(f"| {family} | " + " | ".join(str(c) for c in cells) + " |")
    if "augly_dfdc_1" in k:
        missed = ", ".join(k["augly_dfdc_1"].get("missed_at_review", [])) or "none"
        lines += ["", f"AugLy edits kenri misses at review: {missed}."]
    return "\n".join(lines) + "\n"


def _pair(d: dict[str, Any]) -> str:
    return f"{d.get('precision')} / {d.get('recall')}" if d.get("threshold") is not None else "-"


def _zero_false(calibration: dict[str, Any], evaluation: dict[str, Any]) -> str:
    threshold = calibration["zero_false_threshold"]
    if threshold is None:
        return f"none ({calibration['false_scores_at_1']} false matches score 1.0)"
    fmr = _fmr(evaluation["false_match_rate_at_calibrated_zero_false"])
    return f"{threshold}: {fmr}, recall {evaluation['at_calibrated_zero_false']['recall']}"


def _fmr(d: dict[str, Any]) -> str:
    if "false_matches" not in d:
        return "-"
    return f"{d['false_matches']} of {d['images']} ({d['rate']})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--refs", type=int, default=360, help="artwork references (5:1 Pokémon:manga)"
    )
    parser.add_argument("--queries-per-family", type=int, default=30)
    parser.add_argument("--unrelated", type=int, default=1000, help="false-match images per split")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--calibrate", action="store_true", help="calibration split only: thresholds"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--out", type=Path, help="write the markdown report here")
    args = parser.parse_args()
    if args.quick:
        args.refs, args.queries_per_family, args.unrelated = 48, 3, 60
    code = code_version()  # before the run: kenri may be edited while it runs
    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)

    selection = select_images(args.seed, args.refs)
    transforms = families([load_image(p) for p in selection.backgrounds])
    splits = ["calibration"] if args.calibrate else list(SPLITS)
    work = Path(tempfile.mkdtemp(prefix="kenri-bench-copy-"))
    try:
        log(f"registering {len(selection.references)} references")
        catalog = write_catalog(work / "catalog", selection.references, selection.paths)
        with kenri.open(work / "home") as k:
            start = time.perf_counter()
            report = import_catalog(k, catalog)
            import_s = time.perf_counter() - start
            if report.errors:
                sys.exit(f"catalog import failed: {report.errors[:3]}")
            matcher = Matcher(k.settings.home / "index")
            start = time.perf_counter()
            with k.transaction() as tx:
                matcher.sync(tx.session)
            sync_s = time.perf_counter() - start
            codes = {
                key: pdq_code(load_image(selection.paths[key])) for key in selection.references
            }
            systems: list = [KenriSystem(k, matcher), PdqBaseline(codes)]
            if threatexchange_available():
                systems.append(ThreatExchangePdq(codes))
            queries = [
                q
                for split in splits
                for q in plan_queries(
                    selection,
                    split,
                    args.seed,
                    args.queries_per_family,
                    args.unrelated,
                    list(transforms),
                )
            ] + augly_queries(selection)
            log(f"running {len(queries)} queries through {[s.name for s in systems]}")
            rows = run_queries(queries, selection, transforms, systems)
            index_codes = {name: ix.ntotal for name, ix in matcher.snapshot.indexes.items()}
        names = [s.name for s in systems]
        summary = {
            **run_header("image_copy", code),
            "setup": {
                "seed": args.seed,
                "references": len(selection.references),
                "queries_per_family": args.queries_per_family,
                "families": len(transforms),
                "family_names": list(transforms),
                "queries": len(queries),
                "splits": splits,
                "import_s": round(import_s, 1),
                "sync_s": round(sync_s, 1),
                "index_codes": index_codes,
                "threatexchange": "pdq_threatexchange" in names or "not installed",
            },
            "peak_rss_mb": rss_mb(),
            "systems": summarise(rows, names, splits),
        }
        print(json.dumps(summary, ensure_ascii=False))
        report_md = markdown(summary)
        if args.out:
            args.out.write_text(report_md, encoding="utf-8")
        else:
            print(report_md)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
