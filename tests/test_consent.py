"""Consent decisions: deny by default; only a grant that covers everything allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import kenri
from kenri.consent.ledger import NO_GRANT
from kenri.errors import InvalidInput, NotFound
from kenri.registry.registry import NameSpec

T0 = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.fixture
def world(app: kenri.Kenri) -> kenri.Kenri:
    with app.transaction() as tx:
        holder = tx.registry.add_holder("Studio Kumo", "JP")
        work = tx.registry.add_work(holder, "Hoshimaru Adventures", [NameSpec("星丸の冒険")])
        tx.registry.add_character(work, "Hoshimaru", [NameSpec("ほしまる")])
        tx.registry.add_character(work, "Kumo-chan")
        other = tx.registry.add_work(holder, "Lantern Town")
        tx.registry.add_character(other, "Lamp")
        tx.registry.add_licensee("Acme AI", "US")
        tx.registry.add_licensee("Other AI")
    return app


def ask(app, licensee, subject, purpose, territory=None, when=None, work=None):
    with app.transaction() as tx:
        if subject.startswith("work:"):
            target = tx.registry.work(subject[5:])
        else:
            scope = tx.registry.work(work) if work else None
            target = tx.registry.character(subject, scope)
        return tx.ledger.may(tx.registry.licensee(licensee), target, purpose, territory, when)


def grant(app, subject, purposes, territories=None, start=T0, end=None, licensee="Acme AI"):
    with app.transaction() as tx:
        if subject.startswith("work:"):
            target = tx.registry.work(subject[5:])
        else:
            target = tx.registry.character(subject)
        return tx.ledger.grant(
            tx.registry.licensee(licensee), target, purposes, territories, start, end
        )


def test_everything_is_denied_without_a_grant(world):
    for purpose in ("training", "generation", "style"):
        decision = ask(world, "Acme AI", "Hoshimaru", purpose, "JP", T0)
        assert decision.decision == "deny"
        assert decision.grant is None
        assert decision.reason.startswith(NO_GRANT)
    assert ask(world, "Acme AI", "work:Hoshimaru Adventures", "training").decision == "deny"


def test_validity_period_start_end_and_revocation(world):
    g = grant(world, "Hoshimaru", ["generation"], ["*"], T0, T0 + timedelta(days=30))
    assert (
        ask(world, "Acme AI", "Hoshimaru", "generation", "JP", T0 - timedelta(seconds=1)).decision
        == "deny"
    )
    assert (
        "starts on"
        in ask(world, "Acme AI", "Hoshimaru", "generation", "JP", T0 - timedelta(1)).reason
    )
    allowed = ask(world, "Acme AI", "Hoshimaru", "generation", "JP", T0)
    assert allowed.decision == "allow" and allowed.grant.id == g.id
    assert ask(world, "Acme AI", "Hoshimaru", "generation", "JP", T0 + timedelta(days=29)).allowed
    expired = ask(world, "Acme AI", "Hoshimaru", "generation", "JP", T0 + timedelta(days=30))
    assert expired.decision == "deny" and "expired on" in expired.reason

    revoke_at = T0 + timedelta(days=10)
    with world.transaction() as tx:
        tx.ledger.revoke(tx.ledger.get(g.id), "holder withdrew consent", revoke_at)
    after = ask(world, "Acme AI", "Hoshimaru", "generation", "JP", revoke_at)
    assert after.decision == "deny" and "revoked" in after.reason and "withdrew" in after.reason
    # History is kept: the moment before the revocation was (and stays) allowed.
    assert ask(world, "Acme AI", "Hoshimaru", "generation", "JP", revoke_at - timedelta(1)).allowed
    with world.transaction() as tx:
        kept = tx.ledger.get(g.id)
        assert kept.revoked_at == revoke_at and kept.revoke_reason == "holder withdrew consent"
        assert [x.id for x in tx.ledger.grants(include_revoked=True)] == [g.id]
        assert tx.ledger.grants(include_revoked=False) == []
        with pytest.raises(InvalidInput, match="already revoked"):
            tx.ledger.revoke(kept, "again")


def test_revocation_defaults_to_now(world):
    g = grant(world, "Hoshimaru", ["training"], ["*"], datetime.now(UTC) - timedelta(days=1))
    assert ask(world, "Acme AI", "Hoshimaru", "training").allowed
    with world.transaction() as tx:
        tx.ledger.revoke(tx.ledger.get(g.id), "stop")
    assert ask(world, "Acme AI", "Hoshimaru", "training").decision == "deny"


def test_purposes_are_separate(world):
    grant(world, "Hoshimaru", ["training", "style"], ["*"])
    assert ask(world, "Acme AI", "Hoshimaru", "training", "US", T0).allowed
    assert ask(world, "Acme AI", "Hoshimaru", "style", "US", T0).allowed
    denied = ask(world, "Acme AI", "Hoshimaru", "generation", "US", T0)
    assert denied.decision == "deny" and "not generation" in denied.reason


def test_territories(world):
    grant(world, "Hoshimaru", ["generation"], ["jp", "KR"])
    assert ask(world, "Acme AI", "Hoshimaru", "generation", "JP", T0).allowed
    assert ask(world, "Acme AI", "Hoshimaru", "generation", "kr", T0).allowed
    us = ask(world, "Acme AI", "Hoshimaru", "generation", "US", T0)
    assert us.decision == "deny" and "not US" in us.reason
    # No territory given: only a worldwide grant answers "allow".
    assert ask(world, "Acme AI", "Hoshimaru", "generation", None, T0).decision == "deny"
    grant(world, "Kumo-chan", ["generation"], None)  # default: worldwide
    assert ask(world, "Acme AI", "Kumo-chan", "generation", None, T0).allowed
    assert ask(world, "Acme AI", "Kumo-chan", "generation", "BR", T0).allowed


def test_work_grant_covers_its_characters_but_not_other_works(world):
    g = grant(world, "work:Hoshimaru Adventures", ["training"], ["*"])
    for name in ("Hoshimaru", "Kumo-chan"):
        decision = ask(world, "Acme AI", name, "training", "JP", T0)
        assert decision.allowed and decision.grant.id == g.id
    assert ask(world, "Acme AI", "work:星丸の冒険", "training", "JP", T0).allowed
    assert ask(world, "Acme AI", "Lamp", "training", "JP", T0).decision == "deny"
    assert ask(world, "Acme AI", "work:Lantern Town", "training", "JP", T0).decision == "deny"


def test_character_grant_covers_only_that_character(world):
    g = grant(world, "Hoshimaru", ["generation"], ["*"])
    assert ask(world, "Acme AI", "ほしまる", "generation", "JP", T0).grant.id == g.id
    assert ask(world, "Acme AI", "Kumo-chan", "generation", "JP", T0).decision == "deny"
    work = ask(world, "Acme AI", "work:Hoshimaru Adventures", "generation", "JP", T0)
    assert work.decision == "deny"


def test_most_specific_grant_is_named(world):
    work_grant = grant(world, "work:Hoshimaru Adventures", ["generation"], ["*"])
    char_grant = grant(world, "Hoshimaru", ["generation"], ["*"])
    assert ask(world, "Acme AI", "Hoshimaru", "generation", "JP", T0).grant.id == char_grant.id
    assert ask(world, "Acme AI", "Kumo-chan", "generation", "JP", T0).grant.id == work_grant.id


def test_grants_are_per_licensee(world):
    grant(world, "Hoshimaru", ["generation"], ["*"], licensee="Acme AI")
    assert ask(world, "Other AI", "Hoshimaru", "generation", "JP", T0).decision == "deny"


def test_invalid_grants_are_refused_and_nothing_is_written(world):
    cases = [
        ({"purposes": ["painting"]}, "purpose"),
        ({"purposes": []}, "at least one purpose"),
        ({"purposes": ["training"], "territories": ["Japan"]}, "territory"),
        (
            {"purposes": ["training"], "valid_from": T0, "valid_until": T0 - timedelta(1)},
            "after valid_from",
        ),
        ({"purposes": ["training"], "revenue_share": 1.5}, "revenue_share"),
    ]
    for kwargs, message in cases:
        with pytest.raises(InvalidInput, match=message), world.transaction() as tx:
            tx.ledger.grant(
                tx.registry.licensee("Acme AI"), tx.registry.character("Hoshimaru"), **kwargs
            )
    with world.transaction() as tx:
        assert tx.ledger.grants() == []
        with pytest.raises(InvalidInput, match="purpose"):
            tx.ledger.may(
                tx.registry.licensee("Acme AI"), tx.registry.character("Hoshimaru"), "selling"
            )
        with pytest.raises(NotFound):
            tx.ledger.get(999)
        with pytest.raises(NotFound):
            tx.ledger.get("abc")


def test_decision_serialises_with_grant(world):
    g = grant(world, "Hoshimaru", ["generation"], ["JP"])
    data = ask(world, "Acme AI", "Hoshimaru", "generation", "JP", T0).to_dict()
    assert data["decision"] == "allow"
    assert data["grant"]["id"] == g.id
    assert data["grant"]["purposes"] == ["generation"]
    assert data["grant"]["territories"] == ["JP"]
    assert data["grant"]["valid_from"].startswith("2026-04-01T00:00:00")
    denied = ask(world, "Acme AI", "Kumo-chan", "generation", "JP", T0).to_dict()
    assert denied == {"decision": "deny", "grant": None, "reason": denied["reason"]}
    assert denied["reason"].startswith(NO_GRANT)


def test_naive_datetimes_are_utc(world):
    grant(world, "Hoshimaru", ["generation"], ["*"], start=datetime(2026, 4, 1))
    assert ask(world, "Acme AI", "Hoshimaru", "generation", "JP", datetime(2026, 4, 1)).allowed
    assert not ask(world, "Acme AI", "Hoshimaru", "generation", "JP", datetime(2026, 3, 31)).allowed
