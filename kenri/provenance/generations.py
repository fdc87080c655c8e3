"""The generation ledger: what a licensee generated, under which decision and grants.

kenri keeps fingerprints of the output (PDQ codes: one per image, one per sampled second of a
video), not the media, unless the licensee asks (``keep_media``). The fingerprints let a
claim about a file found anywhere be traced back to the generation that made it; the grant
links count usage per grant for royalty reports.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kenri.audit.log import append
from kenri.errors import InvalidInput, MediaError, NotFound
from kenri.fingerprints.imageio import load_image
from kenri.fingerprints.pdq import PDQ_MATCH_DISTANCE, PdqSignal, from_hex
from kenri.registry.models import Base, Grant, Licensee, UTCDateTime, utcnow

if TYPE_CHECKING:
    from kenri.app import Transaction

DECISIONS = ("allow", "review", "block")
MAX_DETAILS_CHARS = 20_000
TRACE_DISTANCE = 48  # beyond HMA's 31: a re-encoded, resized copy drifts; reported as weak


class Generation(Base):
    __tablename__ = "generations"
    id: Mapped[int] = mapped_column(primary_key=True)
    licensee_id: Mapped[int] = mapped_column(ForeignKey("licensees.id"), index=True)
    prompt: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))
    media_kind: Mapped[str | None] = mapped_column(String(8))  # image | video | None
    pdq: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # n x 32-byte codes
    media_sha256: Mapped[str | None] = mapped_column(String(64))  # only when kept
    media_ext: Mapped[str | None] = mapped_column(String(8))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    taken_down_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    licensee: Mapped[Licensee] = relationship(lazy="joined")


class GenerationGrant(Base):
    """One use of one grant by one generation (what royalty reports count)."""

    __tablename__ = "generation_grants"
    generation_id: Mapped[int] = mapped_column(ForeignKey("generations.id"), primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), primary_key=True, index=True)


@dataclass(frozen=True)
class TraceHit:
    generation_id: int
    distance: int
    strength: str  # "match" (<= 31 bits, HMA's threshold) | "weak"

    def to_dict(self) -> dict[str, Any]:
        return {"generation": self.generation_id, "pdq_distance": self.distance,
                "strength": self.strength}  # fmt: skip


def media_codes(data: bytes) -> tuple[str, np.ndarray]:
    """(kind, PDQ codes) of an image or video given as bytes; ``MediaError`` if unreadable."""
    pdq = PdqSignal()
    try:
        return "image", pdq.extract(load_image(data), mirror=False).arrays["codes"]
    except MediaError:
        pass  # not an image: try it as a video
    from kenri.fingerprints.video import sample_frames

    with tempfile.NamedTemporaryFile(suffix=".mp4") as tmp:
        tmp.write(data)
        tmp.flush()
        codes = [
            pdq.extract(frame.rgb, mirror=False).arrays["codes"][0]
            for frame in sample_frames(tmp.name, fps=1.0)
        ]
    if not codes:
        raise MediaError("no frame of the video could be decoded")
    return "video", np.stack(codes)


def record_generation(
    tx: Transaction,
    licensee: Licensee,
    decision: str,
    prompt: str | None = None,
    grant_ids: Sequence[int] = (),
    media: bytes | None = None,
    pdq_hex: Sequence[str] = (),
    keep_media: bool = False,
    details: dict[str, Any] | None = None,
) -> Generation:
    """Store one generation and count its grants' usage. Grants must belong to the licensee."""
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}")
    if prompt is not None and len(prompt) > 20_000:
        raise InvalidInput("prompt longer than 20000 characters")
    if len(json.dumps(details or {}, default=str)) > MAX_DETAILS_CHARS:
        raise InvalidInput(f"details longer than {MAX_DETAILS_CHARS} characters as JSON")
    kind, codes = None, np.zeros((0, 32), np.uint8)
    if media is not None:
        kind, codes = media_codes(media)
    elif pdq_hex:
        try:
            codes = np.stack([from_hex(h) for h in pdq_hex])
        except ValueError as exc:
            raise InvalidInput("pdq codes are 64 hex characters each") from exc
        if codes.shape[1] != 32:
            raise InvalidInput("pdq codes are 64 hex characters each")
        kind = "image" if len(codes) == 1 else "video"
    grants = []
    for grant_id in dict.fromkeys(grant_ids):
        grant = tx.session.get(Grant, grant_id)
        if grant is None or grant.licensee_id != licensee.id:
            raise NotFound(f"no grant {grant_id} for this licensee")
        grants.append(grant)
    generation = Generation(
        licensee_id=licensee.id,
        prompt=prompt,
        decision=decision,
        media_kind=kind,
        pdq=codes.astype(np.uint8).tobytes(),
        details=details or {},
    )
    if media is not None and keep_media:
        info = tx.registry.media.put_bytes(media, "generation")
        generation.media_sha256, generation.media_ext = info.sha256, info.ext
    tx.session.add(generation)
    tx.session.flush()
    for grant in grants:
        tx.session.add(GenerationGrant(generation_id=generation.id, grant_id=grant.id))
    tx.session.flush()
    append(
        tx.session,
        tx.actor,
        "generation.record",
        f"generation:{generation.id}",
        {"decision": decision, "grants": [g.id for g in grants], "codes": len(codes)},
    )
    return generation


def get_generation(tx: Transaction, generation_id: int) -> Generation:
    generation = tx.session.get(Generation, generation_id)
    if generation is None:
        raise NotFound(f"no generation {generation_id}")
    return generation


def grant_usage(tx: Transaction, grant_ids: Sequence[int]) -> dict[int, int]:
    """Generations that used each grant (0 for unused ones)."""
    counts = dict(
        tx.session.execute(
            select(GenerationGrant.grant_id, func.count())
            .where(GenerationGrant.grant_id.in_(list(grant_ids)))
            .group_by(GenerationGrant.grant_id)
        ).all()
    )
    return {grant_id: int(counts.get(grant_id, 0)) for grant_id in grant_ids}


def trace(tx: Transaction, codes: np.ndarray, limit: int = 5) -> list[TraceHit]:
    """Generations whose fingerprints are near any of ``codes``, nearest first.

    An exact scan, vectorised: the ledger's codes are compared 32 bytes at a time through a
    popcount table (a million codes in well under a second); a faiss binary index over the
    ledger is the next step past that.
    """
    if len(codes) == 0:
        return []
    owners, blobs = [], []
    rows = tx.session.execute(
        select(Generation.id, Generation.pdq)
        .where(func.length(Generation.pdq) > 0)
        .execution_options(yield_per=5000)
    )
    for generation_id, blob in rows:
        blobs.append(blob)
        owners.append(np.full(len(blob) // 32, generation_id, np.int64))
    if not blobs:
        return []
    stored = np.frombuffer(b"".join(blobs), np.uint8).reshape(-1, 32)
    owner = np.concatenate(owners)
    query = codes.astype(np.uint8)
    distances = np.full(len(stored), 257, np.int64)
    for code in query:  # a few codes (a video's seconds) against every stored one
        distances = np.minimum(distances, _POPCOUNT[stored ^ code].sum(axis=1))
    best: dict[int, int] = {}
    for index in np.flatnonzero(distances <= TRACE_DISTANCE):
        generation_id, distance = int(owner[index]), int(distances[index])
        best[generation_id] = min(distance, best.get(generation_id, distance))
    ranked = sorted(best.items(), key=lambda kv: (kv[1], kv[0]))[:limit]
    return [TraceHit(g, d, "match" if d <= PDQ_MATCH_DISTANCE else "weak") for g, d in ranked]


_POPCOUNT = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(axis=1)


def generation_view(generation: Generation, usage_grants: Sequence[int] = ()) -> dict[str, Any]:
    return {
        "id": generation.id,
        "licensee": generation.licensee.name,
        "prompt": generation.prompt,
        "decision": generation.decision,
        "media_kind": generation.media_kind,
        "fingerprints": len(generation.pdq) // 32,
        "media_kept": generation.media_sha256 is not None,
        "grants": list(usage_grants),
        "details": generation.details,
        "created_at": generation.created_at.isoformat(),
        "taken_down_at": generation.taken_down_at.isoformat() if generation.taken_down_at else None,
    }


def generation_grants(tx: Transaction, generation_id: int) -> list[int]:
    return list(
        tx.session.scalars(
            select(GenerationGrant.grant_id)
            .where(GenerationGrant.generation_id == generation_id)
            .order_by(GenerationGrant.grant_id)
        )
    )
