"""Tenants (rights holders, licensees, operators) and their API keys.

A key is shown once, when it is issued; kenri stores only its SHA-256 (keys are 256 random
bits, so a fast hash is safe: there is nothing to brute-force) and a short public prefix to
find the row. Every issue and revocation is written to the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kenri.audit.log import append
from kenri.errors import InvalidInput, NotFound, Unauthorized
from kenri.registry.models import Base, Holder, Licensee, UTCDateTime, utcnow
from kenri.registry.registry import Registry

HOLDER, LICENSEE, OPERATOR = "holder", "licensee", "operator"
ROLES = (HOLDER, LICENSEE, OPERATOR)
KEY_PREFIX = "kenri_"


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("holders.id"), unique=True)
    licensee_id: Mapped[int | None] = mapped_column(ForeignKey("licensees.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    holder: Mapped[Holder | None] = relationship(lazy="joined")
    licensee: Mapped[Licensee | None] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        return f"{self.role}:{self.name}"


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tenant: Mapped[Tenant] = relationship(lazy="joined")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Tenants:
    def __init__(self, registry: Registry, actor: str) -> None:
        self.registry, self.session, self.actor = registry, registry.session, actor

    def create(self, name: str, role: str, country: str | None = None) -> Tenant:
        """A tenant; a holder or licensee tenant gets (or adopts) its registry row by name."""
        name = (name or "").strip()
        if not name or len(name) > 300:
            raise InvalidInput("a tenant needs a name of 1 to 300 characters")
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
        if self.session.scalar(select(Tenant).where(Tenant.name == name)) is not None:
            raise InvalidInput(f"a tenant named {name!r} exists")
        tenant = Tenant(name=name, role=role)
        if role == HOLDER:
            tenant.holder = self.registry.ensure_holder(name, country)[0]
        elif role == LICENSEE:
            existing = self.session.scalar(select(Licensee).where(Licensee.name == name))
            tenant.licensee = existing or self.registry.add_licensee(name, country)
        self.session.add(tenant)
        self.session.flush()
        append(self.session, self.actor, "tenant.create", tenant.label, {"id": tenant.id})
        return tenant

    def get(self, tenant_id: int) -> Tenant:
        tenant = self.session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id}")
        return tenant

    def by_name(self, name: str) -> Tenant:
        tenant = self.session.scalar(select(Tenant).where(Tenant.name == name))
        if tenant is None:
            raise NotFound(f"no tenant named {name!r}")
        return tenant

    def all(self) -> Sequence[Tenant]:
        return self.session.scalars(select(Tenant).order_by(Tenant.id)).all()

    def issue_key(
        self, tenant: Tenant, label: str | None = None, expires_in_days: int | None = None
    ) -> tuple[ApiKey, str]:
        """A new key for ``tenant``: (row, the key itself, which is never stored)."""
        if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
            raise InvalidInput("a key expires in 1 to 3650 days")
        prefix = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        row = ApiKey(
            tenant_id=tenant.id, prefix=prefix, sha256=_digest(key), label=label, expires_at=expires
        )
        self.session.add(row)
        self.session.flush()
        append(self.session, self.actor, "key.issue", tenant.label,
               {"key": prefix, "expires_at": expires.isoformat() if expires else None})  # fmt: skip
        return row, key

    def revoke_key(self, tenant: Tenant, prefix: str) -> ApiKey:
        row = self.session.scalar(
            select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.tenant_id == tenant.id)
        )
        if row is None:
            raise NotFound(f"no key {prefix!r} for this tenant")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            append(self.session, self.actor, "key.revoke", tenant.label, {"key": prefix})
        return row

    def keys(self, tenant: Tenant) -> Sequence[ApiKey]:
        return self.session.scalars(
            select(ApiKey).where(ApiKey.tenant_id == tenant.id).order_by(ApiKey.id)
        ).all()

    def authenticate(self, key: str) -> ApiKey:
        """The key row a presented key matches; ``Unauthorized`` says why not (unknown or
        malformed, revoked, expired)."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            raise Unauthorized("not a kenri API key")
        prefix = key[len(KEY_PREFIX) :].split("_", 1)[0]
        row = self.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if row is None or not hmac.compare_digest(row.sha256, _digest(key)):
            raise Unauthorized("unknown API key")
        if row.revoked_at is not None:
            raise Unauthorized(f"API key {prefix} was revoked")
        if row.expires_at is not None and row.expires_at <= utcnow():
            raise Unauthorized(f"API key {prefix} expired at {row.expires_at.isoformat()}")
        return row
