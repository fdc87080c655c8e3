"""Plain-dict views of registry rows: the one JSON shape used by the CLI and the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kenri.registry.models import Character, Grant, Holder, Licensee, Reference, Work


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def holder_view(holder: Holder) -> dict[str, Any]:
    return {"id": holder.id, "name": holder.name, "country": holder.country}


def work_view(work: Work, titles: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": work.id,
        "title": work.title,
        "holder": work.holder.name,
        "holder_id": work.holder_id,
        "country": work.holder.country,
        "kind": work.kind,
    }
    if titles is not None:
        view["titles"] = titles
    return view


def name_views(names) -> list[dict[str, Any]]:
    return [{"text": n.text, "script": n.script, "lang": n.lang} for n in names]


def character_view(
    character: Character,
    names=None,
    descriptions=None,
    references=None,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": character.id,
        "name": character.name,
        "work": character.work.title,
        "work_id": character.work_id,
        "holder": character.work.holder.name,
        "country": character.work.holder.country,
    }
    if names is not None:
        view["names"] = name_views(names)
    if descriptions is not None:
        view["descriptions"] = [d.text for d in descriptions]
    if references is not None:
        view["references"] = [reference_view(r) for r in references]
    return view


def reference_view(reference: Reference) -> dict[str, Any]:
    return {
        "id": reference.id,
        "work": reference.work.title,
        "character": reference.character.name if reference.character else None,
        "kind": reference.kind,
        "mime": reference.mime,
        "sha256": reference.sha256,
        "size_bytes": reference.size_bytes,
        "width": reference.width,
        "height": reference.height,
        "duration_s": reference.duration_s,
        "original_name": reference.original_name,
        "added_at": _iso(reference.added_at),
        "removed_at": _iso(reference.removed_at),
    }


def licensee_view(licensee: Licensee) -> dict[str, Any]:
    return {"id": licensee.id, "name": licensee.name, "country": licensee.country}


def grant_view(grant: Grant) -> dict[str, Any]:
    return {
        "id": grant.id,
        "licensee": grant.licensee.name,
        "work": grant.work.title,
        "character": grant.character.name if grant.character else None,
        "purposes": list(grant.purposes),
        "territories": list(grant.territories),
        "valid_from": _iso(grant.valid_from),
        "valid_until": _iso(grant.valid_until),
        "fee": grant.fee,
        "revenue_share": grant.revenue_share,
        "terms": grant.terms,
        "users": list(grant.users) if grant.users is not None else None,
        "revoked_at": _iso(grant.revoked_at),
        "revoke_reason": grant.revoke_reason,
    }
