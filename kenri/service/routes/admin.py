"""Tenants, keys and the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from kenri.audit.log import AuditEntry, verify
from kenri.service.auth import Caller, caller, operator
from kenri.service.routes.common import kenri_of
from kenri.service.schemas import After, KeyIn, Limit, TenantIn
from kenri.service.tenants import Tenant, Tenants

router = APIRouter(prefix="/v1", tags=["tenants and audit"])


def tenant_view(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "role": tenant.role,
        "holder_id": tenant.holder_id,
        "licensee_id": tenant.licensee_id,
        "created_at": tenant.created_at.isoformat(),
    }


@router.get("/me")
def me(who: Caller = Depends(caller)) -> dict[str, Any]:
    """The calling tenant."""
    return {"id": who.tenant_id, "name": who.name, "role": who.role,
            "holder_id": who.holder_id, "licensee_id": who.licensee_id}  # fmt: skip


@router.post("/tenants", status_code=201)
def create_tenant(body: TenantIn, request: Request, who: Caller = Depends(operator)) -> dict:
    """Create a tenant and its first API key (shown once)."""
    with kenri_of(request).transaction(who.label) as tx:
        tenants = Tenants(tx.registry, who.label)
        tenant = tenants.create(body.name, body.role, body.country)
        _, key = tenants.issue_key(tenant, "first key")
        return {"tenant": tenant_view(tenant), "key": key}


@router.get("/tenants")
def list_tenants(request: Request, who: Caller = Depends(operator)) -> list[dict]:
    with kenri_of(request).transaction(who.label) as tx:
        return [tenant_view(t) for t in Tenants(tx.registry, who.label).all()]


@router.post("/keys", status_code=201)
def issue_own_key(body: KeyIn, request: Request, who: Caller = Depends(caller)) -> dict:
    """A new key for the calling tenant (rotate: issue, switch, revoke the old one)."""
    with kenri_of(request).transaction(who.label) as tx:
        tenants = Tenants(tx.registry, who.label)
        row, key = tenants.issue_key(tenants.get(who.tenant_id), body.label, body.expires_in_days)
        expires = row.expires_at.isoformat() if row.expires_at else None
        return {"prefix": row.prefix, "key": key, "expires_at": expires}


@router.get("/keys")
def list_own_keys(request: Request, who: Caller = Depends(caller)) -> list[dict]:
    with kenri_of(request).transaction(who.label) as tx:
        tenants = Tenants(tx.registry, who.label)
        return [
            {
                "prefix": k.prefix,
                "label": k.label,
                "created_at": k.created_at.isoformat(),
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                "expires_at": k.expires_at.isoformat() if k.expires_at else None,
            }  # fmt: skip
            for k in tenants.keys(tenants.get(who.tenant_id))
        ]


@router.delete("/keys/{prefix}")
def revoke_own_key(prefix: str, request: Request, who: Caller = Depends(caller)) -> dict:
    with kenri_of(request).transaction(who.label) as tx:
        tenants = Tenants(tx.registry, who.label)
        row = tenants.revoke_key(tenants.get(who.tenant_id), prefix)
        view = {"prefix": row.prefix, "revoked_at": row.revoked_at.isoformat()}
    request.app.state.key_cache.clear()  # after the commit: no request re-caches the old key
    return view


@router.get("/audit/verify")
def audit_verify(request: Request, who: Caller = Depends(operator)) -> dict:
    """Walk the hash chain: ok, entry count, head hash, and any break found."""
    with kenri_of(request).transaction(who.label) as tx:
        return verify(tx.session).to_dict()


@router.get("/audit")
def audit_entries(
    request: Request, after: After = 0, limit: Limit = 100, who: Caller = Depends(caller)
) -> list[dict]:
    """Audit entries: all for operators, one's own actions for other tenants."""
    with kenri_of(request).transaction(who.label) as tx:
        query = select(AuditEntry).where(AuditEntry.seq > after)
        if who.role != "operator":
            query = query.where(AuditEntry.actor == who.label)
        rows = tx.session.scalars(query.order_by(AuditEntry.seq).limit(limit))
        return [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "data": e.data,
                "hash": e.hash,
            }  # fmt: skip
            for e in rows
        ]
