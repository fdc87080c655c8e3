"""Request body limits, enforced while the body streams in (before anything buffers it).

JSON bodies (prompts, grants, claims, generation records) are small; a multipart request
carries uploads, each also held to the per-file limit by ``routes.common.read_upload``. A body
announced too large (``Content-Length``) is refused at once; a chunked one is cut off at the
limit. Either way the answer is a 413 and at most ``limit`` bytes were read.
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_JSON_LIMIT = 8 * 2**20
DEFAULT_REQUEST_LIMIT = 1024 * 2**20


class BodyLimit:
    def __init__(self, app: ASGIApp, json_limit: int, request_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.request_limit = request_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = self.request_limit if multipart else self.json_limit
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # FastAPI passes an HTTPException from the body through
                    raise HTTPException(413, f"request body larger than {limit} bytes")
            return message

        await self.app(scope, limited, send)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
