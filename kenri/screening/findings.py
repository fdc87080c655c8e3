"""Findings: what screening through the service found of a holder's works, kept for the holder.

A licensee's blocked or reviewed screening leaves one finding per unlicensed match: the work,
character and reference, the score and evidence, and (for images and videos) the screened media
itself, so the holder can see the evidence side by side with the reference and claim on it.
Sources: ``image`` and ``prompt`` (synchronous screening), ``video`` (a video job; the evidence
holds the matching segments) and ``training`` (an item a dataset job excluded or sent to
review). Allowed screenings and licensed matches leave nothing: they are the licensee's own
business.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kenri.app import Transaction
from kenri.registry.media import MediaStore
from kenri.registry.models import (
    Base,
    Character,
    Holder,
    Licensee,
    Reference,
    UTCDateTime,
    Work,
    utcnow,
)
from kenri.screening.decision import Thresholds
from kenri.screening.media import ScreenResult
from kenri.screening.prompt.screen import PromptResult

REVIEW = Thresholds().review


class Finding(Base):
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(16))  # image | video | prompt | training
    decision: Mapped[str] = mapped_column(String(16))  # block | review
    licensee_id: Mapped[int] = mapped_column(ForeignKey("licensees.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"))
    character_id: Mapped[int | None] = mapped_column(ForeignKey("characters.id"))
    reference_id: Mapped[int | None] = mapped_column(ForeignKey("reference_media.id"))
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prompt: Mapped[str | None] = mapped_column(Text)
    media_sha256: Mapped[str | None] = mapped_column(String(64))
    media_ext: Mapped[str | None] = mapped_column(String(16))
    licensee: Mapped[Licensee] = relationship(lazy="joined")
    work: Mapped[Work] = relationship(lazy="joined")
    character: Mapped[Character | None] = relationship(lazy="joined")
    reference: Mapped[Reference | None] = relationship()
    holder: Mapped[Holder] = relationship()


def record_media_findings(
    tx: Transaction,
    store: MediaStore,
    licensee_id: int,
    result: ScreenResult,
    data: bytes,
    source: str = "image",
    extra: dict[str, Any] | None = None,
) -> list[Finding]:
    """One finding per unlicensed match at or above review; the media is kept once.

    A video's finding carries the segments where its reference appears; ``extra`` adds facts
    to every finding's evidence (a dataset item's key and shard, its caption)."""
    if result.decision not in ("block", "review"):
        return []
    found = []
    stored = None
    for match in result.matches:
        if match.grant is not None or match.score < REVIEW or match.reference_id is None:
            continue
        reference = tx.session.get(Reference, match.reference_id)
        if reference is None:
            continue
        evidence = dict(match.evidence)
        if result.segments is not None:
            evidence["segments"] = [
                s.to_dict() for s in result.segments if s.reference_id == reference.id
            ]
        stored = stored or store.put_bytes(data, "screened")
        found.append(
            Finding(
                source=source,
                decision=result.decision,
                licensee_id=licensee_id,
                holder_id=reference.work.holder_id,
                work_id=reference.work_id,
                character_id=reference.character_id,
                reference_id=reference.id,
                score=match.score,
                evidence={**evidence, **(extra or {})},
                media_sha256=stored.sha256,
                media_ext=stored.ext,
            )
        )
    tx.session.add_all(found)
    return found


def record_prompt_findings(
    tx: Transaction, licensee_id: int, result: PromptResult
) -> list[Finding]:
    if result.decision not in ("block", "review"):
        return []
    found = [
        Finding(
            source="prompt",
            decision=result.decision,
            licensee_id=licensee_id,
            holder_id=tx.session.get(Work, match.work_id).holder_id,
            work_id=match.work_id,
            character_id=match.character_id,
            score=match.score,
            evidence={"reason": match.reason, "matched": match.matched, **match.evidence},
            prompt=result.prompt[:2000],
        )
        for match in result.matches
        if match.grant is None and match.score >= REVIEW
    ]
    tx.session.add_all(found)
    return found


def record_training_findings(
    tx: Transaction, store: MediaStore, licensee_id: int, row: dict[str, Any], media: bytes | None
) -> list[Finding]:
    """Findings for one dataset item that a run excluded or sent to review, from its
    ``decisions.parquet`` row: one per unlicensed media match (with the item's picture) and one
    per unlicensed caption match (with the caption as the text evidence)."""
    if row.get("decision") not in ("exclude", "review") or not row.get("evidence"):
        return []
    decision = "block" if row["decision"] == "exclude" else "review"
    item = {"dataset_item": row["key"], "shard": row["shard"], "reasons": row.get("reasons")}
    found, stored = [], None
    for match in json.loads(row["evidence"]):
        if match.get("grant") or (match.get("score") or 0.0) < REVIEW:
            continue
        if match.get("signal") == "media" and match.get("reference_id") and media is not None:
            reference = tx.session.get(Reference, match["reference_id"])
            if reference is None:
                continue
            stored = stored or store.put_bytes(media, "training-item")
            found.append(Finding(
                source="training", decision=decision, licensee_id=licensee_id,
                holder_id=reference.work.holder_id, work_id=reference.work_id,
                character_id=reference.character_id, reference_id=reference.id,
                score=match["score"], evidence={**match.get("evidence", {}), **item},
                media_sha256=stored.sha256, media_ext=stored.ext,
            ))  # fmt: skip
        elif match.get("signal") == "caption":
            work = tx.session.scalar(
                select(Work)
                .join(Holder)
                .where(Work.title == match.get("work"), Holder.name == match.get("holder"))
            )
            if work is None:
                continue
            character = next((c for c in work.characters if c.name == match.get("character")), None)
            found.append(Finding(
                source="training", decision=decision, licensee_id=licensee_id,
                holder_id=work.holder_id, work_id=work.id,
                character_id=character.id if character else None, score=match["score"],
                evidence={"reason": match.get("reason"), "matched": match.get("matched"), **item},
                prompt=(row.get("caption") or match.get("matched") or "")[:2000] or None,
            ))  # fmt: skip
    tx.session.add_all(found)
    return found


def findings_of(tx: Transaction, holder_id: int, limit: int = 200) -> list[Finding]:
    query = (
        select(Finding)
        .where(Finding.holder_id == holder_id)
        .order_by(Finding.id.desc())
        .limit(limit)
    )
    return list(tx.session.scalars(query))
