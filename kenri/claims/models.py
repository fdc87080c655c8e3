"""Claims and inquiries, their history, and the webhooks that tell parties about changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kenri.registry.models import Base, Character, Holder, Licensee, UTCDateTime, Work, utcnow


class Claim(Base):
    """A holder's claim (or inquiry) about an output, addressed to one licensee."""

    __tablename__ = "claims"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # claim | inquiry
    state: Mapped[str] = mapped_column(String(16), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    licensee_id: Mapped[int] = mapped_column(ForeignKey("licensees.id"), index=True)
    work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id"))
    character_id: Mapped[int | None] = mapped_column(ForeignKey("characters.id"))
    generation_id: Mapped[int | None] = mapped_column(ForeignKey("generations.id"))
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    resolution: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    media_sha256: Mapped[str | None] = mapped_column(String(64))  # the file the holder found
    media_ext: Mapped[str | None] = mapped_column(String(8))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    holder: Mapped[Holder] = relationship(lazy="joined")
    licensee: Mapped[Licensee] = relationship(lazy="joined")
    work: Mapped[Work | None] = relationship(lazy="joined")
    character: Mapped[Character | None] = relationship(lazy="joined")
    events: Mapped[list[ClaimEvent]] = relationship(order_by="ClaimEvent.id", lazy="selectin")


class ClaimEvent(Base):
    """One state change: who, when, from what to what, and why."""

    __tablename__ = "claim_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Base):
    """An outbox row: written in the same transaction as the change, sent after commit."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
