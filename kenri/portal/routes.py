"""The portal's pages. Every page runs as the signed-in tenant, through the same ownership rules
as the REST API (``own_*``, ``get_claim``): another tenant's object is a 404 here too."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import func, select
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from kenri.audit.log import AuditEntry
from kenri.claims.workflow import TRANSITIONS, act, claim_view, file_claim, get_claim
from kenri.claims.workflow import list_claims as claims_of
from kenri.errors import InvalidInput, KenriError, NotFound, Unauthorized
from kenri.portal import charts, reports
from kenri.portal.health import reference_health
from kenri.portal.i18n import LANGUAGES, Translator, pick_language
from kenri.portal.pdf import PdfUnavailable, html_to_pdf
from kenri.portal.sessions import close_session, csrf_ok, find_session, open_session
from kenri.provenance.generations import grant_usage
from kenri.registry.models import Grant, Licensee, Reference, Work
from kenri.registry.registry import NameSpec
from kenri.screening.findings import Finding, findings_of
from kenri.service.auth import Caller
from kenri.service.jobs import Job
from kenri.service.routes.common import (
    kenri_of,
    own_character,
    own_reference,
    own_work,
    read_upload,
)
from kenri.service.schemas import MAX_ID, IdPath
from kenri.service.tenants import Tenants

router = APIRouter(prefix="/portal", include_in_schema=False)
COOKIE, LANG_COOKIE = "kenri_session", "kenri_lang"
TEMPLATES = Environment(
    loader=PackageLoader("kenri.portal", "templates"), autoescape=select_autoescape()
)
MAX_FORM_FILES = 20


@dataclass(frozen=True)
class Visitor(Caller):
    """The signed-in tenant (as the claims workflow and ownership checks take a caller), with
    its session's CSRF token for the forms."""

    csrf: str = ""


class _SignIn(Exception):
    """Raised by ``visitor`` when nobody is signed in: answered with a redirect to the form."""


def translator(request: Request) -> Translator:
    return Translator(
        pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    )


def visitor(request: Request) -> Visitor:
    with kenri_of(request).transaction() as tx:
        row = find_session(tx.session, request.cookies.get(COOKIE))
        if row is None:
            raise _SignIn()
        return Visitor.of(row.tenant, csrf=row.csrf)


def _only(who: Visitor, *roles: str) -> None:
    if who.role not in roles:
        raise NotFound("this page is not for your role")


def render(request: Request, name: str, who: Visitor | None, status: int = 200, **ctx: Any):
    t = translator(request)
    html = TEMPLATES.get_template(name).render(
        t=t, who=who, path=request.url.path, lang=t.lang, other_lang=_other(t.lang), **ctx
    )
    return HTMLResponse(html, status_code=status)


def _other(lang: str) -> str:
    return next(code for code in LANGUAGES if code != lang)


async def form_of(request: Request, who: Visitor) -> Any:
    """The posted form, after its CSRF token is checked against the session's."""
    form = await request.form(max_files=MAX_FORM_FILES)
    with kenri_of(request).transaction() as tx:
        row = find_session(tx.session, request.cookies.get(COOKIE))
        if row is None or row.tenant_id != who.tenant_id or not csrf_ok(row, form.get("csrf")):
            raise HTTPException(403, "csrf")
    return form


def _form_id(form: Any, field: str) -> int:
    """An id posted in a form: a clear 400 for anything but a number in range."""
    value = str(form.get(field) or "").strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise InvalidInput(f"{field} must be an id")
    return int(value)


def _end_of_day(day: str) -> datetime:
    try:
        return datetime.fromisoformat(day + "T23:59:59+00:00")
    except ValueError:
        raise InvalidInput(f"{day!r} is not a date (YYYY-MM-DD)") from None


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- signing in and out, language ---------------------------------------------------------------
@router.get("/login")
def login_page(request: Request, next: str = "/portal/") -> HTMLResponse:  # noqa: A002
    return render(request, "login.html", None, next=_safe_next(next), failed=False)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    key = str(form.get("api_key") or "").strip()
    target = _safe_next(str(form.get("next") or "/portal/"))
    with kenri_of(request).transaction("portal") as tx:
        try:
            row = Tenants(tx.registry, "portal").authenticate(key)
        except Unauthorized:
            row = None
        if row is not None:
            _, token = open_session(tx.session, row)
    if row is None:
        return render(request, "login.html", None, status=401, next=target, failed=True)
    response = _back(target)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/portal")  # fmt: skip
    return response


def _safe_next(target: str) -> str:
    """Only paths inside the portal: a sign-in link cannot send anyone elsewhere."""
    return target if target.startswith("/portal/") and "//" not in target else "/portal/"


@router.post("/logout")
async def logout(request: Request, who: Visitor = Depends(visitor)) -> Response:
    await form_of(request, who)
    with kenri_of(request).transaction() as tx:
        close_session(tx.session, request.cookies.get(COOKIE))
    response = _back("/portal/login")
    response.delete_cookie(COOKIE, path="/portal")
    return response


@router.get("/lang/{code}")
def set_language(code: str, request: Request, next: str = "/portal/") -> Response:  # noqa: A002
    response = _back(_safe_next(next))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, samesite="lax", max_age=365 * 86400)
    return response


# -- overview ------------------------------------------------------------------------------------
@router.get("/")
def dashboard(request: Request, who: Visitor = Depends(visitor)) -> HTMLResponse:
    with kenri_of(request).transaction(who.label) as tx:
        claims = claims_of(tx, who.party)
        counts: dict[str, int] = {
            "claims_open": sum(c.state in ("open", "disputed", "escalated") for c in claims),
            "overdue": sum(claim_view(c)["overdue"] for c in claims),
        }
        if who.role == "holder":
            holder = tx.registry.holder(who.holder_id)
            works = tx.registry.works(holder)
            counts["works"] = len(works)
            counts["characters"] = sum(len(tx.registry.characters(w)) for w in works)
            counts["references"] = tx.session.scalar(
                select(func.count(Reference.id))
                .join(Work, Work.id == Reference.work_id)
                .where(Work.holder_id == who.holder_id, Reference.removed_at.is_(None))
            )
            counts["findings"] = tx.session.scalar(
                select(func.count(Finding.id)).where(Finding.holder_id == who.holder_id)
            )
        if who.role == "licensee":
            decisions = _decisions(tx, who, 10_000)
            counts["screened"] = len(decisions)
            counts["blocked"] = sum(d["decision"] == "block" for d in decisions)
        counts["grants"] = len(_grants(tx, who, active_only=True))
    return render(request, "dashboard.html", who, counts=counts)


# -- works, characters, references (holders) ----------------------------------------------------
@router.get("/works")
def works(request: Request, who: Visitor = Depends(visitor), done: str | None = None):
    _only(who, "holder")
    with kenri_of(request).transaction(who.label) as tx:
        listed = []
        for work in tx.registry.works(tx.registry.holder(who.holder_id)):
            characters = [
                {
                    "id": c.id,
                    "name": c.name,
                    "names": [n.text for n in tx.registry.names(work, c)],
                    "references": len(tx.registry.references(work, c)),
                }  # fmt: skip
                for c in tx.registry.characters(work)
            ]
            listed.append({"id": work.id, "title": work.title, "characters": characters})
    return render(request, "works.html", who, works=listed, done=done)


@router.post("/characters")
async def register_character(request: Request, who: Visitor = Depends(visitor)) -> Response:
    """Work (existing or new), character, its names in every script, a description and
    reference files, in one form."""
    _only(who, "holder")
    form = await form_of(request, who)
    names = [NameSpec(str(form.get(f)).strip(), script)
             for f, script in (("kanji", "kanji"), ("kana", "kana"), ("romaji", "romaji"),
                               ("english", "latin")) if str(form.get(f) or "").strip()]  # fmt: skip
    names += [NameSpec(a.strip()) for a in str(form.get("aliases") or "").split(",") if a.strip()]
    description = str(form.get("description") or "").strip()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    app = kenri_of(request)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index, upload in enumerate(uploads):
            path = Path(folder) / f"{index}-{Path(upload.filename).name[:100]}"
            path.write_bytes(await read_upload(request, upload))
            paths.append(path)
        with app.transaction(who.label) as tx:
            holder = tx.registry.holder(who.holder_id)
            new_title = str(form.get("new_work") or "").strip()
            work = (
                tx.registry.add_work(holder, new_title)
                if new_title
                else own_work(tx, who, _form_id(form, "work_id"))
            )
            character = tx.registry.add_character(
                work, str(form.get("name") or ""), names, [description] if description else []
            )
            for path in paths:
                tx.registry.add_reference(path, work, character)
            target = f"/portal/characters/{character.id}"
    app.sync_index()
    return _back(target)


@router.get("/characters/{character_id}")
def character_page(character_id: IdPath, request: Request, who: Visitor = Depends(visitor)):
    _only(who, "holder")
    with kenri_of(request).transaction(who.label) as tx:
        character = own_character(tx, who, character_id)
        work = character.work
        references = [
            {
                "id": r.id,
                "name": r.original_name,
                "kind": r.kind,
                "width": r.width,
                "height": r.height,
                "health": reference_health(tx.session, r.id),
            }  # fmt: skip
            for r in tx.registry.references(work, character)
        ]
        page = {
            "id": character.id,
            "name": character.name,
            "work": work.title,
            "names": [
                {"text": n.text, "script": n.script} for n in tx.registry.names(work, character)
            ],
            "descriptions": [d.text for d in tx.registry.descriptions(work, character)],
            "references": references,
        }
    return render(request, "character.html", who, character=page)


@router.get("/references/{reference_id}/media")
def reference_file(reference_id: IdPath, request: Request, who: Visitor = Depends(visitor)):
    _only(who, "holder")
    with kenri_of(request).transaction(who.label) as tx:
        reference = own_reference(tx, who, reference_id)
        path, mime = tx.registry.media_path(reference), reference.mime
    return FileResponse(path, media_type=mime)


# -- licences ------------------------------------------------------------------------------------
def _grants(tx, who: Visitor, active_only: bool = False) -> list[Grant]:
    query = select(Grant).order_by(Grant.id.desc())
    if who.role == "holder":
        query = query.join(Work, Work.id == Grant.work_id).where(Work.holder_id == who.holder_id)
    elif who.role == "licensee":
        query = query.where(Grant.licensee_id == who.licensee_id)
    if active_only:
        query = query.where(Grant.revoked_at.is_(None))
    return list(tx.session.scalars(query))


@router.get("/grants")
def grants_page(request: Request, who: Visitor = Depends(visitor)) -> HTMLResponse:
    with kenri_of(request).transaction(who.label) as tx:
        grants = _grants(tx, who)
        usage = grant_usage(tx, [g.id for g in grants])
        rows = [{"id": g.id, "licensee": g.licensee.name, "work": g.work.title,
                 "character": g.character.name if g.character else None,
                 "purposes": list(g.purposes), "territories": list(g.territories),
                 "valid_from": g.valid_from, "valid_until": g.valid_until,
                 "revoked_at": g.revoked_at, "usage": usage[g.id]} for g in grants]  # fmt: skip
        options = {}
        if who.role == "holder":
            options["licensees"] = list(
                tx.session.scalars(select(Licensee.name).order_by(Licensee.name))
            )
            options["works"] = [
                {"id": w.id, "title": w.title}
                for w in tx.registry.works(tx.registry.holder(who.holder_id))
            ]
    return render(request, "grants.html", who, grants=rows, **options)


@router.post("/grants")
async def grant(request: Request, who: Visitor = Depends(visitor)) -> Response:
    _only(who, "holder")
    form = await form_of(request, who)
    until = str(form.get("valid_until") or "").strip()
    valid_until = _end_of_day(until) if until else None
    with kenri_of(request).transaction(who.label) as tx:
        work = own_work(tx, who, _form_id(form, "work_id"))
        tx.ledger.grant(
            tx.registry.licensee(str(form.get("licensee") or "")),
            work,
            form.getlist("purposes"),
            [c.strip().upper() for c in str(form.get("territories") or "").split(",") if c.strip()]
            or None,
            valid_until=valid_until,
        )
    return _back("/portal/grants")


@router.post("/grants/{grant_id}/revoke")
async def revoke(grant_id: IdPath, request: Request, who: Visitor = Depends(visitor)) -> Response:
    _only(who, "holder")
    form = await form_of(request, who)
    with kenri_of(request).transaction(who.label) as tx:
        row = tx.session.get(Grant, grant_id)
        if row is None or row.work.holder_id != who.holder_id:
            raise NotFound(f"no grant {grant_id}")
        tx.ledger.revoke(row, str(form.get("reason") or "revoked in the portal"))
    return _back("/portal/grants")


# -- findings (holders) --------------------------------------------------------------------------
def _finding_picture(app, finding: Finding) -> Path:
    return app.media.path_for(finding.media_sha256, finding.media_ext)


def _own_finding(tx, who: Visitor, finding_id: int) -> Finding:
    finding = tx.session.get(Finding, finding_id)
    if finding is None or finding.holder_id != who.holder_id:
        raise NotFound(f"no finding {finding_id}")
    return finding


@router.get("/findings")
def findings(request: Request, who: Visitor = Depends(visitor)) -> HTMLResponse:
    _only(who, "holder")
    with kenri_of(request).transaction(who.label) as tx:
        rows = [_finding_view(f) for f in findings_of(tx, who.holder_id)]
    return render(request, "findings.html", who, findings=rows)


def _finding_view(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.id, "at": finding.at, "source": finding.source,
        "decision": finding.decision, "licensee": finding.licensee.name,
        "work": finding.work.title,
        "character": finding.character.name if finding.character else None,
        "reference_id": finding.reference_id, "score": finding.score,
        "evidence": finding.evidence, "prompt": finding.prompt,
        "has_media": finding.media_sha256 is not None,
    }  # fmt: skip


@router.get("/findings/{finding_id}")
def finding_page(finding_id: IdPath, request: Request, who: Visitor = Depends(visitor)):
    _only(who, "holder")
    app = kenri_of(request)
    with app.transaction(who.label) as tx:
        finding = _own_finding(tx, who, finding_id)
        view = _finding_view(finding)
        view["reference_kind"] = finding.reference.kind if finding.reference else None
        size = None
        if finding.media_sha256 and finding.source != "video":
            from kenri.fingerprints.imageio import load_image

            rgb = load_image(_finding_picture(app, finding))
            size = {"width": rgb.shape[1], "height": rgb.shape[0]}
    region = view["evidence"].get("region")
    points = " ".join(f"{x},{y}" for x, y in region) if region else None
    return render(request, "finding.html", who, finding=view, size=size, region=points,
                  shown=("region", "segments", "dataset_item", "shard"))  # fmt: skip


@router.get("/findings/{finding_id}/media")
def finding_media(finding_id: IdPath, request: Request, who: Visitor = Depends(visitor)):
    _only(who, "holder")
    app = kenri_of(request)
    with app.transaction(who.label) as tx:
        finding = _own_finding(tx, who, finding_id)
        if not finding.media_sha256:
            raise NotFound("this finding has no picture")
        path = _finding_picture(app, finding)
    return FileResponse(path)


@router.post("/findings/{finding_id}/claim")
async def claim_finding(finding_id: IdPath, request: Request, who: Visitor = Depends(visitor)):
    _only(who, "holder")
    form = await form_of(request, who)
    app = kenri_of(request)
    with app.transaction(who.label) as tx:
        finding = _own_finding(tx, who, finding_id)
        media = _finding_picture(app, finding).read_bytes() if finding.media_sha256 else None
        claim = file_claim(
            app, tx, who.party, "claim",
            str(form.get("message") or "").strip() or f"Finding #{finding.id}",
            media=media, licensee=finding.licensee.name, work_id=finding.work_id,
            character_id=finding.character_id,
        )  # fmt: skip
        target = f"/portal/claims/{claim.id}"
    return _back(target)


# -- claims --------------------------------------------------------------------------------------
@router.get("/claims")
def claims(request: Request, who: Visitor = Depends(visitor)) -> HTMLResponse:
    with kenri_of(request).transaction(who.label) as tx:
        rows = [claim_view(c) for c in reversed(claims_of(tx, who.party))]
    return render(request, "claims.html", who, claims=rows, parse=_parse)


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


@router.get("/claims/{claim_id}")
def claim_page(claim_id: IdPath, request: Request, who: Visitor = Depends(visitor)):
    with kenri_of(request).transaction(who.label) as tx:
        view = claim_view(get_claim(tx, claim_id, who.party))
    actions = [
        name for name, step in TRANSITIONS.items()
        if step.role == who.role and step.kind == view["kind"] and view["state"] in step.sources
    ]  # fmt: skip
    return render(request, "claim.html", who, claim=view, actions=actions, parse=_parse)


@router.post("/claims/{claim_id}/act")
async def claim_act(claim_id: IdPath, request: Request, who: Visitor = Depends(visitor)):
    form = await form_of(request, who)
    with kenri_of(request).transaction(who.label) as tx:
        act(tx, claim_id, who.party, str(form.get("action") or ""),
            str(form.get("note") or "").strip() or None,
            form.getlist("actions"), str(form.get("pattern") or "").strip() or None)  # fmt: skip
    return _back(f"/portal/claims/{claim_id}")


# -- licensees: history and jobs -----------------------------------------------------------------
def _decisions(tx, who: Visitor, limit: int = 200) -> list[dict[str, Any]]:
    rows = tx.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.actor == who.label, AuditEntry.action.like("screen.%"))
        .order_by(AuditEntry.seq.desc())
        .limit(limit)
    )
    return [{"at": e.at, "kind": e.action.split(".", 1)[1], "subject": e.subject,
             "decision": (e.data or {}).get("decision"),
             "matches": (e.data or {}).get("matches", [])} for e in rows]  # fmt: skip


@router.get("/history")
def history(request: Request, who: Visitor = Depends(visitor)) -> HTMLResponse:
    _only(who, "licensee")
    with kenri_of(request).transaction(who.label) as tx:
        rows = _decisions(tx, who)
    return render(request, "history.html", who, decisions=rows)


@router.get("/jobs")
def jobs(request: Request, who: Visitor = Depends(visitor)) -> HTMLResponse:
    _only(who, "licensee")
    with kenri_of(request).transaction(who.label) as tx:
        rows = list(
            tx.session.scalars(
                select(Job).where(Job.tenant_id == who.tenant_id).order_by(Job.id.desc())
            )
        )
        listed = [{"id": j.id, "kind": j.kind, "state": j.state, "progress": j.progress,
                   "created_at": j.created_at, "summary": (j.result or {}).get("summary"),
                   "report": j.kind == "dataset" and j.state == "done",
                   "error": j.error} for j in rows]  # fmt: skip
    return render(request, "jobs.html", who, jobs=listed)


@router.get("/jobs/{job_id}/report")
def job_report(job_id: IdPath, request: Request, who: Visitor = Depends(visitor)) -> Response:
    """A finished dataset job's own report.html (per rights holder, with its plots)."""
    _only(who, "licensee")
    runner = request.app.state.jobs
    with kenri_of(request).transaction(who.label) as tx:
        job = runner.get(tx, job_id, who.tenant_id)
        report = runner.folder(job.id) / "out" / "report.html"
        if job.kind != "dataset" or job.state != "done" or not report.exists():
            raise NotFound(f"job {job_id} has no report")
    return FileResponse(report, media_type="text/html")


# -- reports -------------------------------------------------------------------------------------
def _transparency(request: Request, who: Visitor) -> dict[str, Any]:
    with kenri_of(request).transaction(who.label) as tx:
        data = reports.transparency(
            tx, who.holder_id, None if who.role == "operator" else who.label
        )
    t = translator(request)
    names = {"block": t("decision.block"), "review": t("decision.review")}
    data["chart"] = charts.stacked_columns(data["days"], data["series"], names)
    if data["outcomes"]:
        states = {state: t(f"state.{state}") for state in data["outcomes"]}
        data["outcomes_chart"] = charts.stacked_columns(data["days"], data["outcomes"], states)
    return data


def _parity(request: Request) -> dict[str, Any]:
    app = kenri_of(request)
    labels = app.settings.home / "parity" / "labels.jsonl"
    data = reports.parity(app, reports.labelled_prompts(labels if labels.exists() else None))
    t = translator(request)
    for kind in ("by_country", "by_lang"):
        rows = [(r["group"], r["recall"], r["fpr"]) for r in data[kind]]
        data[f"{kind}_chart"] = charts.paired_bars(rows, (t("reports.recall"), t("reports.fpr")))
    return data


@router.get("/reports")
def reports_page(request: Request, who: Visitor = Depends(visitor)) -> HTMLResponse:
    return render(request, "reports.html", who, report=_transparency(request, who),
                  parity=_parity(request), days=reports.REPORT_DAYS, printable=False)  # fmt: skip


@router.get("/reports/report.pdf")
def reports_pdf(request: Request, who: Visitor = Depends(visitor)) -> Response:
    html = render(
        request,
        "reports.html",
        who,
        report=_transparency(request, who),
        parity=_parity(request),
        days=reports.REPORT_DAYS,
        printable=True,
    ).body
    try:
        pdf = html_to_pdf(html.decode())
    except PdfUnavailable as exc:
        raise HTTPException(503, str(exc)) from None
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="kenri-report.pdf"'},
    )


def install(api) -> None:
    """Mount the portal on the service app, with its sign-in redirect and error pages."""
    api.include_router(router)

    @api.exception_handler(_SignIn)
    async def sign_in(request: Request, _exc: _SignIn) -> Response:
        return _back(f"/portal/login?next={quote(request.url.path)}")

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/portal/"):
            return error_page(request, exc, exc.status_code)
        return await http_exception_handler(request, exc)

    @api.get("/", include_in_schema=False)
    def root() -> Response:
        return _back("/portal/")


def error_page(request: Request, exc: KenriError | HTTPException, status: int) -> HTMLResponse:
    """Portal errors as a page in the reader's language (the API keeps its JSON)."""
    t = translator(request)
    detail = t("error.csrf") if getattr(exc, "detail", None) == "csrf" else str(
        getattr(exc, "detail", exc))  # fmt: skip
    return render(request, "error.html", None, status=status, detail=detail)
