"""Find registered references in a picture: candidates from the indexes, then geometric proof.

Ids in the indexes carry where a code came from, so no lookup table is needed:

- local descriptors: ``reference_id << 28 | frame_index << 12 | keypoint``
- PDQ codes:         ``reference_id << 17 | frame_index << 1 | mirrored``

The indexes are derived data. ``sync()`` brings them up to date with the registry's fingerprint
rows (new references added, retired ones removed) and ``rebuild()`` makes them anew.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import faiss
import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kenri.concurrency import ReadWriteLock
from kenri.fingerprints.base import Fingerprint, Signal
from kenri.fingerprints.local import WORK_MIN_SIDE, LocalFeatureSignal
from kenri.fingerprints.pdq import PdqSignal
from kenri.matching import snapshot as snapshots
from kenri.matching.index import IVF_THRESHOLD, BinaryIndex, FloatIndex
from kenri.matching.scoring import score_candidate
from kenri.registry.models import FingerprintRow, Reference

LOCAL, PDQ = LocalFeatureSignal.name, PdqSignal.name
SIGNALS = {LOCAL: LocalFeatureSignal.version, PDQ: PdqSignal.version}

KP_BITS, FRAME_BITS = 12, 16
MAX_KEYPOINTS = 1 << KP_BITS
MAX_FRAMES = 1 << FRAME_BITS
HAMMING_MAX = 64  # a local descriptor pair farther apart than this is no match
PDQ_CANDIDATE_DISTANCE = 80
PDQ_MIN_QUALITY = 50  # below this PDQ says the picture has too little detail (as HMA/vPDQ do)
NEIGHBOURS = 3
MAX_CANDIDATES = 12
MIN_VOTES = 5
QUERY_FEATURES = 1500
QUERY_MAX_SIDE = 800
MIN_COVERAGE = 0.05  # share of the reference the inliers should span
ADD_BATCH = 20_000  # fingerprint rows decoded before they go to the indexes (sync, rebuild)


@dataclass(frozen=True)
class Effort:
    """How hard one query looks: the knobs that trade time for recall on hard copies.

    ``mirror_features`` caps the mirror-image local pass (None skips it: whole-picture flips
    are still found by PDQ, whose reference codes include the mirror image; only a copy both
    flipped and cropped needs the pass). ``verify`` is how many vote-ranked candidates per
    orientation get the geometric check, the costliest step per candidate. ``min_side``: a
    smaller query is enlarged to it before keypoints are found (0: never enlarged).
    """

    features: int = QUERY_FEATURES
    mirror_features: int | None = 800
    verify: int = MAX_CANDIDATES
    min_side: int = WORK_MIN_SIDE


THOROUGH = Effort()  # one-off screening: every copy kenri can find
# Bulk screening (training data): with it the dataset benchmark went from 76 to 127 items/s
# per core at 256 px, with the same recall on its 2,000 items (docs/benchmarks.md).
TRIAGE = Effort(mirror_features=None, verify=4, min_side=0)


def local_id(reference_id: int, frame: int, keypoint: np.ndarray | int) -> np.ndarray | int:
    return (reference_id << (KP_BITS + FRAME_BITS)) | (frame << KP_BITS) | keypoint


def pdq_id(reference_id: int, frame: int, mirrored: int) -> int:
    return (reference_id << (FRAME_BITS + 1)) | (frame << 1) | mirrored


Item = tuple[int, int]  # (reference_id, frame_index)


@dataclass
class Candidate:
    """One reference frame found in the query, with everything that argues for it."""

    reference_id: int
    frame_index: int
    score: float
    inliers: int = 0
    support: float = 0.0  # inliers discounted for clustering and chance (what is scored)
    votes: int = 0
    pdq_distance: int | None = None
    cosine: float | None = None  # global descriptor similarity, when one is configured
    mirrored: bool = False
    region: list[list[float]] | None = None  # reference outline in query pixels (4 corners)
    coverage: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)


class Matcher:
    def __init__(self, index_dir: Path, descriptor: Signal | None = None) -> None:
        # One query is small work: OpenMP threads only contend (parallelism is per request).
        faiss.omp_set_num_threads(1)
        self.index_dir = index_dir
        self.descriptor = descriptor
        self.signals = dict(SIGNALS)
        if descriptor is not None:
            self.signals[descriptor.name] = descriptor.version
        self.snapshot = snapshots.load(index_dir, self.signals, {LOCAL, PDQ}) or self._empty()
        self._points: OrderedDict[Item, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._points_lock = threading.Lock()
        self._rw = ReadWriteLock()  # matches read the indexes; a sync that changes them writes
        self._query_local = LocalFeatureSignal(QUERY_FEATURES, levels=8, max_side=QUERY_MAX_SIDE)
        self._query_pdq = PdqSignal()

    def _empty(self) -> snapshots.Snapshot:
        indexes: dict[str, BinaryIndex | FloatIndex] = {
            LOCAL: BinaryIndex(256),
            PDQ: BinaryIndex(256),
        }
        if self.descriptor is not None:
            indexes[self.descriptor.name] = FloatIndex()
        return snapshots.Snapshot(snapshots.Manifest(signals=dict(self.signals)), indexes)

    # -- keeping the indexes in step with the registry ------------------------------------
    def sync(self, session: Session, persist: bool = True) -> bool:
        """Add fingerprints new since the snapshot, drop retired references. True if changed.

        Checking costs two small queries; only a change waits for running matches to finish.
        """
        newest_removed_iso, last = self._registry_marks(session)
        if not self._behind(newest_removed_iso, last):
            return False
        with self._rw.write():
            return self._sync(session, newest_removed_iso, last, persist)

    @staticmethod
    def _registry_marks(session: Session) -> tuple[str | None, int]:
        """When a reference was last retired, and the newest fingerprint row's id."""
        newest_removed = session.scalar(select(func.max(Reference.removed_at)))
        last = session.scalar(select(func.max(FingerprintRow.id))) or 0
        return (newest_removed.isoformat() if newest_removed else None), last

    def _behind(self, newest_removed_iso: str | None, last_fingerprint_id: int) -> bool:
        manifest = self.snapshot.manifest
        removed = bool(newest_removed_iso) and newest_removed_iso != manifest.removed_watermark
        return removed or last_fingerprint_id > manifest.last_fingerprint_id

    def _sync(
        self, session: Session, newest_removed_iso: str | None, last: int, persist: bool
    ) -> bool:
        manifest = self.snapshot.manifest
        changed = False
        if newest_removed_iso and newest_removed_iso != manifest.removed_watermark:
            query = select(Reference.id).where(Reference.removed_at.is_not(None))
            if manifest.removed_watermark:
                query = query.where(Reference.removed_at > manifest.removed_watermark)
            for reference_id in session.scalars(query):
                self._remove_reference(reference_id)
            manifest.removed_watermark = newest_removed_iso
            changed = True
        if last > manifest.last_fingerprint_id:
            rows = session.execute(
                select(FingerprintRow)
                .join(Reference, Reference.id == FingerprintRow.reference_id)
                .where(FingerprintRow.id > manifest.last_fingerprint_id)
                # ``last`` was read by an earlier statement: rows committed since then wait
                # for the next sync, or they would be added now and again then.
                .where(FingerprintRow.id <= last)
                .where(Reference.removed_at.is_(None))
                .order_by(FingerprintRow.id)
                .execution_options(yield_per=2000)
            ).scalars()
            self._add_rows(rows)
            manifest.last_fingerprint_id = last
            changed = True
        if changed:
            self._maybe_ivf(session)
            manifest.items = self.snapshot.indexes[PDQ].ntotal // 2
            if persist:
                snapshots.save(self.index_dir, self.snapshot)
        return changed

    def rebuild(self, session: Session) -> int:
        """Throw the indexes away and build them from the registry's fingerprint rows."""
        newest_removed_iso, last = self._registry_marks(session)
        with self._rw.write():
            self.snapshot = self._empty()
            with self._points_lock:
                self._points.clear()
            self._sync(session, newest_removed_iso, last, persist=False)
            snapshots.save(self.index_dir, self.snapshot)
            return self.snapshot.manifest.items

    def _add_rows(self, rows) -> None:
        """Decode fingerprint rows into the indexes, ``ADD_BATCH`` rows at a time.

        Batches bound what a rebuild holds as Python objects: with one add at the end, 1M PDQ
        references held ~300 MB of small arrays and ints beside a 160 MB index.
        """
        pdq_codes, pdq_ids, local_codes, local_ids = [], [], [], []
        vectors, vector_ids = [], []
        for seen, row in enumerate(rows):
            if seen and seen % ADD_BATCH == 0:
                self._add_arrays(pdq_codes, pdq_ids, local_codes, local_ids, vectors, vector_ids)
            if row.signal not in self.signals or row.version != self.signals[row.signal]:
                continue
            if row.frame_index >= MAX_FRAMES:
                continue
            fp = Fingerprint.from_bytes(row.signal, row.version, row.data)
            if row.signal not in (PDQ, LOCAL):  # a global descriptor: image and mirror image
                for mirrored, vector in enumerate(fp.arrays["vectors"]):
                    vectors.append(vector)
                    vector_ids.append(pdq_id(row.reference_id, row.frame_index, mirrored))
            elif row.signal == PDQ:
                if int(fp.arrays["quality"][0]) < PDQ_MIN_QUALITY:
                    continue  # a flat frame's hash would match every other flat frame
                codes = fp.arrays["codes"]
                pdq_codes.append(codes)
                pdq_ids += [pdq_id(row.reference_id, row.frame_index, m) for m in range(len(codes))]
            else:
                descriptors = fp.arrays["descriptors"][:MAX_KEYPOINTS]
                local_codes.append(descriptors)
                local_ids.append(
                    local_id(row.reference_id, row.frame_index, np.arange(len(descriptors)))
                )
        self._add_arrays(pdq_codes, pdq_ids, local_codes, local_ids, vectors, vector_ids)

    def _add_arrays(
        self,
        pdq_codes: list,
        pdq_ids: list,
        local_codes: list,
        local_ids: list,
        vectors: list,
        vector_ids: list,
    ) -> None:
        """Add one batch of decoded rows to the indexes, then empty the lists."""
        if vectors and self.descriptor is not None:
            self.snapshot.indexes[self.descriptor.name].add(np.stack(vectors), np.array(vector_ids))
        if pdq_codes:
            self.snapshot.indexes[PDQ].add(np.concatenate(pdq_codes), np.array(pdq_ids))
        if local_codes:
            self.snapshot.indexes[LOCAL].add(
                np.concatenate(local_codes), np.concatenate(local_ids).astype(np.int64)
            )
        for pending in (pdq_codes, pdq_ids, local_codes, local_ids, vectors, vector_ids):
            pending.clear()

    def _remove_reference(self, reference_id: int) -> None:
        shift_local, shift_pdq = KP_BITS + FRAME_BITS, FRAME_BITS + 1
        self.snapshot.indexes[LOCAL].remove_range(
            reference_id << shift_local, (reference_id + 1) << shift_local
        )
        for name, index in self.snapshot.indexes.items():
            if name != LOCAL:  # PDQ and descriptors share the id layout
                index.remove_range(reference_id << shift_pdq, (reference_id + 1) << shift_pdq)
        for item in [i for i in self._points if i[0] == reference_id]:
            del self._points[item]

    def _maybe_ivf(self, session: Session) -> None:
        """Switch the local index to IVF once it is large, and retrain it as it grows 8-fold."""
        index = self.snapshot.indexes[LOCAL]
        trained = self.snapshot.manifest.ivf_trained_for
        if index.ntotal < IVF_THRESHOLD or (index.is_ivf and index.ntotal < 8 * trained):
            return
        codes, ids = [], []
        rows = session.execute(
            select(FingerprintRow)
            .join(Reference, Reference.id == FingerprintRow.reference_id)
            .where(FingerprintRow.signal == LOCAL, Reference.removed_at.is_(None))
            .execution_options(yield_per=2000)
        ).scalars()
        for row in rows:
            if row.version != SIGNALS[LOCAL] or row.frame_index >= MAX_FRAMES:
                continue
            descriptors = Fingerprint.from_bytes(LOCAL, row.version, row.data).arrays[
                "descriptors"
            ][:MAX_KEYPOINTS]
            codes.append(descriptors)
            ids.append(local_id(row.reference_id, row.frame_index, np.arange(len(descriptors))))
        all_codes = np.concatenate(codes)
        index.to_ivf(all_codes, np.concatenate(ids).astype(np.int64))
        self.snapshot.manifest.ivf_trained_for = len(all_codes)

    # -- querying -------------------------------------------------------------------------
    def match(
        self, session: Session, rgb: np.ndarray, top: int = 10, effort: Effort = THOROUGH
    ) -> list[Candidate]:
        """Candidates for one picture, best first (scores from ``scoring.score_candidate``)."""
        with self._rw.read():
            return self._match(session, rgb, top, effort)

    def _match(
        self, session: Session, rgb: np.ndarray, top: int, effort: Effort
    ) -> list[Candidate]:
        # The references hold their mirror image's code, so the query needs only its own.
        pdq_fp = self._query_pdq.extract(rgb, mirror=False)
        if effort.mirror_features:
            local_fp, flipped = self._query_local.extract_with_mirror(
                rgb, effort.mirror_features, effort.features, effort.min_side
            )
            orientations = ((False, local_fp), (True, flipped))
        else:
            local_fp = self._query_local.extract(rgb, effort.features, effort.min_side)
            orientations = ((False, local_fp),)
        width = int(local_fp.arrays["size"][0])
        found: dict[Item, Candidate] = {}

        informative = int(pdq_fp.arrays["quality"][0]) >= PDQ_MIN_QUALITY
        distances, ids = self.snapshot.indexes[PDQ].search(pdq_fp.arrays["codes"][:1], 8)
        for distance, ident in zip(distances[0], ids[0], strict=True):
            if not informative:  # flat pictures (black frames, blank pages) hash alike
                break
            if ident < 0 or distance > PDQ_CANDIDATE_DISTANCE:
                continue
            item = (int(ident) >> (FRAME_BITS + 1), (int(ident) >> 1) & (MAX_FRAMES - 1))
            best = found.get(item)
            if best is None or (best.pdq_distance or 999) > distance:
                found[item] = Candidate(*item, score=0.0, pdq_distance=int(distance))

        for mirrored, fp in orientations:
            self._local_candidates(
                session,
                fp.arrays["points"],
                fp.arrays["descriptors"],
                mirrored,
                width,
                effort.verify,
                found,
            )

        if self.descriptor is not None:
            self._descriptor_candidates(rgb, found)

        to_query = rgb.shape[1] / width  # working resolution -> the query's own pixels
        for candidate in found.values():
            candidate.score = score_candidate(
                candidate.support, candidate.pdq_distance, candidate.cosine
            )
            if candidate.region is not None:
                candidate.region = [
                    [round(x * to_query, 1), round(y * to_query, 1)] for x, y in candidate.region
                ]
        ranked = sorted(found.values(), key=lambda c: (-c.score, -c.support, c.reference_id))
        return ranked[:top]

    def _descriptor_candidates(self, rgb: np.ndarray, found: dict[Item, Candidate]) -> None:
        vector = self.descriptor.embed(rgb)[None]  # references also hold their mirror image
        similarities, ids = self.snapshot.indexes[self.descriptor.name].search(vector, 8)
        for similarity, ident in zip(similarities[0], ids[0], strict=True):
            if ident < 0:
                continue
            item = (int(ident) >> (FRAME_BITS + 1), (int(ident) >> 1) & (MAX_FRAMES - 1))
            candidate = found.setdefault(item, Candidate(*item, score=0.0))
            candidate.cosine = max(candidate.cosine or -1.0, round(float(similarity), 4))

    def _local_candidates(
        self,
        session: Session,
        query_points: np.ndarray,
        descriptors: np.ndarray,
        mirrored: bool,
        width: int,
        verify_top: int,
        found: dict[Item, Candidate],
    ) -> None:
        """Vote, then verify geometry in the (possibly mirrored) query's own frame."""
        if len(descriptors) == 0:
            return
        distances, ids = self.snapshot.indexes[LOCAL].search(descriptors, NEIGHBOURS)
        # One vote per (query keypoint, reference frame): its nearest descriptor in that frame.
        q_index = np.repeat(np.arange(len(descriptors)), ids.shape[1])
        flat_ids, flat_d = ids.ravel(), distances.ravel()
        keep = (flat_ids >= 0) & (flat_d <= HAMMING_MAX)
        q_index, flat_ids = q_index[keep], flat_ids[keep]
        items = flat_ids >> KP_BITS  # reference_id << FRAME_BITS | frame
        order = np.lexsort((q_index, items))
        q_index, flat_ids, items = q_index[order], flat_ids[order], items[order]
        first = np.ones(len(items), dtype=bool)
        first[1:] = (items[1:] != items[:-1]) | (q_index[1:] != q_index[:-1])
        q_index, flat_ids, items = q_index[first], flat_ids[first], items[first]
        unique_items, starts, counts = np.unique(items, return_index=True, return_counts=True)
        pairs: dict[Item, dict[int, int]] = {}
        for idx in np.argsort(-counts)[:MAX_CANDIDATES]:
            sl = slice(starts[idx], starts[idx] + counts[idx])
            key = int(unique_items[idx])
            item = (key >> FRAME_BITS, key & (MAX_FRAMES - 1))
            pairs[item] = dict(
                zip(
                    q_index[sl].tolist(), (flat_ids[sl] & (MAX_KEYPOINTS - 1)).tolist(), strict=True
                )
            )
        ranked = sorted(pairs.items(), key=lambda kv: -len(kv[1]))[:verify_top]
        points = self._load_points(session, [item for item, p in ranked if len(p) >= MIN_VOTES])
        for item, matched in ranked:
            if len(matched) < MIN_VOTES or item not in points:
                continue
            ref_points, ref_size = points[item]
            q_idx = np.fromiter(matched.keys(), dtype=np.int64)
            r_idx = np.fromiter(matched.values(), dtype=np.int64)
            geometry = verify(query_points[q_idx], ref_points[r_idx], ref_size)
            candidate = found.get(item)
            if candidate is None:
                candidate = found[item] = Candidate(*item, score=0.0)
            if geometry["support"] > candidate.support:
                candidate.support = geometry["support"]
                candidate.inliers = geometry["inliers"]
                candidate.votes = len(matched)
                candidate.mirrored = mirrored
                region = geometry["region"]
                if mirrored and region is not None:  # back to the query as it was given
                    region = [[round(width - 1 - x, 1), y] for x, y in region]
                candidate.region = region
                candidate.coverage = geometry["coverage"]

    def _load_points(
        self, session: Session, items: list[Item]
    ) -> dict[Item, tuple[np.ndarray, np.ndarray]]:
        """Keypoints of these reference frames, from a shared LRU cache or the database."""
        with self._points_lock:
            found = {item: self._points[item] for item in items if item in self._points}
        missing = [item for item in items if item not in found]
        loaded: dict[Item, tuple[np.ndarray, np.ndarray]] = {}
        if missing:
            by_reference = defaultdict(set)
            for reference_id, frame in missing:
                by_reference[reference_id].add(frame)
            rows = session.execute(
                select(FingerprintRow.reference_id, FingerprintRow.frame_index, FingerprintRow.data)
                .where(FingerprintRow.signal == LOCAL)
                .where(FingerprintRow.reference_id.in_(list(by_reference)))
            ).all()
            for reference_id, frame, data in rows:
                if frame in by_reference[reference_id]:
                    fp = Fingerprint.from_bytes(LOCAL, SIGNALS[LOCAL], data)
                    loaded[(reference_id, frame)] = (fp.arrays["points"], fp.arrays["size"])
        found.update(loaded)
        with self._points_lock:
            self._points.update(loaded)
            for item in found:
                if item in self._points:
                    self._points.move_to_end(item)
            while len(self._points) > 20_000:
                self._points.popitem(last=False)
        return found


def verify(query_pts: np.ndarray, ref_pts: np.ndarray, ref_size: np.ndarray) -> dict[str, Any]:
    """RANSAC homography from reference to query; inliers that agree on it are the evidence.

    Degenerate fits (collapsed, mirrored or wildly stretched) count as no match.
    """
    result: dict[str, Any] = {"inliers": 0, "support": 0.0, "region": None, "coverage": 0.0}
    if len(query_pts) < 5:
        return result
    homography, mask = cv2.findHomography(
        ref_pts.astype(np.float32),
        query_pts.astype(np.float32),
        cv2.USAC_MAGSAC,
        ransacReprojThreshold=6.0,
        maxIters=1000,
        confidence=0.995,
    )
    if homography is None or mask is None:
        return result
    linear = homography[:2, :2]
    det = float(np.linalg.det(linear))
    if not (1 / 64 < abs(det) < 64) or det < 0:
        return result
    singular = np.linalg.svd(linear, compute_uv=False)
    if singular[1] <= 0 or singular[0] / singular[1] > 6:
        return result
    width, height = float(ref_size[0]), float(ref_size[1])
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    # Perspective: how much the projective terms stretch one corner against another.
    w = corners @ homography[2, :2] + homography[2, 2]
    if w.min() <= 0 or w.max() / w.min() > 2.5:
        return result
    region = cv2.perspectiveTransform(corners[None], homography)[0]
    if not cv2.isContourConvex(region.astype(np.float32)):
        return result
    inlier_mask = mask.ravel().astype(bool)
    inlier_ref = ref_pts[inlier_mask]
    if len(inlier_ref) < 3:
        return result
    hull = cv2.convexHull(inlier_ref.astype(np.float32))
    coverage = float(cv2.contourArea(hull)) / max(1.0, width * height)
    # Inliers bunched on a sliver of the reference (a shared eye, a logo) are weak evidence.
    raw = len(inlier_ref)
    # Two discounts turn inliers into support: inliers bunched on a sliver of the reference
    # (a shared logo, an eye) and inliers that are a small share of many putative matches
    # (smooth cartoon outlines let RANSAC find dozens of chance agreements among hundreds).
    support = raw * min(1.0, coverage / MIN_COVERAGE) * math.sqrt(raw / len(query_pts))
    result.update(
        inliers=raw,
        support=round(support, 1),
        coverage=round(coverage, 3),
        region=[[round(float(x), 1), round(float(y), 1)] for x, y in region],
    )
    return result
