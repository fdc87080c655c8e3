"""Licence grants: holders grant and revoke on their own works; licensees see theirs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from kenri.errors import NotFound
from kenri.provenance.generations import grant_usage
from kenri.registry.models import Grant, Work
from kenri.registry.views import grant_view
from kenri.service.auth import Caller, holder, holder_or_licensee
from kenri.service.routes.common import kenri_of, own_character, own_work
from kenri.service.schemas import GrantIn, IdPath, RevokeIn

router = APIRouter(prefix="/v1", tags=["grants"])


def _visible(tx, who: Caller, grant_id: int) -> Grant:
    grant = tx.session.get(Grant, grant_id)
    mine = grant is not None and (
        (who.role == "holder" and grant.work.holder_id == who.holder_id)
        or (who.role == "licensee" and grant.licensee_id == who.licensee_id)
    )
    if not mine:
        raise NotFound(f"no grant {grant_id}")
    return grant


@router.post("/grants", status_code=201)
def create_grant(body: GrantIn, request: Request, who: Caller = Depends(holder)) -> dict:
    """Grant a licensee a purpose on your work or character (training, generation, style), or
    likeness of a person you registered (optionally for named end users only)."""
    with kenri_of(request).transaction(who.label) as tx:
        work = own_work(tx, who, body.work_id)
        subject = work
        if body.character_id is not None:
            subject = own_character(tx, who, body.character_id)
            if subject.work_id != work.id:
                raise NotFound(f"no character {body.character_id} of work {work.id}")
        grant = tx.ledger.grant(
            tx.registry.licensee(body.licensee),
            subject,
            body.purposes,
            body.territories,
            body.valid_from,
            body.valid_until,
            body.fee,
            body.revenue_share,
            body.terms,
            users=body.users,
        )
        return grant_view(grant)


@router.get("/grants")
def list_grants(request: Request, who: Caller = Depends(holder_or_licensee)) -> list[dict]:
    """Your grants (given or received), each with its usage: generations that used it."""
    with kenri_of(request).transaction(who.label) as tx:
        query = select(Grant).order_by(Grant.id)
        if who.role == "holder":
            query = query.join(Work, Work.id == Grant.work_id).where(
                Work.holder_id == who.holder_id
            )
        else:
            query = query.where(Grant.licensee_id == who.licensee_id)
        grants = tx.session.scalars(query).all()
        usage = grant_usage(tx, [g.id for g in grants])
        return [{**grant_view(g), "usage": usage[g.id]} for g in grants]


@router.get("/grants/{grant_id}")
def get_grant(
    grant_id: IdPath, request: Request, who: Caller = Depends(holder_or_licensee)
) -> dict:
    with kenri_of(request).transaction(who.label) as tx:
        grant = _visible(tx, who, grant_id)
        return {**grant_view(grant), "usage": grant_usage(tx, [grant.id])[grant.id]}


@router.post("/grants/{grant_id}/revoke")
def revoke_grant(
    grant_id: IdPath, body: RevokeIn, request: Request, who: Caller = Depends(holder)
) -> dict:
    with kenri_of(request).transaction(who.label) as tx:
        return grant_view(tx.ledger.revoke(_visible(tx, who, grant_id), body.reason))
