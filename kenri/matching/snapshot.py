"""The indexes on disk: a versioned folder per snapshot and a ``CURRENT`` pointer file.

A writer builds ``index/v<N>/`` completely, then swaps ``CURRENT`` with an atomic rename, so a
reader (or a restart after ``kill -9``) always sees one complete snapshot: the indexes and the
manifest that says which fingerprints they hold.

Several processes may share one data folder (service workers, a CLI import beside them). A lock
file (``flock``) keeps one process from deleting a snapshot another is still writing or reading:
writers take it exclusively, readers shared.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kenri.matching.index import BinaryIndex, FloatIndex

SNAPSHOT_FORMAT = 1
LOCK_NAME = ".lock"


@dataclass
class Manifest:
    format: int = SNAPSHOT_FORMAT
    signals: dict[str, int] = field(default_factory=dict)  # signal -> version
    last_fingerprint_id: int = 0
    removed_watermark: str | None = None  # newest removed_at already applied (ISO 8601)
    references: int = 0
    items: int = 0
    ivf_trained_for: int = 0  # local codes the IVF lists were trained on (0: flat)


@dataclass
class Snapshot:
    manifest: Manifest
    indexes: dict[str, BinaryIndex | FloatIndex]


@contextmanager
def _locked(root: Path, exclusive: bool) -> Iterator[None]:
    with open(root / LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _current(root: Path) -> Path | None:
    pointer = root / "CURRENT"
    if not pointer.is_file():
        return None
    folder = root / pointer.read_text().strip()
    return folder if folder.is_dir() else None


def load(root: Path, signals: dict[str, int], binary: set[str]) -> Snapshot | None:
    """The current snapshot, or None when there is none or it was built for other signals.

    ``binary`` names the signals with binary codes; the others hold float vectors.
    """
    if not root.is_dir():
        return None
    with _locked(root, exclusive=False):
        return _load(root, signals, binary)


def _load(root: Path, signals: dict[str, int], binary: set[str]) -> Snapshot | None:
    folder = _current(root)
    if folder is None:
        return None
    try:
        manifest = Manifest(**json.loads((folder / "manifest.json").read_text()))
        if manifest.format != SNAPSHOT_FORMAT or manifest.signals != signals:
            return None
        indexes = {
            name: (BinaryIndex if name in binary else FloatIndex).load(folder / f"{name}.faiss")
            for name in signals
        }
    except (OSError, ValueError, TypeError, RuntimeError):
        return None  # unreadable or foreign: the caller rebuilds from the registry
    return Snapshot(manifest, indexes)


def save(root: Path, snapshot: Snapshot) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root, exclusive=True):
        return _save(root, snapshot)


def _save(root: Path, snapshot: Snapshot) -> Path:
    folder = Path(tempfile.mkdtemp(dir=root, prefix="v"))
    for name, index in snapshot.indexes.items():
        index.save(folder / f"{name}.faiss")
    (folder / "manifest.json").write_text(json.dumps(asdict(snapshot.manifest), indent=1))
    _fsync_dir(folder)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".CURRENT.")
    with os.fdopen(fd, "w") as fh:
        fh.write(folder.name)
        fh.flush()
        os.fsync(fh.fileno())
    previous = _current(root)
    os.replace(tmp, root / "CURRENT")
    _fsync_dir(root)
    for stale in root.glob("v*"):  # older snapshots and leftovers of interrupted writers
        if stale.is_dir() and stale != folder and stale != previous:
            shutil.rmtree(stale, ignore_errors=True)
    if previous is not None and previous != folder:
        shutil.rmtree(previous, ignore_errors=True)
    return folder


def leftovers(root: Path, remove: bool = False) -> list[Path]:
    """Snapshot folders and pointer files a killed writer left (never read: safe to remove)."""
    if not root.is_dir():
        return []
    with _locked(root, exclusive=remove):
        pointer = root / "CURRENT"
        current = pointer.read_text().strip() if pointer.is_file() else None
        found = sorted(
            path
            for path in root.iterdir()
            if path.name.startswith(".CURRENT.") or (path.is_dir() and path.name != current)
        )
        if remove:
            for path in found:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
    return found


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
