"""Who is calling: an API key (``Authorization: Bearer kenri_...``) resolved to its tenant."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kenri.claims.workflow import Party
from kenri.errors import Unauthorized
from kenri.service.tenants import HOLDER, LICENSEE, OPERATOR, Tenant, Tenants

bearer = HTTPBearer(auto_error=False, description="An API key issued by kenri (kenri_...).")


@dataclass(frozen=True)
class Caller:
    tenant_id: int
    name: str
    role: str
    holder_id: int | None
    licensee_id: int | None
    licensee_name: str | None

    @classmethod
    def of(cls, tenant: Tenant, **extra: Any) -> Caller:
        """The caller a tenant row stands for (``extra``: a subclass's own fields)."""
        licensee_name = tenant.licensee.name if tenant.licensee else None
        return cls(tenant.id, tenant.name, tenant.role, tenant.holder_id, tenant.licensee_id,
                   licensee_name, **extra)  # fmt: skip

    @property
    def label(self) -> str:
        return f"{self.role}:{self.name}"

    @property
    def party(self) -> Party:
        return Party(self.role, self.name, self.holder_id, self.licensee_id)


class KeyCache:
    """Recently authenticated keys (by hash), so a busy client costs one lookup per TTL.

    A key revoked through this process is dropped at once; with several service processes, a
    revocation reaches the others within ``ttl_s``.
    """

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Caller | None:
        with self._lock:
            entry = self._entries.get(_fingerprint(key))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, key: str, who: Caller, expires_at: datetime | None = None) -> None:
        """Remember ``who`` for the TTL, or until the key expires if that comes first."""
        ttl = self.ttl_s
        if expires_at is not None:
            ttl = min(ttl, (expires_at - datetime.now(UTC)).total_seconds())
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[_fingerprint(key)] = (who, time.monotonic() + ttl)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def caller(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "an API key is required", {"WWW-Authenticate": "Bearer"})
    cache: KeyCache = request.app.state.key_cache
    known = cache.get(credentials.credentials)
    if known is not None:
        return known
    kenri = request.app.state.kenri
    with kenri.transaction() as tx:
        try:
            row = Tenants(tx.registry, "service").authenticate(credentials.credentials)
        except Unauthorized as exc:
            raise HTTPException(401, str(exc), {"WWW-Authenticate": "Bearer"}) from None
        tenant, expires_at = row.tenant, row.expires_at
        who = Caller.of(tenant)
    cache.put(credentials.credentials, who, expires_at)
    return who


def _role(*roles: str):
    def check(who: Caller = Depends(caller)) -> Caller:
        if who.role not in roles:
            raise HTTPException(403, f"this needs the role {' or '.join(roles)}")
        return who

    return check


holder = _role(HOLDER)
licensee = _role(LICENSEE)
operator = _role(OPERATOR)
holder_or_licensee = _role(HOLDER, LICENSEE)
