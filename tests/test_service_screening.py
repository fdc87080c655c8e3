"""Prompt screening over REST, one prompt and a batch: the same decisions, audited, limited."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from kenri.screening.findings import Finding
from tests.service_world import build_world

PROMPTS = ["Hoshimaru on a beach", "a cat on a windowsill", "ほしまる and friends", ""]


@pytest.fixture
def world(app):
    world = build_world(app)
    yield world
    world.close()


def _essentials(result: dict) -> tuple:
    return (
        result["prompt"],
        result["decision"],
        [(m["work"], m["character"], m["reason"], m["score"]) for m in result["matches"]],
        result["rewrite"],
    )


def test_a_batch_answers_as_single_requests_do_and_audits_every_decision(world, app) -> None:
    single = [
        world.ok("licenseeB", "POST", "/v1/screen/prompt", json={"prompt": p}) for p in PROMPTS
    ]
    # The world's dataset job may still be adding training findings: count prompt findings only.
    prompt_findings = select(Finding).where(Finding.source == "prompt").order_by(Finding.id)
    with app.transaction() as tx:
        findings_before = len(tx.session.scalars(prompt_findings).all())
    batch = world.ok("licenseeB", "POST", "/v1/screen/prompts", json={"prompts": PROMPTS})
    assert [_essentials(r) for r in batch["results"]] == [_essentials(r) for r in single]
    assert [r["decision"] for r in batch["results"]][:2] == ["block", "allow"]

    entry = world.ok("licenseeB", "GET", "/v1/audit")[-1]
    assert entry["action"] == "screen.prompts"
    assert entry["data"]["count"] == len(PROMPTS)
    digests = [f"sha256:{hashlib.sha256(p.encode()).hexdigest()}" for p in PROMPTS]
    assert [d["prompt"] for d in entry["data"]["decisions"]] == digests
    assert [d["decision"] for d in entry["data"]["decisions"]] == [
        r["decision"] for r in batch["results"]
    ]
    assert all(p not in str(entry) for p in PROMPTS if p)  # digests, never the text
    assert world.ok("operator", "GET", "/v1/audit/verify")["ok"]
    with app.transaction() as tx:
        found = tx.session.scalars(prompt_findings).all()[findings_before:]
    flagged = [r for r in batch["results"] if r["decision"] != "allow"]
    assert {f.prompt for f in found} == {r["prompt"] for r in flagged}


def test_a_grant_applies_inside_a_batch(world) -> None:
    """licenseeA holds a generation grant on Hoshi Saga; licenseeB does not."""
    prompts = {"prompts": ["Hoshimaru on a beach"]}
    licensed = world.ok("licenseeA", "POST", "/v1/screen/prompts", json=prompts)["results"][0]
    unlicensed = world.ok("licenseeB", "POST", "/v1/screen/prompts", json=prompts)["results"][0]
    assert (licensed["decision"], unlicensed["decision"]) == ("allow", "block")
    assert licensed["matches"][0]["grant"] is not None


@pytest.mark.parametrize(
    "body",
    [
        {"prompts": []},
        {"prompts": ["a cat"] * 257},
        {"prompts": "a cat"},
        {"prompts": [None]},
        {"prompts": ["a cat"], "purpose": "anything"},
    ],
    ids=["empty", "too many", "not a list", "not text", "bad purpose"],
)
def test_bad_batches_get_a_422_and_leave_nothing(world, body) -> None:
    before = world.ok("licenseeB", "GET", "/v1/audit")
    response = world.call("licenseeB", "POST", "/v1/screen/prompts", json=body)
    assert response.status_code == 422, response.text
    assert world.ok("licenseeB", "GET", "/v1/audit") == before


def test_a_batch_goes_on_past_a_prompt_too_long_and_reports_it(world) -> None:
    prompts = ["Hoshimaru on a beach", "x" * 10_001, "a cat on a windowsill"]
    results = world.ok("licenseeB", "POST", "/v1/screen/prompts", json={"prompts": prompts})[
        "results"
    ]
    assert [r.get("decision") for r in results] == ["block", None, "allow"]
    assert "longer than 10000 characters" in results[1]["error"]
    entry = world.ok("licenseeB", "GET", "/v1/audit")[-1]
    assert [d["decision"] for d in entry["data"]["decisions"]] == ["block", None, "allow"]
    assert "error" in entry["data"]["decisions"][1]
    single = world.call("licenseeB", "POST", "/v1/screen/prompt", json={"prompt": prompts[1]})
    assert single.status_code == 422  # one prompt alone: the request itself is bad
