"""The registry's tables: who holds what, what is protected, and the licences that allow use.

Names, descriptions, reference media and grants all point at a *subject*: a work as a whole
(``character_id`` NULL) or one character of it. ``origin`` records whether a row came from a
catalog import (and may be re-synced by the next import) or was added by hand (never touched
by an import).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ORIGIN_CATALOG = "catalog"
ORIGIN_MANUAL = "manual"
WORK = "work"
PERSON = "person"  # a real person's likeness: the "work" is the person, its names theirs


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns timezone-aware UTC, on SQLite (which drops zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Holder(Base):
    """A rights holder: a studio, publisher or person who owns works."""

    __tablename__ = "holders"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    country: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    works: Mapped[list[Work]] = relationship(back_populates="holder", order_by="Work.id")


class Work(Base):
    """A protected work (a franchise, film, series); its titles live in ``names``.

    A real person is a subject of ``kind`` "person": their names live in ``names`` like a
    work's titles (so prompt screening finds them), their face photos are references, and
    only a ``likeness`` grant allows using them.
    """

    __tablename__ = "works"
    __table_args__ = (UniqueConstraint("holder_id", "title", name="uq_work_holder_title"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default=WORK, server_default=WORK)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    holder: Mapped[Holder] = relationship(back_populates="works", lazy="joined")
    characters: Mapped[list[Character]] = relationship(
        back_populates="work", order_by="Character.id"
    )


class Character(Base):
    """A character of a work; its names in every script live in ``names``."""

    __tablename__ = "characters"
    __table_args__ = (UniqueConstraint("work_id", "name", name="uq_character_work_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    work: Mapped[Work] = relationship(back_populates="characters", lazy="joined")


class Name(Base):
    """One name of a subject: a work title or a character name, in one script."""

    __tablename__ = "names"
    __table_args__ = (Index("ix_names_key", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    character_id: Mapped[int | None] = mapped_column(ForeignKey("characters.id"), index=True)
    text: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300))  # casefolded NFKC form, for lookups
    script: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str | None] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16), default=ORIGIN_MANUAL)


class Description(Base):
    """Free text a holder writes about a subject's distinctive traits."""

    __tablename__ = "descriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    character_id: Mapped[int | None] = mapped_column(ForeignKey("characters.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16), default=ORIGIN_MANUAL)


class Reference(Base):
    """A reference image or video of a subject, stored content-addressed by its SHA-256.

    Removal is soft (``removed_at``) so decisions that cited it stay explainable.
    """

    __tablename__ = "reference_media"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    character_id: Mapped[int | None] = mapped_column(ForeignKey("characters.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # image | video
    mime: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    original_name: Mapped[str] = mapped_column(String(500))
    origin: Mapped[str] = mapped_column(String(16), default=ORIGIN_MANUAL)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    work: Mapped[Work] = relationship(lazy="joined")
    character: Mapped[Character | None] = relationship(lazy="joined")


class Licensee(Base):
    """An AI company (or other user of works) that may receive grants."""

    __tablename__ = "licensees"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    country: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Grant(Base):
    """A licence: the only thing that allows use. Revoked grants stay, with when and why."""

    __tablename__ = "grants"
    __table_args__ = (Index("ix_grants_licensee_work", "licensee_id", "work_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    licensee_id: Mapped[int] = mapped_column(ForeignKey("licensees.id"))
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"))
    character_id: Mapped[int | None] = mapped_column(ForeignKey("characters.id"))
    purposes: Mapped[list[str]] = mapped_column(JSON)
    territories: Mapped[list[str]] = mapped_column(JSON)  # ISO 3166 codes, or ["*"] = worldwide
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # exclusive; None = open
    fee: Mapped[str | None] = mapped_column(String(200))
    revenue_share: Mapped[float | None] = mapped_column(Float)
    terms: Mapped[str | None] = mapped_column(Text)
    # End users of the licensee the grant is limited to (a person's "cameo" for one user);
    # None = every user of the licensee.
    users: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    licensee: Mapped[Licensee] = relationship(lazy="joined")
    work: Mapped[Work] = relationship(lazy="joined")
    character: Mapped[Character | None] = relationship(lazy="joined")


class FingerprintRow(Base):
    """A signal computed from a reference (one row per signal and frame; images have frame 0).

    The search indexes in the data folder are derived from these rows and can be rebuilt from
    them at any time (``kenri index rebuild``).
    """

    __tablename__ = "fingerprints"
    __table_args__ = (
        UniqueConstraint("reference_id", "signal", "frame_index", name="uq_fingerprint_frame"),
        # Face rows are looked up by signal on every screening (a few among millions of frames).
        Index("ix_fingerprints_signal", "signal"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reference_id: Mapped[int] = mapped_column(ForeignKey("reference_media.id"), index=True)
    signal: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    frame_index: Mapped[int] = mapped_column(Integer, default=0)
    time_s: Mapped[float] = mapped_column(Float, default=0.0)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LikenessConsent(Base):
    """Who verified that a face photo shows the person who consented to register it, and when.

    A person's face reference is accepted only with one of these: the registry never holds a
    face somebody else uploaded unverified.
    """

    __tablename__ = "likeness_consents"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    reference_id: Mapped[int] = mapped_column(ForeignKey("reference_media.id"), index=True)
    verified_by: Mapped[str] = mapped_column(String(300))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    method: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
