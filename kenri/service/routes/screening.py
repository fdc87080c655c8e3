"""Screening for licensees: prompts and images now, videos and datasets as jobs."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from kenri.audit.log import append
from kenri.errors import MediaError
from kenri.screening.decision import Thresholds
from kenri.screening.findings import record_media_findings, record_prompt_findings
from kenri.screening.media import Screener
from kenri.service.auth import Caller, licensee
from kenri.service.jobs import job_view
from kenri.service.routes.common import kenri_of, read_upload
from kenri.service.schemas import (
    MAX_PROMPT_CHARS,
    IdPath,
    PromptIn,
    PromptsIn,
    PurposeForm,
    ScreenOptions,
    TerritoryForm,
    UserForm,
)

router = APIRouter(prefix="/v1", tags=["screening"])


def _decision_summary(result: dict) -> dict[str, Any]:
    """What the audit log keeps of one decision: the decision and its top matches."""
    matches = [
        {"work": m.get("work"), "character": m.get("character"), "score": m.get("score")}
        for m in result.get("matches", [])[:5]
    ]
    summary = {"decision": result.get("decision"), "matches": matches}
    if "error" in result:  # a batch's prompt that could not be screened
        summary["error"] = result["error"]
    return summary


def _audit(tx, who: Caller, kind: str, digest: str, result: dict) -> None:
    """Every decision goes to the audit log, last in the screening's own transaction (so the
    chain's lock is held only for the insert and the commit)."""
    append(tx.session, who.label, f"screen.{kind}", f"sha256:{digest}", _decision_summary(result))


def _sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _screen_one(tx, request: Request, who: Caller, prompt: str, options: ScreenOptions) -> dict:
    """Screen one prompt in the request's transaction and keep its findings."""
    app = kenri_of(request)
    with request.app.state.cpu_slots:
        screened = app.prompt_screener.screen(
            tx, prompt, who.licensee_name, options.purpose, options.territory, user=options.user
        )
    record_prompt_findings(tx, who.licensee_id, screened)
    return screened.to_dict()


@router.post("/screen/prompt")
def screen_prompt(body: PromptIn, request: Request, who: Caller = Depends(licensee)) -> dict:
    """Screen a prompt under your grants: decision, matches with evidence, a safe rewrite."""
    with kenri_of(request).transaction(who.label) as tx:
        result = _screen_one(tx, request, who, body.prompt, body)
        _audit(tx, who, "prompt", _sha256(body.prompt), result)
    return result


@router.post("/screen/prompts")
def screen_prompts(body: PromptsIn, request: Request, who: Caller = Depends(licensee)) -> dict:
    """Screen up to 256 prompts in one request: the results in order, each as
    ``/screen/prompt`` gives it, or ``{"prompt": ..., "error": ...}`` for a prompt too long to
    screen (the others are screened). One transaction and one audit entry for the batch
    (listing every prompt's digest and decision), so bulk callers do not pay per prompt."""
    with kenri_of(request).transaction(who.label) as tx:
        results = [
            _screen_one(tx, request, who, prompt, body)
            if len(prompt) <= MAX_PROMPT_CHARS
            else {"prompt": prompt[:200], "error": f"longer than {MAX_PROMPT_CHARS} characters"}
            for prompt in body.prompts
        ]
        decisions = [
            {"prompt": f"sha256:{_sha256(prompt)}", **_decision_summary(result)}
            for prompt, result in zip(body.prompts, results, strict=True)
        ]
        digest = _sha256("".join(d["prompt"] for d in decisions))
        append(tx.session, who.label, "screen.prompts", f"sha256:{digest}",
               {"count": len(results), "decisions": decisions})  # fmt: skip
    return {"results": results}


@router.post("/screen/image")
async def screen_image(
    request: Request,
    file: UploadFile = File(...),
    purpose: PurposeForm = "generation",
    territory: TerritoryForm = None,
    user: UserForm = None,
    who: Caller = Depends(licensee),
) -> dict:
    """Screen an image: decision and the matching references (or faces) with their evidence."""
    data = await read_upload(request, file)
    # Off the event loop: a worker's other requests are read and answered meanwhile.
    return await run_in_threadpool(_screen_image_sync, request, who, data, purpose, territory, user)


def _screen_image_sync(
    request: Request,
    who: Caller,
    data: bytes,
    purpose: str,
    territory: str | None,
    user: str | None = None,
) -> dict[str, Any]:
    app = kenri_of(request)
    with app.transaction(who.label) as tx:
        screener = Screener(
            app, tx, who.licensee_name, purpose, territory, None, Thresholds(), user=user
        )
        with request.app.state.cpu_slots:
            screened = screener.screen_image(data)
        if screened.error is not None:
            raise MediaError(screened.error)  # 415: nothing was decided, nothing to audit
        record_media_findings(tx, app.media, who.licensee_id, screened, data)
        result = screened.to_dict()
        result["input"] = "upload"
        _audit(tx, who, "image", _sha256(data), result)
    return result


@router.post("/jobs/video", status_code=202)
async def video_job(
    request: Request,
    file: UploadFile = File(...),
    purpose: PurposeForm = "generation",
    territory: TerritoryForm = None,
    who: Caller = Depends(licensee),
) -> dict:
    """Screen a video in the background; poll the job for progress and the segments found."""
    data = await read_upload(request, file)
    params = {"licensee": who.licensee_name, "purpose": purpose, "territory": territory,
              "filename": (file.filename or "video")[:200]}  # fmt: skip
    files = [(file.filename or "video.mp4", data)]
    return await run_in_threadpool(_submit, request, who, "video", files, params)


@router.post("/jobs/dataset", status_code=202)
async def dataset_job(
    request: Request,
    files: list[UploadFile] = File(...),
    territory: TerritoryForm = None,
    who: Caller = Depends(licensee),
) -> dict:
    """Screen webdataset .tar shards for training (purpose training) in the background."""
    shards = [(f.filename or "shard.tar", await read_upload(request, f)) for f in files[:100]]
    params = {"licensee": who.licensee_name, "territory": territory}
    return await run_in_threadpool(_submit, request, who, "dataset", shards, params)


def _submit(request: Request, who: Caller, kind: str, files, params) -> dict[str, Any]:
    runner = request.app.state.jobs
    with kenri_of(request).transaction(who.label) as tx:
        job = runner.submit(tx, who.tenant_id, kind, files, params)
        view = job_view(job)
    runner.start(view["id"])
    return view


@router.get("/jobs")
def list_jobs(request: Request, who: Caller = Depends(licensee)) -> list[dict]:
    with kenri_of(request).transaction(who.label) as tx:
        return [job_view(j) for j in request.app.state.jobs.list(tx, who.tenant_id)]


@router.get("/jobs/{job_id}")
def get_job(job_id: IdPath, request: Request, who: Caller = Depends(licensee)) -> dict:
    with kenri_of(request).transaction(who.label) as tx:
        return job_view(request.app.state.jobs.get(tx, job_id, who.tenant_id))


@router.delete("/jobs/{job_id}")
def cancel_job(job_id: IdPath, request: Request, who: Caller = Depends(licensee)) -> dict:
    """Cancel a queued or running job (a dataset job keeps the shards it finished)."""
    runner = request.app.state.jobs
    with kenri_of(request).transaction(who.label) as tx:
        return job_view(runner.cancel(tx, runner.get(tx, job_id, who.tenant_id)))
