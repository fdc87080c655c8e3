"""kill -9 during a catalog import, a reference ingestion and an index rebuild, then restart.

Each run is a real ``kenri`` process killed with SIGKILL while it works. Afterwards
``kenri doctor --repair`` must leave nothing to report, the registry must be whole (every live
reference has its file and every signal), the index must answer for every reference, and running
the same command again must finish the job. Dataset screening and claim transitions have their
own kill -9 tests (tests/test_screen_dataset.py, tests/test_service_crash.py).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import DBAPIError

import kenri
from kenri.maintenance import doctor
from kenri.matching import snapshot
from kenri.registry.models import FingerprintRow, Reference
from tests.media_factory import kenri_process, make_video, picture_catalog

LINES = 12


def _count(db_url: str, statement, started: bool = True) -> int:
    """Rows counted from outside the child; retried while SQLite is locked by its writer.

    ``started=False``: the schema may not exist yet (the child is starting), which counts as 0.
    """
    engine = create_engine(db_url)
    try:
        for attempt in range(50):
            try:
                with engine.connect() as conn:
                    return int(conn.scalar(statement) or 0)
            except DBAPIError:  # locked by the writer, or (starting) no schema yet
                if not started:
                    return 0
                if attempt == 49:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")
    finally:
        engine.dispose()


def _kill_during(process: subprocess.Popen, started: Callable[[], bool], delay: float) -> bool:
    """SIGKILL ``delay`` s after ``started()`` holds; False when the process finished first."""
    deadline = time.monotonic() + 120
    while not started():
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the child never started its work"
        time.sleep(0.02)
    time.sleep(delay)
    if process.poll() is not None:
        return False
    process.kill()
    process.wait()
    return True


def _catalog(folder: Path) -> Path:
    return picture_catalog(folder, "catalog.jsonl", range(LINES), "Crash")


def _recovered(home: Path, db_url: str) -> kenri.Kenri:
    """Repair, then check that the doctor finds nothing and every reference finds itself."""
    app = kenri.open(home, db_url)
    doctor.examine(app, repair=True)
    after = doctor.examine(app)
    assert after.ok, after.to_dict()
    assert all(f.ok for f in after.findings), after.to_dict()
    with app.transaction() as tx:
        references = tx.registry.references()
        paths = {r.id: tx.registry.media_path(r) for r in references if r.kind == "image"}
    for reference_id, path in paths.items():
        result = app.screen_image(path)
        assert result.matches and result.matches[0].reference_id == reference_id, path
    return app


@pytest.mark.parametrize("after", [1, 6])
def test_kill_9_during_catalog_import(db_url: str, tmp_path: Path, after: int) -> None:
    home, catalog = tmp_path / "home", _catalog(tmp_path / "catalog")
    kenri.open(home, db_url).close()  # schema in place, so the child only imports
    child = kenri_process(home, db_url, "import", str(catalog), "--json")
    references = select(func.count(Reference.id))
    killed = _kill_during(child, lambda: _count(db_url, references, started=False) >= after, 0)
    assert killed, "the import finished before it could be killed: make the catalog longer"
    landed = _count(db_url, select(func.count(Reference.id)))
    assert after <= landed < LINES  # killed between two lines or inside one
    _recovered(home, db_url).close()
    again = kenri_process(home, db_url, "import", str(catalog), "--json")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()
    app = _recovered(home, db_url)
    with app.transaction() as tx:
        assert len(tx.registry.references()) == LINES  # nothing doubled, nothing lost
    app.close()


def test_kill_9_during_reference_ingestion(db_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    app = kenri.open(home, db_url)
    with app.transaction() as tx:
        holder = tx.registry.add_holder("Crash Studio", "JP")
        tx.registry.add_work(holder, "Long Film")
    app.close()
    clip = make_video(tmp_path / "long.mp4", frames=1200, size=(320, 240), fps=24)  # 50 s
    child = kenri_process(home, db_url, "reference", "add", str(clip), "--work", "Long Film")
    media = home / "media"
    stored = lambda: media.exists() and any(media.glob("??/*.mp4"))  # noqa: E731
    # Right after the file lands: fingerprinting the clip and committing its row take about
    # 0.7 s on a fast day, and a kill 0.5 s in once came after the commit.
    assert _kill_during(child, stored, 0.05), "the ingestion finished before it could be killed"
    assert _count(db_url, select(func.count(Reference.id))) == 0  # the file, but no row
    app = _recovered(home, db_url)
    report = doctor.examine(app).to_dict()
    orphans = next(f for f in report["findings"] if f["check"] == "unreferenced media")
    assert "1 files no row refers to" in orphans["detail"]
    app.close()
    again = kenri_process(home, db_url, "reference", "add", str(clip), "--work", "Long Film")
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()
    app = _recovered(home, db_url)
    report = doctor.examine(app).to_dict()
    orphans = next(f for f in report["findings"] if f["check"] == "unreferenced media")
    assert orphans["detail"] == "none"  # the kept file was reused by the second ingestion
    frames = _count(db_url, select(func.count(FingerprintRow.id)))
    assert frames > 100
    app.close()


def test_orphans_are_removed_only_past_the_grace_period(tmp_path: Path, monkeypatch) -> None:
    app = kenri.open(tmp_path / "home", f"sqlite:///{tmp_path / 'r.sqlite'}")
    stray = app.media.root / "ab" / ("ab" + "0" * 62 + ".png")
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left by a killed ingestion")
    doctor.examine(app, repair=True)
    assert stray.exists()  # young: may belong to a writer still fingerprinting
    monkeypatch.setattr(doctor, "ORPHAN_GRACE_S", 0.0)
    finding = next(f for f in doctor.examine(app, repair=True).findings
                   if f.check == "unreferenced media")  # fmt: skip
    assert finding.repaired and not stray.exists()
    app.close()


# SIGKILL at exact points of a snapshot write, from inside the child (timing alone rarely lands
# there: a snapshot of this registry is written in milliseconds).
KILL_POINTS = {
    "after the first index file": """
from kenri.matching.index import BinaryIndex
original = BinaryIndex.save
def save(self, path):
    original(self, path)
    os.kill(os.getpid(), signal.SIGKILL)
BinaryIndex.save = save
""",
    "before CURRENT is swapped": """
import kenri.matching.snapshot as snapshot
snapshot._fsync_dir = lambda path: os.kill(os.getpid(), signal.SIGKILL)
""",
}


def _entries(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.name != snapshot.LOCK_NAME)


def _rebuild_killed_at(home: Path, db_url: str, patch: str) -> subprocess.CompletedProcess:
    argv = ["kenri", "--home", str(home), "--db", db_url, "index", "rebuild"]
    script = f"import os, signal, sys\n{patch}\nsys.argv = {argv!r}\n" + (
        "from kenri.cli.main import app\napp()\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)


def test_kill_9_during_index_rebuild(db_url: str, tmp_path: Path) -> None:
    from kenri.catalog import import_catalog

    home, catalog = tmp_path / "home", _catalog(tmp_path / "catalog")
    app = kenri.open(home, db_url)
    assert not import_catalog(app, catalog).errors
    app.sync_index()
    app.close()
    index = home / "index"
    for point, patch in KILL_POINTS.items():
        before = (index / "CURRENT").read_text().strip()
        child = _rebuild_killed_at(home, db_url, patch)
        assert child.returncode == -9, (point, child.stderr.decode()[-2000:])
        assert (index / "CURRENT").read_text().strip() == before  # the old snapshot still serves
        assert len(_entries(index)) == 3, point  # CURRENT, the old and the unfinished
        app = kenri.open(home, db_url)
        copies = next(f for f in doctor.examine(app).findings if f.check == "unfinished copies")
        assert not copies.ok and "1 partial" in copies.detail, (point, copies)
        app.close()
        _recovered(home, db_url).close()
        assert _entries(index) == sorted(["CURRENT", before]), point  # the unfinished one: gone
    child = kenri_process(home, db_url, "index", "rebuild")  # a killed rebuild can be rerun
    assert child.wait(timeout=300) == 0, child.stderr.read().decode()
    _recovered(home, db_url).close()
