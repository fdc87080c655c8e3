"""The one decision rule of every screening (media and prompts).

Matches the licensee holds a grant for do not count. Of the rest, any at or above the block
threshold blocks; any at or above the review threshold asks a person; otherwise allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kenri.errors import KenriError
from kenri.matching import scoring


@dataclass(frozen=True)
class Thresholds:
    review: float = scoring.REVIEW_THRESHOLD
    block: float = scoring.BLOCK_THRESHOLD

    def __post_init__(self) -> None:
        if not 0 <= self.review <= self.block <= 1:
            raise KenriError("thresholds must satisfy 0 <= review <= block <= 1")

    def decide(self, unlicensed_scores: Iterable[float]) -> str:
        top = max(unlicensed_scores, default=0.0)
        if top >= self.block:
            return "block"
        if top >= self.review:
            return "review"
        return "allow"
