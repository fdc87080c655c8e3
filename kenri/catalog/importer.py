"""Import a catalog: each line is one transaction, so a bad line costs only itself.

Idempotent: the catalog is the source of truth for what it declared (rows with origin
``catalog``); re-importing an unchanged catalog changes nothing, a changed line updates the
subject (names, descriptions, references added or retired), and rows added by hand are never
touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from kenri.app import Kenri
from kenri.catalog.schema import MAX_LINE_BYTES, CatalogEntry, parse_line
from kenri.errors import KenriError
from kenri.registry.media import MediaInfo, probe_media
from kenri.registry.models import ORIGIN_CATALOG
from kenri.registry.registry import NameSpec, Registry


@dataclass
class LineResult:
    line: int
    status: str  # created | updated | unchanged | error
    subject: str | None = None
    error: str | None = None


@dataclass
class ImportReport:
    catalog: str
    lines: list[LineResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.lines if r.status == status)

    @property
    def errors(self) -> list[LineResult]:
        return [r for r in self.lines if r.status == "error"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "catalog": self.catalog,
            "created": self.count("created"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "errors": [asdict(r) for r in self.errors],
        }


def _subject_label(entry: CatalogEntry) -> str:
    return f"{entry.work} / {entry.character}" if entry.character else entry.work


def _apply(registry: Registry, entry: CatalogEntry, media: list[tuple[Path, MediaInfo]]) -> str:
    holder, changed = registry.ensure_holder(entry.holder, entry.country)
    work, subject_created = registry.ensure_work(holder, entry.work)
    changed |= subject_created
    # The work's own line (character null) is authoritative for its titles; character lines
    # may only add titles, so two lines of one work never undo each other.
    title_specs = [NameSpec(entry.work), *entry.work_titles]
    if entry.character is None:
        title_specs += list(entry.names)
    changed |= registry.sync_names(
        work, None, title_specs, ORIGIN_CATALOG, prune=entry.character is None
    ).changed
    character = None
    if entry.character is not None:
        character, subject_created = registry.ensure_character(work, entry.character)
        changed |= subject_created
        specs = [NameSpec(entry.character), *entry.names]
        changed |= registry.sync_names(work, character, specs, ORIGIN_CATALOG).changed
    changed |= registry.sync_descriptions(
        work, character, entry.descriptions, ORIGIN_CATALOG
    ).changed
    wanted = set()
    for path, info in media:
        reference, created = registry.add_reference(path, work, character, ORIGIN_CATALOG, info)
        wanted.add(reference.id)
        changed |= created
    stale = [
        r
        for r in registry.references(work, character, exact_subject=True)
        if r.origin == ORIGIN_CATALOG and r.id not in wanted
    ]
    for reference in stale:
        registry.remove_reference(reference)
        changed = True
    if subject_created:
        return "created"
    return "updated" if changed else "unchanged"


def import_catalog(
    kenri: Kenri,
    catalog: str | Path,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ``catalog``; returns per-line results. Only an unreadable file raises.

    The file is read a line at a time (never more than ``MAX_LINE_BYTES`` of one line), so a
    catalog of any size, or one long line, costs no more memory than its longest good line.
    """
    path = Path(catalog)
    report = ImportReport(catalog=str(path))
    seen: dict[tuple[str, str, str | None], int] = {}
    try:
        total = _count_lines(path)
        with path.open("rb") as handle:
            for number, raw in enumerate(_lines(handle), start=1):
                if raw is None:
                    too_long = f"line longer than {MAX_LINE_BYTES} bytes"
                    result = LineResult(number, "error", error=too_long)
                else:
                    result = _import_line(kenri, raw, number, path.parent, seen)
                if result is not None:
                    report.lines.append(result)
                if progress is not None:
                    progress(number, total)
    except OSError as exc:
        raise KenriError(f"cannot read catalog {path}: {exc.strerror or exc}") from exc
    return report


def _count_lines(path: Path) -> int:
    count = last = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1]
    return count + (last not in (0, ord("\n")))


def _lines(handle) -> Iterator[bytes | None]:
    """Each line without its newline; None for a line past ``MAX_LINE_BYTES`` (skipped)."""
    while line := handle.readline(MAX_LINE_BYTES + 2):
        if line.endswith(b"\n"):
            yield line[:-1].removesuffix(b"\r")  # one byte too long still: parse_line says so
            continue
        if len(line) <= MAX_LINE_BYTES:
            yield line  # the last line, without a newline
            continue
        while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
            pass  # the rest of the overlong line
        yield None


def _import_line(
    kenri: Kenri,
    raw: bytes,
    number: int,
    base_dir: Path,
    seen: dict[tuple[str, str, str | None], int],
) -> LineResult | None:
    try:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        return LineResult(number, "error", error=f"not UTF-8 text: {exc.reason}")
    entry: CatalogEntry | None = None
    try:
        entry = parse_line(line, base_dir)
        if entry is None:
            return None
        first = seen.get(entry.subject_key)
        if first is not None:
            raise KenriError(f"same holder/work/character as line {first}: merge the two lines")
        media = [(p, probe_media(p)) for p in entry.references]  # validate before writing
        with kenri.transaction() as tx:
            status = _apply(tx.registry, entry, media)
        seen[entry.subject_key] = number
        return LineResult(number, status, _subject_label(entry))
    except KenriError as exc:
        subject = _subject_label(entry) if entry is not None else None
        return LineResult(number, "error", subject, str(exc))
    except IntegrityError as exc:  # a concurrent writer created the same row first
        subject = _subject_label(entry) if entry is not None else None
        return LineResult(number, "error", subject, f"conflict, retry: {exc.orig}")
