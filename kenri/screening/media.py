"""Screen pictures and videos against the registry, and decide under the consent ledger.

A match on a work the licensee holds a grant for (for the purpose asked) does not block: the
result says ``allow`` and names the grant. Everything else that scores at or above the block
threshold blocks; between review and block, a person should look.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select

from kenri.errors import KenriError
from kenri.fingerprints.imageio import load_image
from kenri.likeness.faces import Face, face_model
from kenri.likeness.index import face_score
from kenri.matching.matcher import THOROUGH, Candidate, Effort
from kenri.registry.models import FingerprintRow, Licensee, Reference
from kenri.screening.decision import Thresholds

if TYPE_CHECKING:
    from kenri.app import Kenri, Transaction

Source = str | os.PathLike[str] | bytes | np.ndarray
NO_MIRROR = Effort(mirror_features=None)
MAX_FACE_FRAMES = 50  # frames listed as evidence per face photo


@dataclass
class MediaMatch:
    reference_id: int
    holder: str
    work: str
    character: str | None
    reference: str
    score: float
    evidence: dict[str, Any]
    grant: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "work": self.work,
            "character": self.character,
            "reference": self.reference,
            "reference_id": self.reference_id,
            "score": self.score,
            "evidence": self.evidence,
            "grant": self.grant,
        }


@dataclass
class Segment:
    start: float
    end: float
    reference_id: int
    reference: str
    reference_start: float | None
    reference_end: float | None
    score: float
    frames: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "reference": self.reference,
            "reference_id": self.reference_id,
            "reference_start": _round(self.reference_start),
            "reference_end": _round(self.reference_end),
            "score": self.score,
            "frames": self.frames,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass
class ScreenResult:
    input: str
    decision: str | None = None
    matches: list[MediaMatch] = field(default_factory=list)
    segments: list[Segment] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.error is not None:
            return {"input": self.input, "error": self.error}
        data: dict[str, Any] = {
            "input": self.input,
            "decision": self.decision,
            "matches": [m.to_dict() for m in self.matches],
        }
        if self.segments is not None:
            data["segments"] = [s.to_dict() for s in self.segments]
        return data


def _label(source: Source, position: int) -> str:
    if isinstance(source, str | os.PathLike):
        return str(source)
    return f"<input {position}>"


def _evidence(candidate: Candidate) -> dict[str, Any]:
    signal = "orb" if candidate.inliers else "pdq"
    evidence: dict[str, Any] = {"signal": signal, "mirrored": candidate.mirrored}
    if candidate.inliers:
        evidence.update(
            inliers=candidate.inliers,
            support=candidate.support,
            matched_keypoints=candidate.votes,
            reference_coverage=candidate.coverage,
            region=candidate.region,
        )
    if candidate.pdq_distance is not None:
        evidence["pdq_distance"] = candidate.pdq_distance
    return evidence


class Screener:
    """One screening pass: resolves the licensee once, then screens any number of inputs."""

    def __init__(
        self,
        app: Kenri,
        tx: Transaction,
        licensee: str | None,
        purpose: str,
        territory: str | None,
        top: int | None,
        thresholds: Thresholds,
        effort: Effort = THOROUGH,
        user: str | None = None,
    ) -> None:
        self.app, self.tx, self.effort = app, tx, effort
        self.licensee: Licensee | None = tx.registry.licensee(licensee) if licensee else None
        self.purpose, self.territory, self.user = purpose, territory, user
        self.top, self.thresholds = top, thresholds
        app.matcher.sync(tx.session)
        self.faces = app.face_index
        self.faces.sync(tx.session)

    def candidates(self, rgb: np.ndarray) -> list[Candidate]:
        return self.app.matcher.match(self.tx.session, rgb, max(self.top or 0, 10), self.effort)

    def to_matches(self, candidates: list[Candidate]) -> list[MediaMatch]:
        """Live references only (a retired one never matches), best first, one per reference."""
        best: dict[int, Candidate] = {}
        for candidate in candidates:
            current = best.get(candidate.reference_id)
            if current is None or candidate.score > current.score:
                best[candidate.reference_id] = candidate
        ranked = sorted(best.values(), key=lambda c: (-c.score, c.reference_id))
        above = sum(c.score >= self.thresholds.review for c in ranked)
        # Every candidate at or above the review threshold, and with --top K at least K.
        wanted = ranked[: max(self.top or 0, above)]
        references = self._live_references([c.reference_id for c in wanted])
        matches = []
        for candidate in wanted:
            reference = references.get(candidate.reference_id)
            if reference is None:
                continue
            matches.append(self._match(reference, candidate.score, _evidence(candidate)))
        return matches

    def _match(self, reference: Reference, score: float, evidence: dict[str, Any]) -> MediaMatch:
        """A match on a live reference, with the grant that allows it (if any)."""
        grant = None
        if self.licensee is not None and score >= self.thresholds.review:
            subject = reference.character or reference.work
            decision = self.tx.ledger.may(
                self.licensee, subject, self.purpose, self.territory, user=self.user
            )
            grant = decision.to_dict()["grant"] if decision.allowed else None
        return MediaMatch(
            reference_id=reference.id,
            holder=reference.work.holder.name,
            work=reference.work.title,
            character=reference.character.name if reference.character else None,
            reference=reference.original_name,
            score=score,
            evidence=evidence,
            grant=grant,
        )

    def face_hits(self, rgb: np.ndarray) -> list[tuple[int, float, Face]]:
        """(reference id, distance, face) of each registered person's face in the picture."""
        if not len(self.faces):
            return []  # nobody registered a face: no detector runs, dlib is not needed
        hits: dict[int, tuple[int, float, Face]] = {}
        for face in face_model().faces(rgb):
            for reference_id, distance in self.faces.nearest(face.descriptor).items():
                if face_score(distance) < self.thresholds.review:
                    continue
                if reference_id not in hits or distance < hits[reference_id][1]:
                    hits[reference_id] = (reference_id, distance, face)
        return list(hits.values())

    def face_matches(self, hits: dict[int, list[tuple[float, float, Face]]]) -> list[MediaMatch]:
        """One match per face photo: its closest face, and every frame it was seen in."""
        references = self._live_references(list(hits))
        matches = []
        for reference_id, seen in hits.items():
            reference = references.get(reference_id)
            if reference is None:
                continue
            time_s, distance, face = min(seen, key=lambda h: h[1])
            evidence: dict[str, Any] = {
                "signal": "face",
                "distance": round(distance, 4),
                "box": list(face.box),
                "person": reference.work.title,
            }
            if len(seen) > 1 or time_s > 0:
                evidence["time"] = round(time_s, 2)
                evidence["frames"] = [
                    {"time": round(t, 2), "distance": round(d, 4), "box": list(f.box)}
                    for t, d, f in sorted(seen, key=lambda h: h[0])[:MAX_FACE_FRAMES]
                ]
            matches.append(self._match(reference, face_score(distance), evidence))
        return matches

    def _live_references(self, ids: list[int]) -> dict[int, Reference]:
        if not ids:
            return {}
        rows = self.tx.session.scalars(
            select(Reference).where(Reference.id.in_(ids), Reference.removed_at.is_(None))
        ).all()
        return {r.id: r for r in rows}

    def decide(self, matches: Iterable[MediaMatch]) -> str:
        return self.thresholds.decide(m.score for m in matches if m.grant is None)

    def screen_image(self, source: Source, position: int = 0) -> ScreenResult:
        label = _label(source, position)
        try:
            rgb = source if isinstance(source, np.ndarray) else load_image(source)
            if (
                rgb.ndim != 3
                or rgb.shape[2] != 3
                or rgb.dtype != np.uint8
                or min(rgb.shape[:2]) < 1
            ):
                raise KenriError("an image array must be HxWx3 uint8 RGB")
        except KenriError as exc:
            return ScreenResult(label, error=str(exc))
        matches = self.to_matches(self.candidates(rgb))
        hits = {r: [(0.0, d, face)] for r, d, face in self.face_hits(rgb)}
        matches = _best_per_reference(matches + self.face_matches(hits))
        return ScreenResult(label, self.decide(matches), matches)

    def screen_video(
        self, source: str | os.PathLike[str], progress: Callable[[float], None] | None = None
    ) -> ScreenResult:
        from kenri.fingerprints.video import SAMPLE_FPS, sample_frames

        label = str(source)
        hits: dict[int, list[tuple[float, int, float, Candidate]]] = defaultdict(list)
        face_hits: dict[int, list[tuple[float, float, Face]]] = defaultdict(list)
        step = 1.0 / SAMPLE_FPS
        try:
            for frame in sample_frames(source):
                if progress is not None:
                    progress(frame.time_s)
                # The full effort on every other frame: a mirrored or hard copy still shows
                # up at half the frame rate, and the cost per frame drops by a third.
                effort = THOROUGH if frame.index % 2 == 1 else NO_MIRROR
                candidates = self.app.matcher.match(self.tx.session, frame.rgb, 10, effort)
                best: dict[int, Candidate] = {}  # one hit per reference and query frame
                for candidate in candidates:
                    if candidate.score < self.thresholds.review:
                        continue
                    current = best.get(candidate.reference_id)
                    if current is None or candidate.score > current.score:
                        best[candidate.reference_id] = candidate
                for reference_id, candidate in best.items():
                    hits[reference_id].append(
                        (frame.time_s, candidate.frame_index, candidate.score, candidate)
                    )
                for reference_id, distance, face in self.face_hits(frame.rgb):
                    face_hits[reference_id].append((frame.time_s, distance, face))
        except KenriError as exc:
            return ScreenResult(label, error=str(exc))
        references = self._live_references(list(hits))
        times = self._frame_times(list(references))
        segments: list[Segment] = []
        best: dict[int, Candidate] = {}
        for reference_id, frame_hits in hits.items():
            reference = references.get(reference_id)
            if reference is None:
                continue
            for run in split_runs(sorted(frame_hits, key=lambda h: h[0]), gap=2.5 * step):
                if len(run) < 2 and max(h[2] for h in run) < self.thresholds.block:
                    continue  # one weak frame is noise, not a copied stretch
                ref_times = [times.get((reference_id, h[1])) for h in run]
                is_video = reference.kind == "video"
                segments.append(
                    Segment(
                        start=run[0][0],
                        end=run[-1][0] + step,
                        reference_id=reference_id,
                        reference=reference.original_name,
                        reference_start=min(ref_times) if is_video else None,
                        reference_end=(max(ref_times) + step) if is_video else None,
                        score=round(max(h[2] for h in run), 4),
                        frames=len(run),
                    )
                )
                top_hit = max(run, key=lambda h: h[2])[3]
                if reference_id not in best or top_hit.score > best[reference_id].score:
                    best[reference_id] = top_hit
        face_runs: dict[int, list[tuple[float, float, Face]]] = {}
        for reference_id, seen in face_hits.items():
            for run in split_runs(seen, gap=2.5 * step):
                top = face_score(min(h[1] for h in run))
                if len(run) < 2 and top < self.thresholds.block:
                    continue  # one weak face in one frame is noise
                face_runs.setdefault(reference_id, []).extend(run)
                segments.append(
                    Segment(
                        start=run[0][0],
                        end=run[-1][0] + step,
                        reference_id=reference_id,
                        reference="",  # named from its match below
                        reference_start=None,
                        reference_end=None,
                        score=top,
                        frames=len(run),
                    )
                )
        matches = _best_per_reference(
            self.to_matches(list(best.values())) + self.face_matches(face_runs)
        )
        names = {m.reference_id: m.reference for m in matches}
        for segment in segments:
            segment.reference = names.get(segment.reference_id, segment.reference)
        kept = {m.reference_id for m in matches}
        segments = sorted(
            (s for s in segments if s.reference_id in kept), key=lambda s: (s.start, -s.score)
        )
        return ScreenResult(label, self.decide(matches), matches, segments)

    def _frame_times(self, reference_ids: list[int]) -> dict[tuple[int, int], float]:
        if not reference_ids:
            return {}
        rows = self.tx.session.execute(
            select(FingerprintRow.reference_id, FingerprintRow.frame_index, FingerprintRow.time_s)
            .where(FingerprintRow.reference_id.in_(reference_ids))
            .where(FingerprintRow.signal == "pdq")
        ).all()
        return {(r, f): t for r, f, t in rows}


def _best_per_reference(matches: list[MediaMatch]) -> list[MediaMatch]:
    """A reference matched both as a copy and by a face keeps its stronger match."""
    best: dict[int, MediaMatch] = {}
    for match in matches:
        if match.reference_id not in best or match.score > best[match.reference_id].score:
            best[match.reference_id] = match
    return sorted(best.values(), key=lambda m: (-m.score, m.reference_id))


def split_runs(hits: list, gap: float) -> Iterator[list]:
    """Split time-sorted hits (time first) where the query skips more than ``gap`` seconds."""
    run: list = []
    for hit in hits:
        if run and hit[0] - run[-1][0] > gap:
            yield run
            run = []
        run.append(hit)
    if run:
        yield run


def screen_images(
    app: Kenri,
    sources: Iterable[Source],
    licensee: str | None = None,
    purpose: str = "generation",
    territory: str | None = None,
    top: int | None = None,
    thresholds: Thresholds | None = None,
    user: str | None = None,
) -> Iterator[ScreenResult]:
    """Screen each input in order; an unreadable one yields a result with ``error``.

    ``user`` names the licensee's end user, for grants limited to users (likeness cameos).
    """
    with app.transaction() as tx:
        screener = Screener(
            app, tx, licensee, purpose, territory, top, thresholds or Thresholds(), user=user
        )
        for position, source in enumerate(sources):
            yield screener.screen_image(source, position)


def screen_video(
    app: Kenri,
    source: str | Path,
    licensee: str | None = None,
    purpose: str = "generation",
    territory: str | None = None,
    top: int | None = None,
    thresholds: Thresholds | None = None,
    progress: Callable[[float], None] | None = None,
    user: str | None = None,
) -> ScreenResult:
    """``progress`` hears each sampled frame's time in seconds (it may raise to stop)."""
    with app.transaction() as tx:
        screener = Screener(
            app, tx, licensee, purpose, territory, top, thresholds or Thresholds(), user=user
        )
        return screener.screen_video(source, progress)
