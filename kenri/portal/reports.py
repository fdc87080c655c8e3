"""The numbers behind the portal's reports: transparency (what was blocked, claimed, answered)
and enforcement parity (is every country's and language's work protected alike)."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kenri.app import Kenri, Transaction
from kenri.audit.log import AuditEntry
from kenri.claims.models import Claim, ClaimEvent
from kenri.errors import InvalidInput
from kenri.registry.models import Work, utcnow
from kenri.screening.findings import Finding

REPORT_DAYS = 30
# Where a claim or inquiry ends up (or stops waiting on the licensee), plotted per day.
OUTCOMES = ("accepted", "upheld", "answered", "closed", "disputed", "rejected", "withdrawn")


def transparency(tx: Transaction, holder_id: int | None, actor: str | None) -> dict[str, Any]:
    """Per day of the last ``REPORT_DAYS``: blocks and reviews; claims by state; median hours
    to a licensee's first answer. A holder sees its own findings and claims; anyone else the
    screening decisions it made (``actor``), or all of them (operator: ``actor`` None)."""
    since = utcnow() - timedelta(days=REPORT_DAYS)
    days = [(since + timedelta(days=i + 1)).date() for i in range(REPORT_DAYS)]
    per_day: dict[str, Counter] = defaultdict(Counter)
    if holder_id is not None:
        rows = tx.session.execute(
            select(Finding.at, Finding.decision)
            .where(Finding.holder_id == holder_id, Finding.at >= since)
        ).all()  # fmt: skip
        for at, decision in rows:
            per_day[decision][at.date()] += 1
        claims = tx.session.scalars(select(Claim).where(Claim.holder_id == holder_id)).all()
    else:
        query = select(AuditEntry.at, AuditEntry.data).where(
            AuditEntry.action.like("screen.%"), AuditEntry.at >= since
        )
        if actor is not None:
            query = query.where(AuditEntry.actor == actor)
        for at, data in tx.session.execute(query).all():
            per_day[(data or {}).get("decision") or "allow"][at.date()] += 1
        claims = tx.session.scalars(select(Claim)).all()
    series = {d: [per_day[d][day] for day in days] for d in ("block", "review")}
    return {
        "outcomes": _outcomes_per_day(tx, [c.id for c in claims], since, days),
        "days": [day.isoformat()[5:] for day in days],
        "series": series,
        "totals": {d: sum(v) for d, v in series.items()},
        "claims": dict(Counter(c.state for c in claims)),
        "claims_total": len(claims),
        "median_response_h": _median_response_hours(tx, claims),
    }


def _outcomes_per_day(tx: Transaction, claim_ids: list[int], since, days) -> dict[str, list]:
    """Per outcome state, the claims that reached it each day (only states that occurred)."""
    per_day: dict[str, Counter] = defaultdict(Counter)
    if claim_ids:
        rows = tx.session.execute(
            select(ClaimEvent.at, ClaimEvent.to_state).where(
                ClaimEvent.claim_id.in_(claim_ids),
                ClaimEvent.to_state.in_(OUTCOMES),
                ClaimEvent.at >= since,
            )
        ).all()
        for at, state in rows:
            per_day[state][at.date()] += 1
    return {s: [per_day[s][day] for day in days] for s in OUTCOMES if per_day[s]}


def _median_response_hours(tx: Transaction, claims) -> float | None:
    hours = []
    for claim in claims:
        first = tx.session.scalar(
            select(ClaimEvent.at)
            .where(ClaimEvent.claim_id == claim.id, ClaimEvent.actor.like("licensee:%"))
            .order_by(ClaimEvent.id)
            .limit(1)
        )
        if first is not None:
            hours.append((first - claim.created_at).total_seconds() / 3600)
    return round(statistics.median(hours), 1) if hours else None


@dataclass(frozen=True)
class LabelledPrompt:
    prompt: str
    expect: str | None  # the work it refers to, or None for a benign prompt
    country: str | None
    lang: str


def labelled_prompts(path: Path | None = None) -> list[LabelledPrompt]:
    """A JSON-lines evaluation set (prompt, expect, country, lang); the demo's own by default."""
    text = (
        path.read_text(encoding="utf-8")
        if path is not None
        else resources.files("kenri.demo").joinpath("parity_labels.jsonl").read_text("utf-8")
    )
    cases = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            cases.append(
                LabelledPrompt(row["prompt"], row.get("expect"), row.get("country"), row["lang"])
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"labelled set line {number}: {exc}") from None
    return cases


def parity(app: Kenri, cases: list[LabelledPrompt]) -> dict[str, Any]:
    """Recall (protected prompts flagged, naming the right work) by holder country and by
    prompt language; false-positive rate (benign prompts flagged) by language."""
    groups: dict[str, dict[str, Counter]] = {"country": defaultdict(Counter),
                                             "lang": defaultdict(Counter)}  # fmt: skip
    skipped = 0
    with app.transaction() as tx:
        registered = set(tx.session.scalars(select(Work.title)))
        for case in cases:
            if case.expect is not None and case.expect not in registered:
                skipped += 1  # about a work this registry does not hold: not a measurement
                continue
            result = app.prompt_screener.screen(tx, case.prompt)
            flagged = result.decision != "allow"
            if case.expect is None:
                groups["lang"][case.lang]["negatives"] += 1
                groups["lang"][case.lang]["false_positives"] += flagged
                continue
            hit = flagged and any(m.work == case.expect for m in result.matches)
            for kind, key in (("country", case.country or "?"), ("lang", case.lang)):
                groups[kind][key]["positives"] += 1
                groups[kind][key]["hits"] += hit
    table = {
        kind: [
            {
                "group": key,
                "positives": c["positives"],
                "negatives": c["negatives"],
                "recall": c["hits"] / c["positives"] if c["positives"] else None,
                "fpr": c["false_positives"] / c["negatives"] if c["negatives"] else None,
            }
            for key, c in sorted(counts.items())
        ]
        for kind, counts in groups.items()
    }
    recalls = [
        row["recall"] for rows in table.values() for row in rows if row["recall"] is not None
    ]
    gap = round((max(recalls) - min(recalls)) * 100, 1) if recalls else None
    return {"cases": len(cases) - skipped, "skipped": skipped, "by_country": table["country"],
            "by_lang": table["lang"], "gap_points": gap}  # fmt: skip
