"""What a dataset is made of: shards of items, read safely.

Three layouts are understood, all split into *shards* (the unit of work and of checkpointing):
- an img2dataset / webdataset folder: ``*.tar`` shards whose members share a key
  (``000001.jpg``, ``000001.txt`` caption, ``000001.json`` metadata), with optional ``*.parquet``
  beside them;
- a folder of media files (captions from a ``.txt`` beside each file), cut into shards;
- a manifest (``.parquet`` or ``.csv``) with a ``path`` column and an optional ``caption``.

A bad member (unsafe path, too large, a truncated archive) becomes an item with ``error`` set;
reading goes on past it.
"""

from __future__ import annotations

import csv
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from kenri.errors import InvalidInput

IMAGE_EXTENSIONS = {"jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"}
VIDEO_EXTENSIONS = {"mp4", "webm", "mkv", "mov", "avi"}
MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
MAX_MEMBER_BYTES = 512 * 1024 * 1024
FILES_PER_SHARD = 1000


@dataclass(frozen=True)
class Shard:
    name: str  # unique within the dataset; names the shard's outputs
    kind: str  # "tar" | "files"
    path: Path | None = None  # the tar file
    files: tuple[tuple[str, str, str | None], ...] = ()  # (key, path, caption) for "files"


@dataclass
class Item:
    key: str
    shard: str
    position: int  # order within the shard
    members: dict[str, bytes] = field(default_factory=dict)  # extension -> bytes
    caption: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def media(self) -> tuple[str, bytes] | None:
        for ext, data in self.members.items():
            if ext in MEDIA_EXTENSIONS:
                return ext, data
        return None


def discover(source: Path, files_per_shard: int = FILES_PER_SHARD) -> list[Shard]:
    """The shards of a dataset folder or manifest, in a stable order."""
    source = Path(source)
    if source.is_file():
        return _manifest_shards(source, files_per_shard)
    if not source.is_dir():
        raise InvalidInput(f"no such dataset: {source}")
    tars = sorted(source.glob("*.tar"))
    if tars:
        return [Shard(p.stem, "tar", p) for p in tars]
    files = sorted(
        p for p in source.rglob("*") if p.is_file() and p.suffix[1:].lower() in MEDIA_EXTENSIONS
    )
    rows = [(str(p.relative_to(source).with_suffix("")), str(p), _caption_beside(p)) for p in files]
    return _chunks("files", rows, files_per_shard)


def _caption_beside(path: Path) -> str | None:
    text = path.with_suffix(".txt")
    return text.read_text("utf-8", errors="replace").strip() if text.is_file() else None


def _manifest_shards(path: Path, files_per_shard: int) -> list[Shard]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path).to_pylist()
    elif path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as fh:
            table = list(csv.DictReader(fh))
    else:
        raise InvalidInput(f"a manifest is .parquet or .csv, not {path.suffix!r}")
    if table and "path" not in table[0]:
        raise InvalidInput("a manifest needs a 'path' column")
    rows = []
    for number, row in enumerate(table):
        media = Path(str(row["path"]))
        if not media.is_absolute():
            media = path.parent / media
        key = str(row.get("key") or f"{number:09d}")
        rows.append((key, str(media), row.get("caption")))
    return _chunks(path.stem, rows, files_per_shard)


def _chunks(prefix: str, rows: list, size: int) -> list[Shard]:
    return [
        Shard(f"{prefix}-{start // size:05d}", "files", files=tuple(rows[start : start + size]))
        for start in range(0, len(rows), size)
    ]


def read_items(shard: Shard) -> Iterator[Item]:
    if shard.kind == "tar":
        yield from _tar_items(shard)
    else:
        yield from _file_items(shard)


def _file_items(shard: Shard) -> Iterator[Item]:
    for position, (key, path, caption) in enumerate(shard.files):
        item = Item(key, shard.name, position, caption=caption)
        try:
            item.members[Path(path).suffix[1:].lower()] = Path(path).read_bytes()
        except OSError as exc:
            item.error = f"unreadable file: {exc.strerror or exc}"
        yield item


def _safe_member(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not name.startswith("/") and ".." not in parts and "\\" not in name


def _tar_items(shard: Shard) -> Iterator[Item]:
    """Group a webdataset tar's members by key; members of one key are contiguous."""
    current: Item | None = None
    position = 0
    try:
        with tarfile.open(shard.path, "r:*") as archive:
            for member in archive:
                if member.isdir():
                    continue
                name = member.name
                key, _, ext = name.rpartition(".")
                if not key:
                    key, ext = name, ""
                if current is not None and current.key != key:
                    yield _finish(current)
                    current, position = None, position + 1
                if current is None:
                    current = Item(key, shard.name, position)
                if not _safe_member(name):
                    current.error = f"unsafe member path: {name!r}"
                    continue
                if not member.isfile():
                    current.error = f"not a regular file (link or device): {name!r}"
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    current.error = f"member too large: {name} ({member.size} bytes)"
                    continue
                handle = archive.extractfile(member)
                current.members[ext.lower()] = handle.read() if handle else b""
    except (tarfile.TarError, EOFError, OSError) as exc:
        broken = current or Item("", shard.name, position)
        broken.error = f"truncated or corrupt shard after {position} items: {exc}"
        yield _finish(broken)
        return
    if current is not None:
        yield _finish(current)


def _finish(item: Item) -> Item:
    """Caption and metadata from the text members; a missing caption is recorded, not fatal."""
    text = item.members.pop("txt", None)
    if text is not None:
        item.caption = text.decode("utf-8", errors="replace").strip()
    raw = item.members.pop("json", None)
    if raw is not None:
        try:
            loaded = json.loads(raw)
            item.metadata = loaded if isinstance(loaded, dict) else {}
        except (ValueError, RecursionError):  # RecursionError: nested too deep ("[[[[...")
            item.metadata = {"_unreadable_json": True}
        if item.caption is None and isinstance(item.metadata.get("caption"), str):
            item.caption = item.metadata["caption"]
    if item.error is None and item.media is None:
        item.error = "no media member"
    return item
