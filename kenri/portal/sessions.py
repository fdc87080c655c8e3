"""Portal sign-in: a tenant signs in with one of its API keys and gets a session cookie.

The cookie holds a random token; the database keeps only its SHA-256 (like API keys), the
tenant, a per-session CSRF token that every form posts back, and an expiry. Signing out, or
revoking the key the session was opened with, ends it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from kenri.registry.models import Base, UTCDateTime, utcnow
from kenri.service.tenants import ApiKey, Tenant

SESSION_HOURS = 12


class PortalSession(Base):
    __tablename__ = "portal_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tenant: Mapped[Tenant] = relationship(lazy="joined")
    key: Mapped[ApiKey] = relationship(lazy="joined")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, key: ApiKey) -> tuple[PortalSession, str]:
    """A new session for the key's tenant: (row, the cookie's token, never stored)."""
    token = secrets.token_urlsafe(32)
    row = PortalSession(
        token_sha256=_digest(token),
        tenant_id=key.tenant_id,
        key_id=key.id,
        csrf=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(hours=SESSION_HOURS),
    )
    session.add(row)
    session.flush()
    return row, token


def find_session(session: Session, token: str | None) -> PortalSession | None:
    """The live session of a cookie: not expired, its key neither revoked nor expired."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(PortalSession).where(PortalSession.token_sha256 == _digest(token)))
    now = utcnow()
    if row is None or row.expires_at <= now or row.key.revoked_at is not None:
        return None
    if row.key.expires_at is not None and row.key.expires_at <= now:
        return None
    return row


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(PortalSession).where(PortalSession.token_sha256 == _digest(token)))


def csrf_ok(row: PortalSession, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(row.csrf, presented)
