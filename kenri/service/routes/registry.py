"""A holder's works, characters, names and reference media (only its own)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from kenri.errors import NotFound
from kenri.registry.models import Licensee, Reference
from kenri.registry.registry import NameSpec
from kenri.registry.views import character_view, name_views, reference_view, work_view
from kenri.service.auth import Caller, caller, holder
from kenri.service.routes.common import (
    kenri_of,
    own_character,
    own_reference,
    own_work,
    read_upload,
    upload_as_file,
)
from kenri.service.schemas import MAX_ID, CharacterIn, IdPath, IdQuery, NamesIn, WorkIn

router = APIRouter(prefix="/v1", tags=["registry"])


def _specs(names) -> list[NameSpec]:
    return [NameSpec(n.text, n.script, n.lang) for n in names]


@router.post("/works", status_code=201)
def create_work(body: WorkIn, request: Request, who: Caller = Depends(holder)) -> dict:
    with kenri_of(request).transaction(who.label) as tx:
        mine = tx.registry.holder(who.holder_id)
        work = tx.registry.add_work(mine, body.title, _specs(body.titles))
        return work_view(work, name_views(tx.registry.names(work, None)))


@router.get("/works")
def list_works(request: Request, who: Caller = Depends(holder)) -> list[dict]:
    with kenri_of(request).transaction(who.label) as tx:
        return [work_view(w) for w in tx.registry.works(tx.registry.holder(who.holder_id))]


@router.get("/works/{work_id}")
def get_work(work_id: IdPath, request: Request, who: Caller = Depends(holder)) -> dict:
    with kenri_of(request).transaction(who.label) as tx:
        work = own_work(tx, who, work_id)
        view = work_view(work, name_views(tx.registry.names(work, None)))
        view["characters"] = [
            character_view(c, tx.registry.names(work, c)) for c in tx.registry.characters(work)
        ]
        return view


@router.post("/works/{work_id}/characters", status_code=201)
def create_character(
    work_id: IdPath, body: CharacterIn, request: Request, who: Caller = Depends(holder)
) -> dict:
    with kenri_of(request).transaction(who.label) as tx:
        work = own_work(tx, who, work_id)
        character = tx.registry.add_character(
            work, body.name, _specs(body.names), body.descriptions
        )
        return character_view(
            character,
            tx.registry.names(work, character),
            tx.registry.descriptions(work, character),
        )


@router.post("/characters/{character_id}/names")
def add_names(
    character_id: IdPath, body: NamesIn, request: Request, who: Caller = Depends(holder)
) -> dict:
    """Add names or aliases (any script) to a character."""
    with kenri_of(request).transaction(who.label) as tx:
        character = own_character(tx, who, character_id)
        tx.registry.sync_names(character.work, character, _specs(body.names), "manual", prune=False)
        return character_view(character, tx.registry.names(character.work, character))


@router.get("/characters/{character_id}")
def get_character(character_id: IdPath, request: Request, who: Caller = Depends(holder)) -> dict:
    with kenri_of(request).transaction(who.label) as tx:
        character = own_character(tx, who, character_id)
        work = character.work
        return character_view(
            character,
            tx.registry.names(work, character),
            tx.registry.descriptions(work, character),
            tx.registry.references(work, character),
        )


@router.post("/references", status_code=201)
async def upload_reference(
    request: Request,
    file: UploadFile = File(...),
    work_id: int = Form(..., ge=1, le=MAX_ID),
    character_id: int | None = Form(None, ge=1, le=MAX_ID),
    who: Caller = Depends(holder),
) -> dict:
    """Upload a reference image or video for one of your works (or a character of it)."""
    data = await read_upload(request, file)
    return await run_in_threadpool(
        _add_reference, request, who, data, file.filename, work_id, character_id
    )


def _add_reference(
    request: Request,
    who: Caller,
    data: bytes,
    filename: str | None,
    work_id: int,
    character_id: int | None,
) -> dict:
    app = kenri_of(request)
    with upload_as_file(data, filename, "upload") as path, app.transaction(who.label) as tx:
        work = own_work(tx, who, work_id)
        character = own_character(tx, who, character_id) if character_id else None
        if character is not None and character.work_id != work.id:
            raise NotFound(f"no character {character_id} of work {work_id}")
        reference, created = tx.registry.add_reference(path, work, character)
        view = reference_view(reference)
    app.sync_index()
    return {**view, "created": created}


@router.get("/references")
def list_references(
    request: Request, work_id: IdQuery = None, who: Caller = Depends(holder)
) -> list[dict]:
    with kenri_of(request).transaction(who.label) as tx:
        query = select(Reference).where(Reference.removed_at.is_(None)).order_by(Reference.id)
        works = (
            [own_work(tx, who, work_id)]
            if work_id
            else tx.registry.works(tx.registry.holder(who.holder_id))
        )
        query = query.where(Reference.work_id.in_([w.id for w in works]))
        return [reference_view(r) for r in tx.session.scalars(query)]


@router.get("/references/{reference_id}/media", response_class=FileResponse)
def reference_media(reference_id: IdPath, request: Request, who: Caller = Depends(holder)):
    """The stored reference file itself: only its holder may read it."""
    with kenri_of(request).transaction(who.label) as tx:
        reference = own_reference(tx, who, reference_id)
        path, mime = tx.registry.media_path(reference), reference.mime
    return FileResponse(path, media_type=mime)


@router.delete("/references/{reference_id}")
def remove_reference(reference_id: IdPath, request: Request, who: Caller = Depends(holder)) -> dict:
    app = kenri_of(request)
    with app.transaction(who.label) as tx:
        reference = tx.registry.remove_reference(own_reference(tx, who, reference_id))
        view = reference_view(reference)
    app.sync_index()
    return view


@router.get("/licensees")
def list_licensees(request: Request, who: Caller = Depends(caller)) -> list[dict]:
    """Licensee names, so a holder can grant to one (nothing else about them)."""
    with kenri_of(request).transaction(who.label) as tx:
        return [
            {"name": n} for n in tx.session.scalars(select(Licensee.name).order_by(Licensee.id))
        ]
