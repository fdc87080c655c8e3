"""``kenri doctor``: do the registry, the media folder, the index and the ledger agree?

After a crash (kill -9 during an import, an ingestion, an index rebuild, a screening) the
database is whatever its last commit left; files and indexes around it may be ahead or behind.
The doctor finds each kind of disagreement and, with ``repair``, fixes what is derived (the
indexes, missing fingerprints, unfinished copies). It never edits the ledger or the audit log:
a broken chain is reported, not "fixed".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from kenri.audit.log import verify as verify_audit
from kenri.claims.models import Claim
from kenri.errors import NotFound
from kenri.matching import snapshot as snapshots
from kenri.provenance.generations import Generation
from kenri.registry.models import FingerprintRow, Reference
from kenri.screening.findings import Finding as ScreeningFinding

# An ingestion stores its file before it commits the row (fingerprinting a long video takes
# minutes), so a fresh unreferenced file may belong to a writer still at work: leave it alone.
ORPHAN_GRACE_S = 3600.0
# Every column naming a stored media file by its SHA-256.
MEDIA_COLUMNS = (
    Reference.sha256,
    ScreeningFinding.media_sha256,
    Claim.media_sha256,
    Generation.media_sha256,
)

if TYPE_CHECKING:
    from kenri.app import Kenri


@dataclass
class Finding:
    check: str
    ok: bool
    detail: str
    repaired: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail,
                "repaired": self.repaired}  # fmt: skip


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok or f.repaired for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "findings": [f.to_dict() for f in self.findings]}


def examine(app: Kenri, repair: bool = False) -> Report:
    report = Report()
    report.findings.append(_audit(app))
    report.findings.append(_media(app))
    report.findings.append(_unfinished_copies(app, repair))
    report.findings.append(_unreferenced_media(app, repair))
    report.findings.append(_fingerprints(app, repair))
    report.findings.append(_index(app, repair))
    return report


def _audit(app: Kenri) -> Finding:
    with app.transaction() as tx:
        check = verify_audit(tx.session)
    detail = f"{check.entries} entries, chain intact" if check.ok else "; ".join(check.problems)
    return Finding("audit chain", check.ok, detail)


def _media(app: Kenri) -> Finding:
    """Every live reference's file is in the media folder (they are never deleted)."""
    missing = []
    with app.transaction() as tx:
        references = tx.registry.references()
        for reference in references:
            try:
                tx.registry.media_path(reference)
            except NotFound:
                missing.append(f"reference {reference.id} ({reference.original_name})")
    if missing:
        return Finding("reference media", False, "missing files: " + ", ".join(missing[:20]))
    return Finding("reference media", True, f"{len(references)} live references, all files present")


def _unfinished_copies(app: Kenri, repair: bool) -> Finding:
    """Files a killed writer left: media copies, and index snapshots or pointers never swapped in.

    Readers never see them (media are renamed into place, snapshots are switched by renaming
    ``CURRENT``), so removing them is always safe.
    """
    copies = sorted(app.media.root.rglob(".incoming-*")) if app.media.root.exists() else []
    if repair:
        for path in copies:
            path.unlink(missing_ok=True)
    stray = copies + snapshots.leftovers(app.matcher.index_dir, remove=repair)
    if not stray:
        return Finding("unfinished copies", True, "none")
    return Finding("unfinished copies", False, f"{len(stray)} partial files", repaired=repair)


def _unreferenced_media(app: Kenri, repair: bool) -> Finding:
    """Stored files no row points at: left by an ingestion killed before its commit.

    Harmless (re-adding the file reuses it), so this never fails the check; ``repair`` removes
    those older than ``ORPHAN_GRACE_S``.
    """
    root = app.media.root
    if not root.exists():
        return Finding("unreferenced media", True, "none")
    with app.transaction() as tx:
        known: set[str] = set()
        for column in MEDIA_COLUMNS:
            known.update(sha for sha in tx.session.scalars(select(column).distinct()) if sha)
    orphans = [
        path
        for path in root.glob("??/*")
        if path.is_file() and not path.name.startswith(".") and path.name[:64] not in known
    ]
    if not orphans:
        return Finding("unreferenced media", True, "none")
    removed = 0
    if repair:
        cutoff = time.time() - ORPHAN_GRACE_S
        for path in orphans:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
    size = sum(p.stat().st_size for p in orphans if p.exists())
    detail = f"{len(orphans)} files no row refers to ({size} bytes left)"
    if repair:
        detail += f"; removed {removed} older than {ORPHAN_GRACE_S:.0f} s"
    return Finding("unreferenced media", True, detail, repaired=removed > 0)


def _fingerprints(app: Kenri, repair: bool) -> Finding:
    """Every live reference has every configured signal (an ingestion cut short lacks some)."""
    wanted = {s.name for s in app.signals}
    with app.transaction() as tx:
        have: dict[int, set[str]] = {}
        for reference_id, signal in tx.session.execute(
            select(FingerprintRow.reference_id, FingerprintRow.signal).distinct()
        ):
            have.setdefault(reference_id, set()).add(signal)
        lacking = [r.id for r in tx.registry.references() if not wanted <= have.get(r.id, set())]
    if not lacking:
        return Finding("fingerprints", True, "every live reference has every signal")
    if repair:
        with app.transaction() as tx:
            tx.registry.fill_missing_fingerprints()
    detail = f"{len(lacking)} references lack signals: {lacking[:20]}"
    return Finding("fingerprints", False, detail, repaired=repair)


def _index(app: Kenri, repair: bool) -> Finding:
    """The index on disk covers exactly the registry's live fingerprints, no more, no less."""
    app.sync_index()  # catching up with new rows is what every screening does anyway
    manifest = app.matcher.snapshot.manifest
    with app.transaction() as tx:
        last = tx.session.scalar(select(func.max(FingerprintRow.id))) or 0
        removed = tx.session.scalar(select(func.max(Reference.removed_at)))
        expected = _expected_items(tx.session)
    problems = []
    if manifest.last_fingerprint_id > last:
        problems.append(
            f"the index holds fingerprint rows up to {manifest.last_fingerprint_id}, the "
            f"registry only up to {last} (it outlived a rolled-back transaction)"
        )
    elif manifest.last_fingerprint_id < last:
        problems.append(f"the index is behind ({manifest.last_fingerprint_id} < {last})")
    if removed is not None and manifest.removed_watermark != removed.isoformat():
        problems.append("retired references may still be indexed")
    if manifest.items != expected:
        problems.append(f"the index has {manifest.items} frames, the registry implies {expected}")
    if not problems:
        return Finding("search index", True, f"{expected} frames, in step with the registry")
    if repair:
        app.rebuild_index()
    return Finding("search index", False, "; ".join(problems), repaired=repair)


def _expected_items(session) -> int:
    """Frames the index should hold: live references' PDQ rows the matcher keeps."""
    from kenri.fingerprints.base import Fingerprint
    from kenri.matching.matcher import MAX_FRAMES, PDQ, PDQ_MIN_QUALITY

    rows = session.execute(
        select(FingerprintRow.version, FingerprintRow.frame_index, FingerprintRow.data)
        .join(Reference, Reference.id == FingerprintRow.reference_id)
        .where(FingerprintRow.signal == PDQ, Reference.removed_at.is_(None))
        .execution_options(yield_per=2000)
    )
    count = 0
    for version, frame_index, data in rows:
        if frame_index >= MAX_FRAMES:
            continue
        quality = int(Fingerprint.from_bytes(PDQ, version, data).arrays["quality"][0])
        count += quality >= PDQ_MIN_QUALITY
    return count
