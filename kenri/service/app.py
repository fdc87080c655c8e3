"""``kenri serve``: the REST API (FastAPI) over one kenri data folder and database.

PostgreSQL in production (``KENRI_DB``), SQLite for a single box. Errors are JSON
``{"detail": ...}``: 400 bad input, 401 no or bad key, 403 wrong role or party, 404 unknown or
another tenant's (a tenant cannot even learn that another tenant's object exists), 409
ambiguous. A background thread sends queued webhooks.
"""

from __future__ import annotations

import os
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

import kenri
from kenri.app import Kenri
from kenri.claims.webhooks import deliver_pending
from kenri.errors import (
    Ambiguous,
    Forbidden,
    KenriError,
    MediaError,
    NotFound,
    TooLarge,
    Unauthorized,
)
from kenri.portal import routes as portal
from kenri.service.auth import KeyCache
from kenri.service.jobs import JobRunner
from kenri.service.limits import DEFAULT_JSON_LIMIT, DEFAULT_REQUEST_LIMIT, BodyLimit
from kenri.service.routes import (
    admin,
    claims,
    generations,
    grants,
    persons,
    registry,
    screening,
)

WEBHOOK_INTERVAL_S = 5.0


# The first that the error is an instance of; anything else a caller did wrong is a 400.
STATUS_BY_ERROR: list[tuple[type[KenriError], int]] = [
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Ambiguous, 409),
    (TooLarge, 413),
    (MediaError, 415),  # an upload that is not a readable image or video
]


def _deliver_forever(app: Kenri, stop: threading.Event) -> None:
    while not stop.wait(WEBHOOK_INTERVAL_S):
        try:
            with app.transaction("service") as tx:
                deliver_pending(tx.session)
        except Exception:  # noqa: BLE001, S112 - the next round retries
            continue


def _mib(variable: str) -> int | None:
    value = os.environ.get(variable)
    return int(float(value) * 2**20) if value else None


def create_app(
    app: Kenri | None = None, deliver_webhooks: bool = True, max_upload_bytes: int | None = None
) -> FastAPI:
    """The ASGI app; ``app`` defaults to ``kenri.open()`` (KENRI_HOME / KENRI_DB).

    ``max_upload_bytes`` per uploaded file defaults to ``KENRI_MAX_UPLOAD_MB`` (256) MiB; a
    JSON body to ``KENRI_MAX_JSON_MB`` (8) MiB; a whole multipart request to
    ``KENRI_MAX_REQUEST_MB`` (1024) MiB.
    """
    core = app or kenri.open()
    upload_limit = max_upload_bytes or int(os.environ.get("KENRI_MAX_UPLOAD_MB", "256")) * 2**20
    json_limit = _mib("KENRI_MAX_JSON_MB") or DEFAULT_JSON_LIMIT
    request_limit = max(_mib("KENRI_MAX_REQUEST_MB") or DEFAULT_REQUEST_LIMIT, upload_limit)

    @asynccontextmanager
    async def lifespan(api: FastAPI):
        stop = threading.Event()
        if deliver_webhooks:
            threading.Thread(target=_deliver_forever, args=(core, stop), daemon=True).start()
        yield
        stop.set()
        api.state.jobs.shutdown()

    api = FastAPI(
        title="kenri",
        version="1",
        summary="Consent-first copyright infrastructure for generative image and video AI.",
        lifespan=lifespan,
    )
    api.state.kenri = core
    api.state.jobs = JobRunner(core)
    api.state.key_cache = KeyCache()
    api.state.max_upload_bytes = upload_limit
    # Screening is CPU-bound and thread-safe: as many at once as there are cores, the rest
    # wait their turn (the database work around them does not hold a slot).
    api.state.cpu_slots = threading.BoundedSemaphore(os.cpu_count() or 1)
    api.add_middleware(BodyLimit, json_limit=json_limit, request_limit=request_limit)
    for module in (admin, registry, persons, grants, screening, generations, claims):
        api.include_router(module.router)

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        """422 naming what is wrong, without echoing the input back (it may be megabytes)."""
        errors = [{k: v for k, v in e.items() if k not in ("input", "url")} for e in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    @api.exception_handler(KenriError)
    async def kenri_error(request: Request, exc: KenriError) -> Response:
        status = next((code for kind, code in STATUS_BY_ERROR if isinstance(exc, kind)), 400)
        if request.url.path.startswith("/portal/"):
            return portal.error_page(request, exc, status)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)

    portal.install(api)

    @api.get("/healthz", tags=["service"])
    def healthz() -> dict:
        return {"ok": True}

    return api
