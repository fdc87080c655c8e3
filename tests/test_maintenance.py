"""Backups and the doctor: an export restores to an equal registry (on the other database
kind), a damaged export restores nothing, and the doctor finds and repairs what a crash leaves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

import kenri
from kenri.errors import InvalidInput
from kenri.maintenance.backup import export, restore
from kenri.maintenance.doctor import examine
from tests.service_world import build_world


def _tables(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((folder / "tables").glob("*.jsonl"))}


@pytest.fixture
def full(app: kenri.Kenri) -> kenri.Kenri:
    """Every kind of row: tenants, keys, works, references, grants, claims, jobs, audit..."""
    build_world(app).close()
    return app


def test_export_restores_an_equal_registry_on_the_other_database(
    full: kenri.Kenri, db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    exported = export(full.db.engine, full.settings.media_dir, tmp_path / "backup")
    assert exported.rows["audit_log"] > 10 and exported.rows["grants"] >= 1
    assert exported.media_files >= 2
    target_db = (
        request.getfixturevalue("pg_url")
        if db_url.startswith("sqlite")
        else f"sqlite:///{tmp_path / 'restored.sqlite'}"
    )
    target_home = tmp_path / "restored"
    counts = restore(tmp_path / "backup", target_db, target_home / "media")
    assert counts == exported.rows
    with kenri.open(target_home, target_db) as restored:
        assert restored.rebuild_index() > 0
        again = export(restored.db.engine, restored.settings.media_dir, tmp_path / "again")
        assert _tables(tmp_path / "again") == _tables(tmp_path / "backup")
        assert again.media_files == exported.media_files
        assert examine(restored).ok
        with restored.transaction() as tx:  # new rows get new ids (sequences moved on)
            newest = tx.registry.add_holder("After Restore", "JP")
            assert newest.id > max(h.id for h in tx.registry.holders() if h is not newest)
        # The restored reference still matches its own picture.
        with restored.transaction() as tx:
            reference = tx.registry.references()[0]
            path = tx.registry.media_path(reference)
        (screened,) = restored.screen_images([path])
        assert screened.matches and screened.matches[0].reference_id == reference.id


def test_a_damaged_export_restores_nothing(full: kenri.Kenri, tmp_path: Path) -> None:
    export(full.db.engine, full.settings.media_dir, tmp_path / "backup")
    damaged = tmp_path / "backup" / "tables" / "grants.jsonl"
    edited = damaged.read_text().replace('"licensee_id": 1', '"licensee_id": 2', 1)
    assert edited != damaged.read_text()
    damaged.write_text(edited)  # one grant moved to another licensee
    target = f"sqlite:///{tmp_path / 'target.sqlite'}"
    with pytest.raises(InvalidInput, match="grants.jsonl does not match its hash"):
        restore(tmp_path / "backup", target, tmp_path / "media")
    assert not (tmp_path / "target.sqlite").exists() and not (tmp_path / "media").exists()
    with pytest.raises(InvalidInput, match="exists"):
        export(full.db.engine, full.settings.media_dir, tmp_path / "backup")


def test_restore_refuses_a_database_that_is_not_empty(full: kenri.Kenri, tmp_path: Path) -> None:
    export(full.db.engine, full.settings.media_dir, tmp_path / "backup")
    with pytest.raises(InvalidInput, match="not empty"):
        restore(tmp_path / "backup", full.db.url, tmp_path / "media")


def test_doctor_repairs_an_index_that_outlived_a_rolled_back_import(
    app: kenri.Kenri, art: dict[str, Path]
) -> None:
    with app.transaction() as tx:
        work = tx.registry.add_work(tx.registry.add_holder("Studio Kumo", "JP"), "Kumo")
        tx.registry.add_reference(art["hoshimaru"], work)
    app.sync_index()
    assert examine(app).ok
    with pytest.raises(RuntimeError), app.transaction() as tx:
        tx.registry.add_reference(art["captain_comet"], tx.registry.work("Kumo"))
        app.matcher.sync(tx.session)  # the index is saved with rows that will never commit
        raise RuntimeError("the process dies here")
    report = examine(app)
    (index,) = [f for f in report.findings if f.check == "search index"]
    assert not index.ok and "rolled-back" in index.detail
    assert examine(app, repair=True).findings[-1].repaired
    assert examine(app).ok


def test_doctor_reports_missing_media_and_edited_audit_and_cleans_partial_copies(
    app: kenri.Kenri, art: dict[str, Path]
) -> None:
    with app.transaction() as tx:
        work = tx.registry.add_work(tx.registry.add_holder("Studio Kumo", "JP"), "Kumo")
        reference, _ = tx.registry.add_reference(art["hoshimaru"], work)
        stored = tx.registry.media_path(reference)
        tx.ledger.grant(tx.registry.add_licensee("Acme AI"), work, ["generation"])
    partial = stored.parent / ".incoming-abc"
    partial.write_bytes(b"half a file")
    shutil.move(stored, stored.parent.parent / "moved-away.png")
    with app.transaction() as tx:
        tx.session.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"))
    report = examine(app, repair=True)
    found = {f.check: f for f in report.findings}
    assert not report.ok
    assert "missing files: reference" in found["reference media"].detail
    assert "edited" in found["audit chain"].detail and not found["audit chain"].repaired
    assert found["unfinished copies"].repaired and not partial.exists()
    assert json.dumps(report.to_dict())
