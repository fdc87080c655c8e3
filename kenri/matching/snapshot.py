"""The indexes on disk: a versioned folder per snapshot and a ``CURRENT`` pointer file.

A writer builds ``index/v<N>/`` completely, then swaps ``CURRENT`` with an atomic rename, so a
reader (or a restart after ``kill -9``) always sees one complete snapshot: the indexes and the
manifest that says which fingerprints they hold.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kenri.matching.index import BinaryIndex, FloatIndex

SNAPSHOT_FORMAT = 1


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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
