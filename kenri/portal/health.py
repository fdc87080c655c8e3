"""Fingerprint health of a reference: is each signal there, and is it strong enough to match?"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kenri.fingerprints.base import Fingerprint
from kenri.matching.matcher import LOCAL, MIN_VOTES, PDQ, PDQ_MIN_QUALITY, SIGNALS
from kenri.registry.models import FingerprintRow

STRONG_KEYPOINTS = 100  # fewer than this and crops or small pastes rarely gather enough votes


def reference_health(session: Session, reference_id: int) -> list[dict[str, Any]]:
    """Per signal: frames, the weakest frame's strength, and ok / weak / missing."""
    rows = session.execute(
        select(FingerprintRow.signal, FingerprintRow.version, FingerprintRow.data)
        .where(FingerprintRow.reference_id == reference_id)
    ).all()  # fmt: skip
    by_signal: dict[str, list[Fingerprint]] = defaultdict(list)
    for signal, version, data in rows:
        if signal in SIGNALS:
            by_signal[signal].append(Fingerprint.from_bytes(signal, version, data))
    health = []
    for signal in (PDQ, LOCAL):
        prints = by_signal.get(signal, [])
        if not prints:
            health.append({"signal": signal, "frames": 0, "status": "missing", "value": None})
            continue
        if signal == PDQ:
            value = min(int(fp.arrays["quality"][0]) for fp in prints)
            status = "ok" if value >= PDQ_MIN_QUALITY else "weak"
        else:
            value = min(len(fp.arrays["points"]) for fp in prints)
            status = "ok" if value >= STRONG_KEYPOINTS else ("weak" if value >= MIN_VOTES else
                                                              "missing")  # fmt: skip
        health.append({"signal": signal, "frames": len(prints), "status": status, "value": value})
    return health
