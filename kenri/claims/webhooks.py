"""Signed webhooks: parties learn about claim changes without polling.

Deliveries go through an outbox written in the same transaction as the change (no change is
announced that was rolled back, none is lost when the sender is down) and are sent afterwards
with ``X-Kenri-Signature: sha256=HMAC(secret, timestamp + "." + body)`` and
``X-Kenri-Timestamp``; receivers check both (``verify_signature``) and reject stale stamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kenri.claims.models import Claim, Delivery, Webhook
from kenri.errors import InvalidInput
from kenri.registry.models import utcnow

MAX_ATTEMPTS = 8
TIMEOUT_S = 5.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, max_age_s: float = 300
) -> bool:
    """What a receiver runs: right secret, untouched body, fresh timestamp."""
    try:
        fresh = abs(time.time() - float(timestamp)) <= max_age_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def validate_url(url: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 1000:
        raise InvalidInput("a webhook url is an http(s) URL of at most 1000 characters")
    return url


def enqueue(session: Session, claim: Claim, event: str, body: dict[str, Any]) -> int:
    """Queue ``event`` for every webhook of the claim's holder and licensee tenants."""
    from kenri.service.tenants import Tenant

    tenants = select(Tenant.id).where(
        or_(Tenant.holder_id == claim.holder_id, Tenant.licensee_id == claim.licensee_id)
    )
    hooks = session.scalars(select(Webhook).where(Webhook.tenant_id.in_(tenants))).all()
    for hook in hooks:
        session.add(Delivery(webhook_id=hook.id, event=event, body=body))
    return len(hooks)


def deliver_pending(session: Session, limit: int = 100) -> tuple[int, int]:
    """Send queued deliveries once each; (delivered, failed). Failures are retried later."""
    pending = session.scalars(
        select(Delivery)
        .where(Delivery.delivered_at.is_(None), Delivery.attempts < MAX_ATTEMPTS)
        .order_by(Delivery.id)
        .limit(limit)
        # Several service processes deliver at once: each takes rows nobody else holds.
        .with_for_update(skip_locked=True)
    ).all()
    delivered = failed = 0
    for delivery in pending:
        hook = session.get(Webhook, delivery.webhook_id)
        body = json.dumps(
            {"event": delivery.event, "delivery": delivery.id, "data": delivery.body},
            ensure_ascii=False,
        ).encode()
        stamp = str(int(time.time()))
        request = urllib.request.Request(
            hook.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Kenri-Event": delivery.event,
                "X-Kenri-Timestamp": stamp,
                "X-Kenri-Signature": sign(hook.secret, stamp, body),
            },
        )
        delivery.attempts += 1
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
                response.read(1024)
            delivery.delivered_at, delivery.last_error = utcnow(), None
            delivered += 1
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            delivery.last_error = str(exc)[:500]
            failed += 1
    session.flush()
    return delivered, failed
