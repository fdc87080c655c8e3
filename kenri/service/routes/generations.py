"""Generation records: licensees report what they generated; usage counts per grant."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from kenri.errors import NotFound
from kenri.provenance.generations import (
    Generation,
    generation_grants,
    generation_view,
    record_generation,
)
from kenri.service.auth import Caller, licensee
from kenri.service.routes.common import decode_base64, kenri_of
from kenri.service.schemas import After, GenerationIn, IdPath, Limit

router = APIRouter(prefix="/v1", tags=["generations"])


@router.post("/generations", status_code=201)
def report_generation(
    body: GenerationIn, request: Request, who: Caller = Depends(licensee)
) -> dict:
    """Record a generation: its decision, the grants used, and the output (or its PDQ codes).

    kenri keeps fingerprints only, unless ``keep_media`` is set.
    """
    with kenri_of(request).transaction(who.label) as tx:
        generation = record_generation(
            tx,
            tx.registry.licensee(who.licensee_id),
            body.decision,
            body.prompt,
            body.grants,
            decode_base64(body.media_base64),
            body.pdq,
            body.keep_media,
            body.details,
        )
        return generation_view(generation, generation_grants(tx, generation.id))


@router.get("/generations")
def list_generations(
    request: Request, after: After = 0, limit: Limit = 100, who: Caller = Depends(licensee)
) -> list[dict]:
    with kenri_of(request).transaction(who.label) as tx:
        rows = tx.session.scalars(
            select(Generation)
            .where(Generation.licensee_id == who.licensee_id, Generation.id > after)
            .order_by(Generation.id)
            .limit(limit)
        )
        return [generation_view(g, generation_grants(tx, g.id)) for g in rows]


@router.get("/generations/{generation_id}")
def get_generation(
    generation_id: IdPath, request: Request, who: Caller = Depends(licensee)
) -> dict:
    with kenri_of(request).transaction(who.label) as tx:
        generation = tx.session.get(Generation, generation_id)
        if generation is None or generation.licensee_id != who.licensee_id:
            raise NotFound(f"no generation {generation_id}")
        return generation_view(generation, generation_grants(tx, generation.id))
