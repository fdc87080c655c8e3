"""An append-only, hash-chained log: each entry's hash covers its content and the previous hash.

Editing an entry changes its hash; deleting or reordering entries breaks the chain or the
sequence numbers; deleting the newest entries is caught by the head row, which records the last
sequence number and hash (and which operators can publish elsewhere to anchor the log: someone
with write access to the database could otherwise rewrite the log and the head together).

Appends are serialised: the head row is locked (on PostgreSQL an advisory lock covers the very
first append, before the head row exists); SQLite's single writer does the same job. An append
happens inside the caller's transaction, so an entry exists exactly when the change it records
was committed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kenri.db import hold_transaction_lock
from kenri.registry.models import Base, UTCDateTime, utcnow

GENESIS = "0" * 64
ADVISORY_LOCK = 0x6B656E7269  # "kenri"


class AuditEntry(Base):
    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the newest entry's sequence number and hash."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


def entry_hash(
    prev_hash: str, seq: int, at: datetime, actor: str, action: str, subject: str, data: Any
) -> str:
    body = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, subject, data],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def append(
    session: Session, actor: str, action: str, subject: str, data: dict[str, Any] | None = None
) -> AuditEntry:
    """Add one entry to the chain, in the caller's transaction."""
    # The head row's lock serialises appends; only the very first append, with no head row
    # to lock yet, needs PostgreSQL's advisory lock (one round trip fewer on every other).
    head = session.get(AuditHead, 1, with_for_update=True)
    if head is None and hold_transaction_lock(session, ADVISORY_LOCK):
        head = session.get(AuditHead, 1, with_for_update=True, populate_existing=True)
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    at = utcnow()
    # JSON round trip: what is hashed is exactly what the database gives back.
    payload = json.loads(json.dumps(data or {}, ensure_ascii=False, default=str))
    digest = entry_hash(prev, seq, at, actor, action, subject, payload)
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        data=payload,
        prev_hash=prev,
        hash=digest,
    )
    session.add(entry)
    if head is None:
        session.add(AuditHead(id=1, seq=seq, hash=digest))
    else:
        head.seq, head.hash = seq, digest
    session.flush()
    return entry


@dataclass
class Verification:
    ok: bool
    entries: int
    head: str
    problems: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "problems": self.problems,
        }


def verify(session: Session, limit_problems: int = 20) -> Verification:
    """Walk the whole chain; report every break (edited, missing, reordered, truncated)."""
    problems: list[str] = []
    prev, expected, count = GENESIS, 1, 0
    rows = session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
    )
    for entry in rows:
        count += 1
        if entry.seq != expected:
            problems.append(f"entry {expected} is missing (next is {entry.seq})")
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.seq}: does not follow the entry before it")
        digest = entry_hash(
            entry.prev_hash, entry.seq, entry.at, entry.actor, entry.action, entry.subject,
            entry.data,
        )  # fmt: skip
        if digest != entry.hash:
            problems.append(f"entry {entry.seq}: content does not match its hash (edited)")
        prev, expected = entry.hash, entry.seq + 1
        if len(problems) >= limit_problems:
            break
    head = session.get(AuditHead, 1)
    if head is not None and len(problems) < limit_problems:
        if head.seq != expected - 1 or head.hash != prev:
            problems.append(
                f"the head says entry {head.seq} is the newest, the log ends at {expected - 1}"
                " (entries removed from the end, or the head edited)"
            )
    elif head is None and count:
        problems.append("the head row is missing")
    return Verification(not problems, count, prev, problems)
