"""Persons for holders: register a person (yourself, or someone your agency represents) and
their verified face photos. Grants of ``likeness`` go through ``/v1/grants`` like any other."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from kenri.errors import NotFound
from kenri.likeness.persons import Consent, add_face, add_person
from kenri.registry.models import PERSON
from kenri.registry.views import name_views, reference_view, work_view
from kenri.service.auth import Caller, holder
from kenri.service.routes.common import kenri_of, own_work, read_upload, upload_as_file
from kenri.service.schemas import IdPath, PersonIn

router = APIRouter(prefix="/v1", tags=["persons"])


@router.post("/persons", status_code=201)
def create_person(body: PersonIn, request: Request, who: Caller = Depends(holder)) -> dict:
    """Register a person; prompts that name them are screened like character names."""
    with kenri_of(request).transaction(who.label) as tx:
        person = add_person(tx, tx.registry.holder(who.holder_id), body.name, body.aliases)
        return work_view(person, name_views(tx.registry.names(person, None)))


@router.post("/persons/{person_id}/faces", status_code=201)
async def upload_face(
    person_id: IdPath,
    request: Request,
    file: UploadFile = File(...),
    verified_by: str = Form(..., min_length=1, max_length=300),
    method: str = Form("identity document checked in person", min_length=1, max_length=200),
    verified_at: datetime | None = Form(None),
    note: str | None = Form(None, max_length=2000),
    who: Caller = Depends(holder),
) -> dict:
    """Add a photo showing the person's face alone, with who verified the consent and when."""
    data = await read_upload(request, file)
    consent = Consent(verified_by, method, verified_at, note)
    return await run_in_threadpool(_add_face, request, who, person_id, data, file.filename, consent)


def _add_face(
    request: Request,
    who: Caller,
    person_id: int,
    data: bytes,
    filename: str | None,
    consent: Consent,
) -> dict:
    app = kenri_of(request)
    with upload_as_file(data, filename, "face") as path, app.transaction(who.label) as tx:
        person = own_work(tx, who, person_id)
        if person.kind != PERSON:
            raise NotFound(f"no person {person_id}")
        added = add_face(tx, person, path, consent)
        view = reference_view(added.reference)
        view["face"] = added.face.to_dict()
        view["consent"] = {
            "id": added.consent.id,
            "verified_by": added.consent.verified_by,
            "verified_at": added.consent.verified_at.isoformat(),
            "method": added.consent.method,
        }
    app.sync_index()
    return view
