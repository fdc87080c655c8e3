"""Tracing media found anywhere back to the generation that made it, and verifying it.

Three routes, strongest first: a trusted C2PA manifest (it names the generation and is signed),
the invisible watermark (it carries the generation id under a CRC), and a perceptual match of
the media's PDQ codes against the generation ledger. Re-encoding strips manifests; crops and
heavy compression can break the watermark; the ledger match survives what PDQ survives. A
route names a generation only when it is sure: the manifest must verify against a trusted
root, the watermark's CRC must hold and its id be in the ledger, and a ledger match must be
within HMA's PDQ threshold with no other generation as close.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kenri.errors import MediaError
from kenri.fingerprints.imageio import load_image
from kenri.provenance import watermark
from kenri.provenance.encoding import decode_video
from kenri.provenance.generations import Generation, TraceHit, media_codes, trace
from kenri.provenance.keys import trust_anchors
from kenri.provenance.manifests import ManifestReport, mime_of, read_manifest

if TYPE_CHECKING:
    from kenri.app import Kenri, Transaction

ROUTES = ("manifest", "watermark", "ledger")
VIDEO_WATERMARK_FRAMES = 12  # frames read for a video's watermark vote


@dataclass
class WatermarkReading:
    generation: int | None  # the id, when its CRC held (and, for video, most frames agree)
    confidence: float
    frames_read: int = 1
    frames_agreeing: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.generation,
            "confidence": round(self.confidence, 3),
            "frames_read": self.frames_read,
            "frames_agreeing": self.frames_agreeing,
        }


@dataclass
class TraceResult:
    """Which generation made the media, by which route, how sure; and what each route saw."""

    kind: str  # image | video | unreadable (only its manifest could be read)
    route: str | None = None
    generation: int | None = None
    confidence: float = 0.0
    manifest: ManifestReport | None = None
    watermark: WatermarkReading | None = None
    ledger: list[TraceHit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "route": self.route,
            "generation": self.generation,
            "confidence": round(self.confidence, 3),
            "manifest": self.manifest.to_dict() if self.manifest else None,
            "watermark": self.watermark.to_dict() if self.watermark else None,
            "ledger": [hit.to_dict() for hit in self.ledger],
            "notes": self.notes,
        }


def trace_media(
    app: Kenri, data: bytes, every_route: bool = False, tx: Transaction | None = None
) -> TraceResult:
    """Find the generation behind ``data`` (image or video bytes).

    Routes are tried strongest first and the first sure one answers; ``every_route`` runs all
    three anyway (what ``kenri provenance verify`` shows). ``tx``: read within the caller's
    transaction (a claim being filed), else in one of its own."""
    if tx is None:
        with app.transaction() as own:
            return trace_media(app, data, every_route, own)
    try:
        kind, pictures = _pictures(data)
    except MediaError as exc:  # a damaged file may still carry a manifest worth reporting
        kind, pictures, damage = "unreadable", [], str(exc)
    else:
        damage = None
    result = TraceResult(kind, notes=[f"media does not decode: {damage}"] if damage else [])
    known = _known(tx)
    mime = mime_of(data)
    if mime is not None:
        try:
            result.manifest = read_manifest(data, mime, trust_anchors(app.settings))
        except MediaError as exc:
            result.notes.append(str(exc))
    if result.manifest is not None:
        claimed = result.manifest.generation
        if claimed is not None and known(claimed):
            _answer(result, "manifest", claimed, 1.0)
        elif not result.manifest.trusted:
            why = ", ".join(result.manifest.failures) or "unknown signer"
            result.notes.append(f"manifest not trusted ({result.manifest.state}): {why}")
    if damage is not None:
        if result.manifest is None:
            raise MediaError(damage)
        return result
    if every_route or result.route is None:
        result.watermark = _read_watermark(pictures)
        found = result.watermark.generation
        if found is not None and known(found):
            _answer(result, "watermark", found, result.watermark.confidence)
        elif found is not None:
            result.notes.append(f"watermark id {found} is not in this ledger")
    if every_route or result.route is None:
        codes = media_codes(data)[1]
        result.ledger = trace(tx, codes)
        sure = _sure_ledger_hit(result.ledger)
        if sure is not None:
            _answer(result, "ledger", sure.generation_id, 1.0 - sure.distance / 64)
    return result


def _answer(result: TraceResult, route: str, generation: int, confidence: float) -> None:
    if result.route is None:
        result.route, result.generation, result.confidence = route, generation, confidence
    elif result.generation != generation:
        result.notes.append(f"{route} names generation {generation}, not {result.generation}")


def _sure_ledger_hit(hits: list[TraceHit]) -> TraceHit | None:
    """The nearest generation, when within the match threshold and strictly nearer than any
    other (two near-identical generations are ambiguous: the ledger names neither)."""
    if not hits or hits[0].strength != "match":
        return None
    if len(hits) > 1 and hits[1].distance <= hits[0].distance:
        return None
    return hits[0]


def _known(tx):
    def known(generation_id: int) -> bool:
        return tx.session.get(Generation, generation_id) is not None

    return known


def _pictures(data: bytes) -> tuple[str, list[np.ndarray]]:
    try:
        return "image", [load_image(data)]
    except MediaError:
        pass
    try:
        frames, _fps = decode_video(data)
    except MediaError:
        raise MediaError("not a readable image or video") from None
    step = max(len(frames) // VIDEO_WATERMARK_FRAMES, 1)
    return "video", frames[::step][:VIDEO_WATERMARK_FRAMES]


def _read_watermark(pictures: list[np.ndarray]) -> WatermarkReading:
    """One picture: its id. A video: the id most frames agree on, when it is most of them;
    else one reading over all the frames together (weak marks add up over time)."""
    readings = [watermark.extract(picture) for picture in pictures]
    ids = Counter(r[0] for r in readings if r is not None)
    if ids:
        generation, votes = ids.most_common(1)[0]
        if len(pictures) == 1 or votes * 2 > sum(ids.values()):
            confidences = [r[1] for r in readings if r is not None and r[0] == generation]
            confidence = float(np.mean(confidences)) * min(1.0, votes / max(len(pictures) / 2, 1))
            return WatermarkReading(generation, confidence, len(pictures), votes)
    if len(pictures) > 1:
        together = watermark.extract(pictures)
        if together is not None:
            return WatermarkReading(together[0], together[1], len(pictures), ids[together[0]])
    return WatermarkReading(None, 0.0, len(pictures), 0)
