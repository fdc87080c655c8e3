"""What every route module needs: the kenri app of the request, uploads, ownership checks."""

from __future__ import annotations

import base64
import binascii
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Request, UploadFile

from kenri.app import Kenri, Transaction
from kenri.errors import InvalidInput, NotFound, TooLarge
from kenri.registry.models import Character, Reference, Work
from kenri.service.auth import Caller


def kenri_of(request: Request) -> Kenri:
    return request.app.state.kenri


async def read_upload(request: Request, upload: UploadFile) -> bytes:
    """The uploaded file, refused (413) past the service's per-file limit."""
    limit = request.app.state.max_upload_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"upload larger than {limit} bytes")
    if not data:
        raise InvalidInput("empty upload")
    return data


@contextmanager
def upload_as_file(data: bytes, filename: str | None, default: str) -> Iterator[Path]:
    """The uploaded bytes as a file under its own (sanitised) name, removed afterwards.

    Only the last component of the sent name is kept, so it can name a file in the scratch
    folder and nothing else ("..", "." and NUL bytes included)."""
    name = Path((filename or "").replace("\x00", "")).name[:200]
    if name in ("", ".", ".."):
        name = default
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        yield path


def decode_base64(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("media_base64 is not valid base64") from exc
    if not data:
        raise InvalidInput("media_base64 is empty")
    return data


def own_work(tx: Transaction, who: Caller, work_id: int) -> Work:
    """The caller's work; another holder's work is reported as missing, not forbidden."""
    work = tx.session.get(Work, work_id)
    if work is None or work.holder_id != who.holder_id:
        raise NotFound(f"no work {work_id}")
    return work


def own_character(tx: Transaction, who: Caller, character_id: int) -> Character:
    character = tx.session.get(Character, character_id)
    if character is None or character.work.holder_id != who.holder_id:
        raise NotFound(f"no character {character_id}")
    return character


def own_reference(tx: Transaction, who: Caller, reference_id: int) -> Reference:
    reference = tx.session.get(Reference, reference_id)
    if reference is None or reference.work.holder_id != who.holder_id:
        raise NotFound(f"no reference {reference_id}")
    return reference
