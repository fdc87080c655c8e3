"""Screen a prompt before generation: which registered subjects it names, and what to do.

Decisions follow the consent ledger like media screening: a name of a work or character the
licensee holds a grant for (for the purpose at hand) does not block. "In the style of X" (or
"X style", "X風") is a *style* reference: it is decided by the ``style`` purpose and reported
apart from character references. Each blocking result comes with a suggested safe rewrite (the
prompt without the protected reference) and negative-prompt terms: CopyCat (He et al. 2024)
found the two work best together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from kenri.errors import InvalidInput
from kenri.registry.models import Character, Licensee, Name, Work
from kenri.screening.decision import Thresholds
from kenri.screening.prompt.names import NameEntry, NameHit, NameMatcher
from kenri.screening.prompt.normalize import fold_name

if TYPE_CHECKING:
    from kenri.app import Kenri, Transaction

MAX_PROMPT_CHARS = 20_000
SCORES = {"exact": 0.97, "obfuscated": 0.95}
FUZZY_SCORES = {1: 0.85, 2: 0.6}
WEAK_SCORE = 0.6  # a short name alone: review, unless the same work is named too
THRESHOLDS = Thresholds()
REVIEW = THRESHOLDS.review
STYLE_BEFORE = re.compile(
    r"(in the style of|style of|in the manner of|inspired by|à la|a la|styled after)\W*$", re.I
)
STYLE_AFTER = re.compile(r"^\W{0,2}(style|styled|風|風の|タッチ|っぽい)", re.I)


@dataclass
class PromptMatch:
    holder: str
    country: str | None
    work: str
    character: str | None
    reference: str  # what kind of reference: "character" | "work" | "style"
    signal: str  # "name" | "obfuscated-name" | "fuzzy-name"
    matched: str
    span: tuple[int, int]
    score: float
    purpose: str
    work_id: int
    character_id: int | None
    grant: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "country": self.country,
            "work": self.work,
            "character": self.character,
            "reference": self.reference,
            "signal": self.signal,
            "matched": self.matched,
            "span": list(self.span),
            "score": self.score,
            "purpose": self.purpose,
            "grant": self.grant,
        }


@dataclass
class PromptResult:
    prompt: str
    decision: str
    matches: list[PromptMatch] = field(default_factory=list)
    rewrite: str | None = None
    negative_terms: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "decision": self.decision,
            "matches": [m.to_dict() for m in self.matches],
            "rewrite": self.rewrite,
            "negative_terms": self.negative_terms,
        }


class PromptScreener:
    """Holds the name automaton for one state of the registry (rebuilt when names change)."""

    def __init__(self) -> None:
        self._matcher: NameMatcher | None = None
        self._version: tuple[int, int] | None = None

    def _refresh(self, tx: Transaction) -> NameMatcher:
        version = tuple(tx.session.execute(select(func.count(Name.id), func.max(Name.id))).one())
        if self._matcher is None or version != self._version:
            rows = tx.session.execute(select(Name.text, Name.work_id, Name.character_id)).all()
            self._matcher = NameMatcher(
                NameEntry(fold_name(text), text, work_id, character_id)
                for text, work_id, character_id in rows
            )
            self._version = version
        return self._matcher

    def screen(
        self,
        tx: Transaction,
        prompt: str,
        licensee: str | None = None,
        purpose: str = "generation",
        territory: str | None = None,
    ) -> PromptResult:
        if not isinstance(prompt, str):
            raise InvalidInput("a prompt is text")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise InvalidInput(f"prompt longer than {MAX_PROMPT_CHARS} characters")
        matcher = self._refresh(tx)
        buyer: Licensee | None = tx.registry.licensee(licensee) if licensee else None
        hits = matcher.find(prompt)
        works_named = {h.entry.work_id for h in hits if not h.entry.weak}  # corroboration
        # A name that is both a work's title and its character's name means the character.
        character_spans = {(h.entry.work_id, h.start, h.end) for h in hits if h.entry.character_id}
        hits = [
            h
            for h in hits
            if h.entry.character_id or (h.entry.work_id, h.start, h.end) not in character_spans
        ]
        best: dict[tuple[int, int | None, str], PromptMatch] = {}
        for hit in hits:
            match = self._to_match(tx, prompt, hit, purpose, works_named)
            key = (hit.entry.work_id, hit.entry.character_id, match.reference)
            if key not in best or match.score > best[key].score:
                best[key] = match
        matches = sorted(best.values(), key=lambda m: (-m.score, m.span))
        for match in matches:
            if buyer is not None and match.score >= REVIEW:
                subject = self._subject(tx, match)
                decision = tx.ledger.may(buyer, subject, match.purpose, territory)
                match.grant = decision.to_dict()["grant"] if decision.allowed else None
        unlicensed = [m for m in matches if m.grant is None]
        decision = THRESHOLDS.decide(m.score for m in unlicensed)
        result = PromptResult(prompt, decision, matches)
        if decision != "allow":
            flagged = [m for m in unlicensed if m.score >= REVIEW]
            result.rewrite = rewrite(prompt, [m.span for m in flagged])
            result.negative_terms = self._negative_terms(tx, flagged)
        return result

    def _to_match(
        self, tx: Transaction, prompt: str, hit: NameHit, purpose: str, works_named: set[int]
    ) -> PromptMatch:
        work = tx.session.get(Work, hit.entry.work_id)
        character = (
            tx.session.get(Character, hit.entry.character_id) if hit.entry.character_id else None
        )
        style = bool(
            STYLE_BEFORE.search(prompt[: hit.start]) or STYLE_AFTER.search(prompt[hit.end :])
        )
        fuzzy = hit.kind == "fuzzy"
        score = FUZZY_SCORES.get(hit.distance, 0.5) if fuzzy else SCORES[hit.kind]
        if hit.entry.weak and hit.entry.work_id not in works_named:
            score = min(score, WEAK_SCORE)
        signal = {"exact": "name", "obfuscated": "obfuscated-name", "fuzzy": "fuzzy-name"}
        return PromptMatch(
            holder=work.holder.name,
            country=work.holder.country,
            work=work.title,
            character=character.name if character else None,
            reference="style" if style else ("character" if character else "work"),
            signal=signal[hit.kind],
            matched=hit.matched(prompt),
            span=(hit.start, hit.end),
            score=score,
            purpose="style" if style else purpose,
            work_id=work.id,
            character_id=character.id if character else None,
        )

    @staticmethod
    def _subject(tx: Transaction, match: PromptMatch) -> Work | Character:
        if match.character_id is not None:
            return tx.session.get(Character, match.character_id)
        return tx.session.get(Work, match.work_id)

    def _negative_terms(self, tx: Transaction, matches: list[PromptMatch]) -> list[str]:
        terms: list[str] = []
        for match in matches:
            for term in (match.character, match.work, match.matched):
                if term and term not in terms:
                    terms.append(term)
        return terms


def rewrite(prompt: str, spans: list[tuple[int, int]]) -> str:
    """The prompt without the flagged names (and a style phrase left dangling before them)."""
    text = prompt
    for start, end in sorted(spans, reverse=True):
        head = STYLE_BEFORE.sub("", text[:start]).rstrip()
        tail = STYLE_AFTER.sub("", text[end:])
        text = f"{head} {tail.lstrip()}"
    text = re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split()))
    return text.strip(" ,;:") or ""


def screen_prompts(
    app: Kenri,
    prompts: list[str],
    licensee: str | None = None,
    purpose: str = "generation",
    territory: str | None = None,
) -> list[PromptResult]:
    with app.transaction() as tx:
        return [app.prompt_screener.screen(tx, p, licensee, purpose, territory) for p in prompts]
