"""Reservations a creator attached to a file: extra reasons to exclude an item, never permission.

- ``X-Robots-Tag: noai`` / ``noimageai`` (img2dataset keeps response headers in the item json);
- TDMRep ``tdm-reservation: 1`` (W3C TDM Reservation Protocol);
- a C2PA ``c2pa.training-mining`` / ``cawg.training-mining`` assertion saying ``notAllowed``,
  found in the file's embedded manifest (the assertion labels and values are plain text in the
  JUMBF/CBOR bytes, so no C2PA library is needed to see them).
"""

from __future__ import annotations

import re
from typing import Any

_NOAI = re.compile(r"\bno(?:image)?ai\b", re.I)
_C2PA_LABELS = (b"c2pa.training-mining", b"cawg.training-mining")


def _values(metadata: dict[str, Any], *names: str) -> list[str]:
    found = []
    wanted = {n.casefold().replace("_", "-") for n in names}
    stack: list[Any] = [metadata]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if str(key).casefold().replace("_", "-") in wanted and value is not None:
                    found.append(str(value))
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return found


def metadata_reasons(metadata: dict[str, Any]) -> list[str]:
    reasons = []
    if any(_NOAI.search(v) for v in _values(metadata, "x-robots-tag")):
        reasons.append("opt-out: X-Robots-Tag noai")
    if any(v.strip() in ("1", "true", "True") for v in _values(metadata, "tdm-reservation")):
        reasons.append("opt-out: TDMRep tdm-reservation")
    return reasons


def c2pa_reasons(data: bytes) -> list[str]:
    for label in _C2PA_LABELS:
        at = data.find(label)
        if at >= 0 and b"notAllowed" in data[at : at + 4096]:
            return [f"opt-out: C2PA {label.decode()} notAllowed"]
    return []
