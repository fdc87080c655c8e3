"""The audit log detects any edit, deletion, reordering or truncation, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from typer.testing import CliRunner

from kenri.audit.log import AuditEntry, AuditHead, verify
from kenri.cli.main import app as cli_app


@pytest.fixture
def logged(app):
    """Five entries from real changes: a grant, its revocation, three more grants."""
    with app.transaction("holder:Studio") as tx:
        holder = tx.registry.add_holder("Studio", "JP")
        work = tx.registry.add_work(holder, "Saga")
        licensee = tx.registry.add_licensee("Gen AI")
        grant = tx.ledger.grant(licensee, work, ["training"])
        tx.ledger.revoke(grant, "contract ended")
        for purpose in ("generation", "style", "training"):
            tx.ledger.grant(licensee, work, [purpose])
    return app


def _check(app) -> list[str]:
    with app.transaction() as tx:
        return verify(tx.session).problems


def test_intact_chain_verifies_and_names_actors(logged) -> None:
    with logged.transaction() as tx:
        result = verify(tx.session)
        entries = tx.session.query(AuditEntry).order_by(AuditEntry.seq).all()
    assert result.ok and result.entries == 5
    assert [e.action for e in entries[:2]] == ["grant.create", "grant.revoke"]
    assert {e.actor for e in entries} == {"holder:Studio"}
    assert entries[1].data["reason"] == "contract ended"


def test_edit_is_detected(logged) -> None:
    with logged.transaction() as tx:
        tx.session.execute(
            update(AuditEntry).where(AuditEntry.seq == 2).values(data={"reason": "never mind"})
        )
    assert any("entry 2: content does not match" in p for p in _check(logged))


def test_deletion_is_detected(logged) -> None:
    with logged.transaction() as tx:
        tx.session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    assert any("entry 3 is missing" in p for p in _check(logged))


def test_reordering_is_detected(logged) -> None:
    with logged.transaction() as tx:  # swap entries 2 and 3 (their numbers, content kept)
        tx.session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(seq=-2))
        tx.session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(seq=2))
        tx.session.execute(update(AuditEntry).where(AuditEntry.seq == -2).values(seq=3))
    problems = _check(logged)
    assert any("does not follow" in p for p in problems)


def test_truncation_is_detected_by_the_head(logged) -> None:
    with logged.transaction() as tx:
        tx.session.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    assert any("head says entry 5" in p for p in _check(logged))
    with logged.transaction() as tx:  # removing the head too still leaves the log headless
        tx.session.execute(delete(AuditHead))
    assert any("head row is missing" in p for p in _check(logged))


def test_cli_exit_codes(logged, home, db_url) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["--home", str(home), "--db", db_url, "audit", "verify", "--json"])
    assert ok.exit_code == 0 and '"ok": true' in ok.output
    with logged.transaction() as tx:
        tx.session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(actor="nobody"))
    broken = runner.invoke(cli_app, ["--home", str(home), "--db", db_url, "audit", "verify"])
    assert broken.exit_code == 3 and "entry 1: content does not match" in broken.output


def test_concurrent_appends_keep_one_chain(logged) -> None:
    """Four threads granting at once: the chain stays linear (no fork, no gap)."""
    import threading

    def grant_many() -> None:
        for _ in range(5):
            for attempt in range(20):
                try:
                    with logged.transaction("licensee:x") as tx:
                        licensee = tx.registry.licensee("Gen AI")
                        work = tx.registry.work("Saga")
                        tx.ledger.grant(licensee, work, ["generation"])
                    break
                except Exception:  # noqa: BLE001 - SQLite's writer lock: retry like a client
                    if attempt == 19:
                        raise

    threads = [threading.Thread(target=grant_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with logged.transaction() as tx:
        result = verify(tx.session)
    assert result.ok, result.problems
    assert result.entries == 5 + 20
