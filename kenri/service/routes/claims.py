"""Claims and inquiries between holders and licensees, and the webhooks that announce them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import delete, select

from kenri.claims.models import Delivery, Webhook
from kenri.claims.webhooks import validate_url
from kenri.claims.workflow import act, claim_view, file_claim, get_claim, list_claims
from kenri.errors import NotFound
from kenri.service.auth import Caller, caller, holder
from kenri.service.routes.common import decode_base64, kenri_of
from kenri.service.schemas import ClaimActionIn, ClaimIn, IdPath, WebhookIn

router = APIRouter(prefix="/v1", tags=["claims"])


@router.post("/claims", status_code=201)
def create_claim(body: ClaimIn, request: Request, who: Caller = Depends(holder)) -> dict:
    """File a claim or inquiry about a generation (by id) or a file found anywhere (traced)."""
    app = kenri_of(request)
    with request.app.state.cpu_slots, app.transaction(who.label) as tx:
        claim = file_claim(
            app,
            tx,
            who.party,
            body.kind,
            body.message,
            body.generation_id,
            decode_base64(body.media_base64),
            body.licensee,
            body.work_id,
            body.character_id,
        )
        return claim_view(claim)


@router.get("/claims")
def claims(
    request: Request, state: str | None = None, overdue: bool = False,
    who: Caller = Depends(caller),
) -> list[dict]:  # fmt: skip
    """Claims you filed (holder), that are addressed to you (licensee), or all (operator)."""
    with kenri_of(request).transaction(who.label) as tx:
        return [claim_view(c) for c in list_claims(tx, who.party, state, overdue)]


@router.get("/claims/{claim_id}")
def claim(claim_id: IdPath, request: Request, who: Caller = Depends(caller)) -> dict:
    with kenri_of(request).transaction(who.label) as tx:
        return claim_view(get_claim(tx, claim_id, who.party))


@router.post("/claims/{claim_id}/actions")
def claim_action(
    claim_id: IdPath, body: ClaimActionIn, request: Request, who: Caller = Depends(caller)
) -> dict:
    """accept | dispute (licensee), escalate | withdraw (holder), uphold | reject (operator);
    reply (licensee), follow_up | close (holder) for inquiries."""
    app = kenri_of(request)
    with app.transaction(who.label) as tx:
        result = claim_view(
            act(tx, claim_id, who.party, body.action, body.note, body.actions, body.pattern)
        )
    if body.action == "accept" and "add_reference" in body.actions:
        app.sync_index()
    return result


@router.post("/webhooks", status_code=201)
def add_webhook(body: WebhookIn, request: Request, who: Caller = Depends(caller)) -> dict:
    """Be told about claim changes: POSTs signed with HMAC-SHA256 of your secret."""
    with kenri_of(request).transaction(who.label) as tx:
        hook = Webhook(tenant_id=who.tenant_id, url=validate_url(body.url), secret=body.secret)
        tx.session.add(hook)
        tx.session.flush()
        return {"id": hook.id, "url": hook.url}


@router.get("/webhooks")
def list_webhooks(request: Request, who: Caller = Depends(caller)) -> list[dict]:
    with kenri_of(request).transaction(who.label) as tx:
        hooks = tx.session.scalars(select(Webhook).where(Webhook.tenant_id == who.tenant_id))
        return [{"id": h.id, "url": h.url} for h in hooks]


@router.delete("/webhooks/{webhook_id}")
def remove_webhook(webhook_id: IdPath, request: Request, who: Caller = Depends(caller)) -> dict:
    with kenri_of(request).transaction(who.label) as tx:
        hook = tx.session.get(Webhook, webhook_id)
        if hook is None or hook.tenant_id != who.tenant_id:
            raise NotFound(f"no webhook {webhook_id}")
        tx.session.execute(delete(Delivery).where(Delivery.webhook_id == hook.id))
        tx.session.delete(hook)
        return {"id": webhook_id, "removed": True}
