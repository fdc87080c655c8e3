"""``kenri export`` / ``kenri restore``: the whole registry in one folder, and back.

An export holds every table (JSON Lines, one file per table, in foreign-key order), every
stored media file, and a manifest with the schema revision and the SHA-256 of each file. It
is written to ``OUT.partial`` and renamed when complete, so a half-written export never looks
finished. A restore checks every hash before it writes anything, goes only into an empty
database, keeps every id (so the audit chain, which names ids, still verifies), and rebuilds
the search indexes (they are derived). Signing keys are not exported: they are secrets, kept
apart (docs/reliability.md).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Engine, LargeBinary, func, insert, inspect, select, text
from sqlalchemy.sql.schema import Table
from sqlalchemy.sql.sqltypes import DateTime

import kenri.audit.log  # noqa: F401 - every model module registers its tables on Base
import kenri.claims.models  # noqa: F401
import kenri.portal.sessions  # noqa: F401
import kenri.provenance.generations  # noqa: F401
import kenri.screening.findings  # noqa: F401
import kenri.service.jobs  # noqa: F401
import kenri.service.tenants  # noqa: F401
from kenri.audit.log import verify as verify_audit
from kenri.db import alembic_config, make_engine, migrate
from kenri.errors import InvalidInput
from kenri.registry.media import sha256_file
from kenri.registry.models import Base

FORMAT = "kenri-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    revision: str
    rows: dict[str, int]
    media_files: int
    media_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "revision": self.revision,
            "rows": self.rows,
            "media_files": self.media_files,
            "media_bytes": self.media_bytes,
        }


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name != "alembic_version"]


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.scalar(text("SELECT version_num FROM alembic_version"))


def _head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(make_engine("sqlite://"))).get_current_head()


def _encode(table: Table, row: Any) -> dict[str, Any]:
    record = {}
    for column in table.columns:
        value = getattr(row, column.name)
        if value is not None and isinstance(column.type, LargeBinary):
            value = base64.b64encode(value).decode()
        elif isinstance(value, datetime):
            value = value.isoformat()
        record[column.name] = value
    return record


def _decode(table: Table, record: dict[str, Any]) -> dict[str, Any]:
    row = {}
    for column in table.columns:
        if column.name not in record:
            raise InvalidInput(f"export: {table.name} row lacks column {column.name}")
        value = record[column.name]
        if value is not None and isinstance(column.type, LargeBinary):
            value = base64.b64decode(value)
        elif value is not None and _is_datetime(column.type):
            value = datetime.fromisoformat(value)
        row[column.name] = value
    return row


def _is_datetime(kind: Any) -> bool:
    return isinstance(kind, DateTime) or isinstance(getattr(kind, "impl", None), DateTime)


def export(engine: Engine, media_dir: Path, out: Path) -> ExportSummary:
    """Write the registry to the folder ``out`` (which must not exist yet)."""
    out = Path(out)
    if out.exists():
        raise InvalidInput(f"{out} exists: an export goes to a new folder")
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    (partial / "tables").mkdir(parents=True)
    revision = _revision(engine)
    files: dict[str, str] = {}
    rows: dict[str, int] = {}
    # One read transaction (a consistent snapshot on PostgreSQL; SQLite's WAL gives the same).
    with engine.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        for table in _tables():
            path = partial / "tables" / f"{table.name}.jsonl"
            count = 0
            order = list(table.primary_key.columns)
            with open(path, "w", encoding="utf-8") as handle:
                result = connection.execution_options(yield_per=BATCH).execute(
                    select(table).order_by(*order)
                )
                for row in result:
                    handle.write(json.dumps(_encode(table, row), ensure_ascii=False) + "\n")
                    count += 1
            rows[table.name] = count
            files[f"tables/{table.name}.jsonl"] = sha256_file(path)
    media_files = media_bytes = 0
    media_root = Path(media_dir)
    if media_root.exists():
        for source in sorted(media_root.rglob("*")):
            if not source.is_file() or source.name.startswith("."):
                continue  # ".incoming-*": a copy that never finished
            relative = source.relative_to(media_root).as_posix()
            target = partial / "media" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            files[f"media/{relative}"] = sha256_file(target)
            media_files += 1
            media_bytes += target.stat().st_size
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "revision": revision,
        "rows": rows,
        "files": files,
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(partial, out)
    return ExportSummary(out, revision or "", rows, media_files, media_bytes)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, after checking every file against its hash (nothing is written before)."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{folder}: not a kenri export ({exc})") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise InvalidInput(f"{folder}: not a kenri export of format version {FORMAT_VERSION}")
    for relative, digest in manifest["files"].items():
        # Only tables/... and media/... without "..": a media entry is copied to the same
        # relative place under the media folder, which it must not climb out of.
        parts = PurePosixPath(relative).parts
        path = (folder / relative).resolve()
        if (
            len(parts) < 2
            or parts[0] not in ("tables", "media")
            or ".." in parts
            or "\\" in relative
            or not path.is_relative_to((folder / parts[0]).resolve())
        ):
            raise InvalidInput(f"export names a file outside itself: {relative!r}")
        if not path.is_file():
            raise InvalidInput(f"export is incomplete: {relative} is missing")
        if sha256_file(path) != digest:
            raise InvalidInput(f"export is damaged: {relative} does not match its hash")
    return manifest


def restore(folder: Path, db_url: str, media_dir: Path) -> dict[str, int]:
    """Load an export into an empty database and media folder; returns rows per table."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    engine = make_engine(db_url)
    try:
        current = _revision(engine)
        wanted = manifest["revision"]
        if current is None:
            migrate(engine, wanted)
        elif current != wanted:
            raise InvalidInput(
                f"the database is at schema {current}, the export at {wanted}: restore into an "
                "empty database"
            )
        tables = _tables()
        with engine.begin() as connection:
            for table in tables:
                if connection.scalar(select(func.count()).select_from(table)):
                    raise InvalidInput(f"the database is not empty ({table.name} has rows)")
            counts = {}
            for table in tables:
                counts[table.name] = _load_table(connection, table, folder)
                if counts[table.name] != manifest["rows"].get(table.name, 0):
                    raise InvalidInput(f"export: {table.name} row count differs from manifest")
            if connection.dialect.name == "postgresql":
                _reset_sequences(connection, tables)
        _copy_media(folder, manifest, Path(media_dir))
        migrate(engine)  # an export from an older kenri comes up to this one's schema
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            check = verify_audit(session)
            if not check.ok:
                raise InvalidInput(
                    "restored audit log does not verify: " + "; ".join(check.problems)
                )
        return counts
    finally:
        engine.dispose()


def _load_table(connection: Any, table: Table, folder: Path) -> int:
    path = folder / "tables" / f"{table.name}.jsonl"
    if not path.exists():
        return 0
    count, batch = 0, []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            batch.append(_decode(table, json.loads(line)))
            if len(batch) >= BATCH:
                connection.execute(insert(table), batch)
                count, batch = count + len(batch), []
    if batch:
        connection.execute(insert(table), batch)
        count += len(batch)
    return count


def _reset_sequences(connection: Any, tables: list[Table]) -> None:
    """Explicit ids leave PostgreSQL's sequences at 1: move each past the largest id."""
    for table in tables:
        if "id" not in table.columns or not table.columns["id"].autoincrement:
            continue
        sequence = connection.scalar(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        )
        if sequence:
            largest = connection.scalar(select(func.max(table.columns["id"]))) or 0
            connection.execute(
                text("SELECT setval(CAST(:sequence AS regclass), :next, false)"),
                {"sequence": sequence, "next": largest + 1},
            )


def _copy_media(folder: Path, manifest: dict[str, Any], media_dir: Path) -> None:
    for relative in manifest["files"]:
        if not relative.startswith("media/"):
            continue
        target = media_dir / relative.removeprefix("media/")
        if target.exists():
            continue  # content-addressed: the same name is the same bytes
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".incoming-{target.name}")
        shutil.copyfile(folder / relative, partial)
        os.replace(partial, target)
