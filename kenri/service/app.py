"""``kenri serve``: the REST API (FastAPI) over one kenri data folder and database.

PostgreSQL in production (``KENRI_DB``), SQLite for a single box. Errors are JSON
``{"detail": ...}``: 400 bad input, 401 no or bad key, 403 wrong role or party, 404 unknown or
another tenant's (a tenant cannot even learn that another tenant's object exists), 409
ambiguous. A background thread sends queued webhooks.
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import kenri
from kenri.app import Kenri
from kenri.claims.webhooks import deliver_pending
from kenri.errors import Ambiguous, Forbidden, KenriError, NotFound
from kenri.service.auth import KeyCache
from kenri.service.jobs import JobRunner
from kenri.service.routes import admin, claims, generations, grants, registry, screening

WEBHOOK_INTERVAL_S = 5.0


def _deliver_forever(app: Kenri, stop: threading.Event) -> None:
    while not stop.wait(WEBHOOK_INTERVAL_S):
        try:
            with app.transaction("service") as tx:
                deliver_pending(tx.session)
        except Exception:  # noqa: BLE001, S112 - the next round retries
            continue


def create_app(app: Kenri | None = None, deliver_webhooks: bool = True) -> FastAPI:
    """The ASGI app; ``app`` defaults to ``kenri.open()`` (KENRI_HOME / KENRI_DB)."""
    core = app or kenri.open()

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
    # The screeners keep caches that are not safe to share between threads; screening is
    # CPU-bound, so one request at a time per kind costs no throughput on a small machine.
    api.state.prompt_lock = threading.Lock()
    api.state.image_lock = threading.Lock()
    for module in (admin, registry, grants, screening, generations, claims):
        api.include_router(module.router)

    @api.exception_handler(KenriError)
    async def kenri_error(_request: Request, exc: KenriError) -> JSONResponse:
        status = 400
        if isinstance(exc, NotFound):
            status = 404
        elif isinstance(exc, Forbidden):
            status = 403
        elif isinstance(exc, Ambiguous):
            status = 409
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @api.get("/healthz", tags=["service"])
    def healthz() -> dict:
        return {"ok": True}

    return api
