"""Screen a prompt before generation: which registered subjects it names, and what to do.

Decisions follow the consent ledger like media screening: a name of a work or character the
licensee holds a grant for (for the purpose at hand) does not block. "In the style of X" (or
"X style", "X風") is a *style* reference: it is decided by the ``style`` purpose and reported
apart from character references. Each blocking result comes with a suggested safe rewrite (the
prompt without the protected reference) and negative-prompt terms: CopyCat (He et al. 2024)
found the two work best together.

Signals, strongest first: a registered name as written ("name", or "alias"), a name behind an
obfuscation ("obfuscated"), a misspelt name ("fuzzy"), and a description of the subject instead
of its name ("description": see ``descriptions``). Each match says which one fired and why. The
description signal costs one sentence embedding, so it runs only when names have not already
blocked the prompt.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from kenri.errors import InvalidInput
from kenri.registry.models import Character, Description, Holder, Licensee, Name, Work
from kenri.screening.decision import Thresholds
from kenri.screening.prompt.descriptions import DescriptionEntry, DescriptionHit, DescriptionIndex
from kenri.screening.prompt.names import NameEntry, NameHit, NameMatcher
from kenri.screening.prompt.normalize import (
    fold,
    fold_name,
    is_deliberately_obfuscated,
    is_japanese,
)
from kenri.text.embedder import EmbeddingCache, TextEmbedder
from kenri.text.lexicon import (
    STOPWORDS,
    WORD_ZIPF,
    is_common_noun,
    is_known_noun,
    terms,
    word_class,
    zipf,
)

if TYPE_CHECKING:
    from kenri.app import Kenri, Transaction

MAX_PROMPT_CHARS = 20_000
SCORES = {"exact": 0.97, "obfuscated": 0.95}
FUZZY_SCORES = {1: 0.85, 2: 0.6}
UNSUPPORTED_SCORE = 0.6  # a short or everyday-word name without evidence: review
EVERYDAY_WORD_SCORE = 0.3  # ... written in lower case like the word it also is: listed, allowed
OBFUSCATED_MIN = 5  # folded letters a name needs to be trusted behind an obfuscation
THRESHOLDS = Thresholds()
REVIEW = THRESHOLDS.review
STYLE_BEFORE = re.compile(
    r"(in the style of|style of|in the manner of|inspired by|à la|a la|styled after)\W*$", re.I
)
STYLE_AFTER = re.compile(r"^\W{0,2}(style|styled|風|風の|タッチ|っぽい)", re.I)
# Kinds of real-world things a prompt names right before a proper noun ("the planet Jupiter",
# "the Greek letter Omega", "the Egyptian god Anubis"): the capital then belongs to that thing.
REAL_WORLD_KIND = re.compile(
    r"\b(planet|moon|star|constellation|galaxy|comet|asteroid|god|goddess|deity|letter|"
    r"city|town|village|state|country|province|river|lake|island|mount|mountain|volcano|saint|"
    r"st\.|president|pharaoh|pope|prophet|painter|composer|poet|philosopher|scientist|"
    r"inventor|explorer)\W*$",
    re.I,
)
# Kinds of place a proper noun names right after it ("Abbey Road", "Baker Street", "Hyde Park").
PLACE_AFTER = re.compile(
    r"^[ \t]+(road|street|avenue|lane|boulevard|square|bridge|park|station|river|lake|bay|"
    r"island|islands|mountain|mountains|valley|canyon|falls|county|castle|palace|cathedral|"
    r"abbey|church|tower|college|university|airport|harbour|harbor)\b",
    re.I,
)
INDEFINITE_ARTICLE = re.compile(r"\b(a|an)\s+$", re.I)
NEXT_WORD = re.compile(r"[ \t]*([\w']+)")  # the word right after a name, if no punctuation
LETTERING = re.compile(
    r"\b(written|writing|says|saying|reads|reading|text|word|words|letters|lettering|spelled|"
    r"spelling|caption|sign|logo|title)\b",
    re.I,
)
# "Don't", "I'm", "we'll": the word before the apostrophe is a verb or pronoun, not a name
# (a possessive "Mario's" is still the name)
CONTRACTION = re.compile(r"['’](t|m|ll|ve|re|d)\b", re.I)
# Lower-case particles inside proper names ("Arc de Triomphe", "Leonardo da Vinci")
NAME_PARTICLES = frozenset(
    {"de", "du", "des", "la", "le", "da", "di", "del", "della", "von", "van", "der", "den"}
)
TAG_SEPARATOR = re.compile(r"[,;|\n]")  # "Hulk, digital art, trending on artstation"
# A quoted run of words: opens at a word's start, closes before a non-letter ("bird's eye"
# is no quote).
QUOTED = re.compile(r"(?:(?<=\s)|^)['\"‘“「『]([^'\"’”」』\n]{1,80})['\"’”」』](?!\w)")
FIRST_NAME = re.compile(r"\b[A-Z][a-z]+\s+$")  # "in the style of Vincent Van Gogh"


@dataclass
class PromptMatch:
    holder: str
    country: str | None
    work: str
    character: str | None
    reference: str  # what kind of reference: "character" | "work" | "style"
    reason: str  # which signal fired: name | alias | obfuscated | fuzzy | description
    matched: str  # the prompt's words (a name) or the registered description
    span: tuple[int, int] | None  # where in the prompt (None for a description)
    score: float
    purpose: str
    work_id: int
    character_id: int | None
    evidence: dict[str, Any] = field(default_factory=dict)
    grant: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "country": self.country,
            "work": self.work,
            "character": self.character,
            "reference": self.reference,
            "reason": "style" if self.reference == "style" else self.reason,
            "matched": self.matched,
            "span": list(self.span) if self.span else None,
            "score": self.score,
            "purpose": self.purpose,
            "evidence": self.evidence,
            "grant": self.grant,
        }


@dataclass(frozen=True)
class SubjectLabel:
    holder: str
    country: str | None
    work: str
    character: str | None


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


@dataclass(frozen=True)
class _Names:
    """The name automaton and the labels it points at, for one state of the registry."""

    version: tuple[int, int]
    matcher: NameMatcher
    works: dict[int, tuple[str, str, str | None]]
    characters: dict[int, str]

    def label(self, work_id: int, character_id: int | None) -> SubjectLabel:
        title, holder, country = self.works[work_id]
        character = self.characters.get(character_id) if character_id is not None else None
        return SubjectLabel(holder, country, title, character)


class PromptScreener:
    """Holds the name automaton and the description index for one state of the registry
    (each rebuilt when its rows change). Safe to share between threads: a rebuild makes new
    objects and swaps them in; a screening uses the ones it started with."""

    def __init__(self, embedder: TextEmbedder | None = None, cache_dir: Path | None = None):
        self.embedder = embedder
        self._cache = EmbeddingCache(embedder, cache_dir) if embedder else None
        self._names: _Names | None = None
        self._descriptions: tuple[tuple[int, int], DescriptionIndex] | None = None
        self._rebuild_lock = threading.Lock()

    @staticmethod
    def _versions(tx: Transaction) -> tuple[tuple[int, int], tuple[int, int]]:
        """Row count and last id of names and descriptions: read once per transaction."""
        if "prompt_versions" not in tx.memo:
            names = select(func.count(Name.id), func.max(Name.id))
            descriptions = select(func.count(Description.id), func.max(Description.id))
            tx.memo["prompt_versions"] = (
                tuple(tx.session.execute(names).one()),
                tuple(tx.session.execute(descriptions).one()),
            )
        return tx.memo["prompt_versions"]

    def _current_names(self, tx: Transaction) -> _Names:
        version = self._versions(tx)[0]
        names = self._names
        if names is not None and names.version == version:
            return names
        with self._rebuild_lock:
            if self._names is None or self._names.version != version:
                self._names = self._load_names(tx, version)
            return self._names

    @staticmethod
    def _load_names(tx: Transaction, version: tuple[int, int]) -> _Names:
        rows = tx.session.execute(
            select(Name.text, Name.work_id, Name.character_id, Character.name, Work.title)
            .join(Work, Work.id == Name.work_id)
            .outerjoin(Character, Character.id == Name.character_id)
        ).all()
        matcher = NameMatcher(
            NameEntry(
                fold_name(text),
                text,
                work_id,
                character_id,
                primary=text == (character_name if character_id else title),
            )
            for text, work_id, character_id, character_name, title in rows
        )
        works = {
            work_id: (title, holder, country)
            for work_id, title, holder, country in tx.session.execute(
                select(Work.id, Work.title, Holder.name, Holder.country).join(Holder)
            )
        }
        characters = dict(tx.session.execute(select(Character.id, Character.name)).all())
        return _Names(version, matcher, works, characters)

    def _current_descriptions(self, tx: Transaction) -> DescriptionIndex | None:
        if self._cache is None:
            return None
        version = self._versions(tx)[1]
        current = self._descriptions
        if current is not None and current[0] == version:
            return current[1]
        with self._rebuild_lock:
            if self._descriptions is None or self._descriptions[0] != version:
                rows = tx.session.execute(
                    select(
                        Description.id,
                        Description.work_id,
                        Description.character_id,
                        Description.text,
                    ).order_by(Description.id)
                ).all()
                index = DescriptionIndex([DescriptionEntry(*row) for row in rows], self._cache)
                self._descriptions = (version, index)
            return self._descriptions[1]

    def screen(
        self,
        tx: Transaction,
        prompt: str,
        licensee: str | None = None,
        purpose: str = "generation",
        territory: str | None = None,
        descriptions: bool = True,
        user: str | None = None,
    ) -> PromptResult:
        """``descriptions=False`` checks names only (no model call: bulk caption screening).

        ``user`` names the licensee's end user, for grants limited to users (likeness cameos).
        """
        if not isinstance(prompt, str):
            raise InvalidInput("a prompt is text")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise InvalidInput(f"prompt longer than {MAX_PROMPT_CHARS} characters")
        buyer: Licensee | None = tx.registry.licensee(licensee) if licensee else None
        names = self._current_names(tx)
        matches = self._name_matches(names, prompt, purpose)
        self._apply_grants(tx, matches, buyer, territory, user)
        blocked = any(m.grant is None and m.score >= THRESHOLDS.block for m in matches)
        if descriptions and not blocked:
            described = self._description_matches(tx, names, prompt, purpose)
            if described:
                _corroborate(matches, described)
                self._apply_grants(tx, described, buyer, territory, user)
                named = {(m.work_id, m.character_id) for m in matches if m.score >= REVIEW}
                matches += [m for m in described if (m.work_id, m.character_id) not in named]
        matches.sort(key=lambda m: -m.score)
        unlicensed = [m for m in matches if m.grant is None]
        decision = THRESHOLDS.decide(m.score for m in unlicensed)
        result = PromptResult(prompt, decision, matches)
        if decision != "allow":
            flagged = [m for m in unlicensed if m.score >= REVIEW]
            result.rewrite = rewrite(prompt, _spans_to_remove(prompt, flagged))
            result.negative_terms = _negative_terms(flagged)
        return result

    def _name_matches(self, names: _Names, prompt: str, purpose: str) -> list[PromptMatch]:
        # a word before a contraction ("Don't") is no name at all
        hits = [h for h in names.matcher.find(prompt) if not CONTRACTION.match(prompt, h.end)]
        work_spans = {(h.start, h.end) for h in hits if not h.entry.character_id}
        kinds = [_word_class(prompt, h) for h in hits]
        # Where the prompt itself says what the capitalised word is, the capital is no
        # evidence for the character: such a name needs evidence like a word does.
        # (a lower-case hit of a word has no capital to explain: skip the look-around)
        explained = [
            _capital_explained(prompt, h, work_spans)
            if kind == "name" or h.matched(prompt)[:1].isupper()
            else None
            for h, kind in zip(hits, kinds, strict=True)
        ]
        kinds = [
            "word" if why and kind == "name" else kind
            for kind, why in zip(kinds, explained, strict=True)
        ]
        works_named = {
            h.entry.work_id for h, kind in zip(hits, kinds, strict=True) if kind == "name"
        }
        # A name that is both a work's title and its character's name means the character.
        character_spans = {(h.entry.work_id, h.start, h.end) for h in hits if h.entry.character_id}
        best: dict[tuple[int, int | None, str], PromptMatch] = {}
        for hit, kind, why in zip(hits, kinds, explained, strict=True):
            if _inside_spelled_word(prompt, hit):
                continue
            if not hit.entry.character_id and (hit.entry.work_id, hit.start, hit.end) in (
                character_spans
            ):
                continue
            match = self._to_match(names, prompt, hit, kind, purpose, works_named, why)
            key = (hit.entry.work_id, hit.entry.character_id, match.reference)
            if key not in best or match.score > best[key].score:
                best[key] = match
        return sorted(best.values(), key=lambda m: (-m.score, m.span))

    def _description_matches(
        self, tx: Transaction, names: _Names, prompt: str, purpose: str
    ) -> list[PromptMatch]:
        index = self._current_descriptions(tx)
        if index is None or not len(index) or not prompt.strip():
            return []
        vector = self._cache.embedder.embed([prompt])[0]
        return [
            self._description_match(names, hit, purpose)
            for hit in index.search(prompt, vector)
            if hit.entry.work_id in names.works
        ]

    @staticmethod
    def _description_match(names: _Names, hit: DescriptionHit, purpose: str) -> PromptMatch:
        label = names.label(hit.entry.work_id, hit.entry.character_id)
        return PromptMatch(
            holder=label.holder,
            country=label.country,
            work=label.work,
            character=label.character,
            reference="character" if label.character else "work",
            reason="description",
            matched=hit.entry.text,
            span=None,
            score=hit.score,
            purpose=purpose,
            work_id=hit.entry.work_id,
            character_id=hit.entry.character_id,
            evidence={
                "description_id": hit.entry.id,
                "similarity": hit.similarity,
                "shared_terms": list(hit.shared_terms),
                "strength": hit.strength,
            },
        )

    def _apply_grants(
        self,
        tx: Transaction,
        matches: list[PromptMatch],
        buyer: Licensee | None,
        territory: str | None,
        user: str | None = None,
    ) -> None:
        if buyer is None:
            return
        for match in matches:
            if match.score >= REVIEW:
                subject = self._subject(tx, match)
                decision = tx.ledger.may(buyer, subject, match.purpose, territory, user=user)
                match.grant = decision.to_dict()["grant"] if decision.allowed else None

    @staticmethod
    def _to_match(
        names: _Names,
        prompt: str,
        hit: NameHit,
        kind: str,
        purpose: str,
        works_named: set[int],
        capital_explained: str | None = None,
    ) -> PromptMatch:
        """``kind``: the hit's word class (see ``_word_class``); ``capital_explained``: why the
        prompt's capital is no evidence here (see ``_capital_explained``)."""
        label = names.label(hit.entry.work_id, hit.entry.character_id)
        style = bool(
            STYLE_BEFORE.search(prompt[: hit.start]) or STYLE_AFTER.search(prompt[hit.end :])
        )
        fuzzy = hit.kind == "fuzzy"
        score = FUZZY_SCORES.get(hit.distance, 0.5) if fuzzy else SCORES[hit.kind]
        evidence: dict[str, Any] = {"registered_name": hit.entry.text}
        if kind != "name":
            support = _name_support(prompt, hit, works_named, kind, capital_explained)
            evidence["needs_evidence"] = kind
            if capital_explained:
                evidence["capital_explained_by"] = capital_explained
            evidence["support"] = support
            if support is None:
                evidence["score_if_supported"] = score
                matched = hit.matched(prompt)
                plain = matched.islower() or len(hit.entry.key) <= 2 or _shouting(prompt)
                # "panda", "pirate ship" in lower case: the noun, not a character named so
                common_noun = matched.islower() and is_common_noun(matched)
                listed_only = plain and kind == "everyday" or common_noun
                score = min(score, EVERYDAY_WORD_SCORE if listed_only else UNSUPPORTED_SCORE)
        if fuzzy:
            evidence["edits"] = hit.distance
        reason = {"obfuscated": "obfuscated", "fuzzy": "fuzzy"}.get(hit.kind)
        reason = reason or ("name" if hit.entry.primary else "alias")
        if style:
            evidence["matched_as"] = reason  # the reported reason is "style"
        return PromptMatch(
            holder=label.holder,
            country=label.country,
            work=label.work,
            character=label.character,
            reference="style" if style else ("character" if label.character else "work"),
            reason=reason,
            matched=hit.matched(prompt),
            span=(hit.start, hit.end),
            score=score,
            purpose="style" if style else purpose,
            work_id=hit.entry.work_id,
            character_id=hit.entry.character_id,
            evidence=evidence,
        )

    @staticmethod
    def _subject(tx: Transaction, match: PromptMatch) -> Work | Character:
        if match.character_id is not None:
            return tx.session.get(Character, match.character_id)
        return tx.session.get(Work, match.work_id)


def _word_class(prompt: str, hit: NameHit) -> str:
    """How much a hit looks like ordinary words: the name's own class, or, when the prompt's
    text differs from the name (folded, obfuscated), the class of that text: "tiger" folds
    like "Tigger" and "as he" like "Ashe", but they are words."""
    kind = hit.entry.word_class
    if hit.kind == "exact":
        return kind
    matched = hit.matched(prompt)
    pieces = matched.split()
    joined, glue = _joined_with_glue(pieces)
    if joined and glue and all(len(p) <= 2 or zipf(p.strip("-")) >= WORD_ZIPF for p in pieces):
        return "everyday"  # "a hat" joined to "ahat", "IS A" to "isa": words, not a split name
    if "-" in matched and "-" not in hit.entry.text:
        if is_known_noun(matched):
            return "word"  # "half-life", "x-ray": a hyphenated noun English has
        pieces = [p for p in re.split(r"[\s-]+", matched) if p]  # "lil-eep": cut like a space
        joined, glue = _joined_with_glue(pieces)
    if joined and not glue and kind == "name" and not is_common_noun(" ".join(pieces)):
        return "name"  # "Tha nos", "com-bee": a name cut into pieces that are not both words
    deliberate = hit.kind == "obfuscated" and is_deliberately_obfuscated(matched)
    if deliberate and matched.isascii() and matched.isalpha() and matched.islower():
        # Only repeated letters, in lower case: a typo of a common noun ("squirrell").
        deliberate = not is_common_noun(hit.entry.text)
    if deliberate and len(hit.entry.key) >= 3:
        return "name"  # "Th0r", "Lìnk", "Liink": someone hid this name on purpose
    matched_kind = word_class(matched)
    if matched_kind != "name":
        return matched_kind  # "room" folds like "Rom": the word is meant
    if kind == "name" and hit.kind == "obfuscated" and len(hit.entry.key) <= OBFUSCATED_MIN:
        return "word"  # a short name behind folding needs evidence
    return kind


def _joined_with_glue(pieces: list[str]) -> tuple[bool, bool]:
    """Whether a match spans several pieces, and whether one is a short or function word."""
    joined = len(pieces) > 1 and any(len(p) > 1 for p in pieces)
    return joined, any(len(p) <= 2 or p.casefold() in STOPWORDS for p in pieces)


def _inside_spelled_word(prompt: str, hit: NameHit) -> bool:
    """Letters spelled apart ("G I G G L E") hold a name only if it is all of them."""
    pieces = hit.matched(prompt).split()
    if len(pieces) < 2 or any(len(p) != 1 for p in pieces):
        return False
    before = prompt[: hit.start].split()[-1:]
    after = prompt[hit.end :].split()[:1]
    return any(len(w) == 1 and w.isalpha() for w in before + after)


@lru_cache(maxsize=256)  # asked for every hit of the same prompt
def _shouting(prompt: str) -> bool:
    """Mostly capitals ("A KITCHEN IN THE ROOM"): capitals then say nothing about names."""
    cased = [ch for ch in prompt if ch.isalpha() and ch.lower() != ch.upper()]
    return bool(cased) and sum(ch.isupper() for ch in cased) > len(cased) / 2


def _capitalised_word(text: str) -> bool:
    return bool(text) and text[:1].isupper()


def _part_of_longer_proper_name(prompt: str, hit: NameHit) -> bool:
    """ "Grand Canyon", "Ming Dynasty", "Mona Lisa": a capitalised neighbour makes the name a
    piece of another proper name, so its capital is no evidence for this one."""
    before_text, after_text = prompt[: hit.start], prompt[hit.end :]
    before = re.findall(r"[\w']+", before_text)[-2:]
    after = re.findall(r"[\w']+", after_text)[:2]
    glued_before = bool(before) and not re.search(r"[.!?,;:\n]\s*$", before_text)
    glued_after = bool(after) and not re.match(r"\s*[.!?,;:\n]", after_text)
    # "Arc de Triomphe", "Leonardo da Vinci": a particle between two capitalised words
    if len(after) == 2 and after[0] in NAME_PARTICLES:
        after = after[1:]
    if len(before) == 2 and before[1] in NAME_PARTICLES:
        before, words_back = before[:1], 2
    else:
        before, words_back = before[-1:], 1
    return (
        glued_before
        and _capitalised_word(before[0])
        and not _sentence_start(prompt, hit, words_back)
    ) or (glued_after and _capitalised_word(after[0]))


def _next_to_japanese(prompt: str, hit: NameHit) -> bool:
    around = prompt[max(hit.start - 1, 0) : hit.start] + prompt[hit.end : hit.end + 1]
    return any(is_japanese(ch) for ch in around)


def _sentence_start(prompt: str, hit: NameHit, words_back: int = 0) -> bool:
    """The hit (or the word ``words_back`` before it) opens a sentence."""
    before = prompt[: hit.start].rstrip()
    for _ in range(words_back):
        before = re.sub(r"[\w']+$", "", before).rstrip()
    return not before or before[-1] in ".!?\n"


def _capital_explained(prompt: str, hit: NameHit, work_spans: set[tuple[int, int]]) -> str | None:
    """Why a capitalised name may mean something else, from the prompt's own words, or None.

    "real-world kind": a kind of real thing just before it ("the planet Jupiter", "the
    Egyptian god Anubis"); "place name": a kind of place right after a name that is a word
    ("Abbey Road"); "a common noun": an indefinite article before a noun English has ("a Teddy
    Bear", "an Owl"), which makes it one of a kind, not someone; "part of a noun": a longer
    noun English has holds it ("Koala bear", "the Rosetta Stone"); "lettering": quoted text
    to be drawn as letters ("a t-shirt with 'ANKH' written on it"); "artist": "in the style
    of" a name that is only a character's (styles belong to artists and works: "in the style
    of Van Gogh" names the painter).
    """
    before = prompt[: hit.start]
    if REAL_WORLD_KIND.search(before[-40:]):
        return "real-world kind"
    # (a coined name keeps its meaning: "Pikachu Park" is still about Pikachu)
    if hit.entry.word_class != "name" and PLACE_AFTER.match(prompt[hit.end : hit.end + 40]):
        return "place name"
    if any(start <= hit.start and hit.end <= end for start, end in _lettering(prompt)):
        return "lettering"
    only_a_character = hit.entry.character_id and (hit.start, hit.end) not in work_spans
    if only_a_character and STYLE_BEFORE.search(FIRST_NAME.sub("", before)):
        return "artist"
    if _inside_known_noun(prompt, hit):
        return "part of a noun"
    if (
        INDEFINITE_ARTICLE.search(before[-5:])
        and is_common_noun(hit.matched(prompt))
        and _ends_noun_phrase(prompt, hit)
    ):
        return "a common noun"
    return None


def _ends_noun_phrase(prompt: str, hit: NameHit) -> bool:
    """Nothing but punctuation or a function word follows ("a Teddy Bear on a table"); in "a
    Sailor Moon outfit" the article belongs to the outfit, and the name is the name."""
    following = NEXT_WORD.match(prompt, hit.end)
    return not following or following.group(1).casefold() in STOPWORDS


def _inside_known_noun(prompt: str, hit: NameHit) -> bool:
    """The name is one word of a longer noun English has ("Koala bear", "the Rosetta Stone",
    "a Peter Pan collar", "sonic boom"): the prompt means that thing."""
    before = re.split(r"[.,;:!?()\n]", prompt[max(hit.start - 60, 0) : hit.start])[-1]
    after = re.split(r"[.,;:!?()\n]", prompt[hit.end : hit.end + 60])[0]
    before, after = before.split()[-2:], after.split()[:2]
    name = hit.matched(prompt)
    return any(
        is_known_noun(" ".join([*before[len(before) - b :], name, *after[:a]]))
        for b in range(len(before) + 1)
        for a in range(len(after) + 1)
        if a or b
    )


@lru_cache(maxsize=256)  # asked for every hit of the same prompt
def _lettering(prompt: str) -> tuple[tuple[int, int], ...]:
    """Quoted runs of words in a prompt about drawn text ("'ANKH' written on it"), or ()."""
    if not LETTERING.search(prompt):
        return ()
    return tuple(q.span(1) for q in QUOTED.finditer(prompt))


def _name_support(
    prompt: str,
    hit: NameHit,
    works_named: set[int],
    kind: str,
    capital_explained: str | None = None,
) -> str | None:
    """Evidence that a name which is also a word means the subject, or None.

    "another name": the same work is named too ("Link and Zelda"); "proper noun": a rarer word
    ("Naruto", "mermaid") written capitalised inside a sentence, not as a piece of a longer
    proper name ("Grand Canyon") and not in a prompt written in capitals; "alone": the prompt
    is just a rarer word ("Mermaid"); "subject tag": the first tag of a tag list is just that
    word ("Mermaid, digital art"). Neither counts for the lower-case noun. An everyday word
    ("Link", "hope") needs more: another name or a description of the subject (see
    ``_corroborate``).
    """
    if hit.entry.work_id in works_named:
        return "another name"
    matched = hit.matched(prompt)
    capitals_count = (
        not capital_explained
        and kind != "real"  # the real "San Francisco" is written with capitals too
        and not _shouting(prompt)
        and not _part_of_longer_proper_name(prompt, hit)
    )
    if capitals_count and matched[:1].isupper() and kind != "name":
        if _next_to_japanese(prompt, hit):
            return "proper noun"  # a capitalised Latin word inside Japanese text is a name
        opens = _sentence_start(prompt, hit)
        # A rare word ("Cuphead", or split: "Cup head"); a registered phrase's frequency is
        # not a word's ("Siberian husky")
        phrase = hit.kind == "exact" and " " in hit.entry.text.strip()
        rare = not phrase and zipf(matched) < WORD_ZIPF and len(hit.entry.key) > OBFUSCATED_MIN
        if kind == "word" and (not opens or rare):
            return "proper noun"  # mid-sentence, or a longer rare word opening it ("Cuphead")
    words = matched.split()
    if capitals_count and len(words) > 1 and all(w[:1].isupper() for w in words):
        return "proper noun"  # "Captain Comet", "Iron Man": title case is a name anywhere
    plain_noun = matched.islower() and is_common_noun(matched)  # "inertia": the noun itself
    if kind != "word" or plain_noun:
        return None
    if _is_all_of(prompt, matched):
        return "alone"
    if capitals_count and _capitalised_subject_tag(prompt, matched):
        return "subject tag"
    return None


def _capitalised_subject_tag(prompt: str, matched: str) -> bool:
    """ "Hulk, digital art, trending": the first tag of a tag list is just the name, and its
    capital sets it apart from the other tags, most of them written in lower case (where tags
    are capitalised, "Samurai, Japanese Style, Full-HD", the capital says nothing)."""
    tags = [tag.strip() for tag in TAG_SEPARATOR.split(prompt)]
    rest = [tag for tag in tags[1:] if tag]
    return (
        bool(rest)
        and matched[:1].isupper()
        and _is_all_of(tags[0], matched)
        and sum(tag[:1].islower() for tag in rest) > len(rest) / 2
    )


def _is_all_of(text: str, matched: str) -> bool:
    """``text`` (trimmed) says nothing but ``matched``."""
    text = text.strip(" \t\n.,;:!?\"'")
    return len(text) <= 2 * len(matched) and fold(text).text == fold(matched).text


def _corroborate(names: list[PromptMatch], described: list[PromptMatch]) -> None:
    """A name waiting for evidence gets it from a description of the same subject (the same
    character, or the work when the description is the work's own)."""
    subjects = {(m.work_id, m.character_id) for m in described if m.score >= REVIEW}
    works = {work for work, character in subjects if character is None}
    for match in names:
        if "score_if_supported" not in match.evidence:
            continue
        if (match.work_id, match.character_id) in subjects or match.work_id in works:
            match.evidence["support"] = "description"
            match.score = match.evidence.pop("score_if_supported")


def _spans_to_remove(prompt: str, matches: list[PromptMatch]) -> list[tuple[int, int]]:
    """Names as found; for a description, the prompt's words that made it distinctive."""
    spans = [m.span for m in matches if m.span]
    described = [m for m in matches if m.span is None]
    if described:
        words = [(w.span(), terms(w.group())) for w in re.finditer(r"\w+(?:'\w+)?", prompt)]
        for match in described:
            shared = set(match.evidence.get("shared_terms", [])[:3])
            spans += [span for span, found in words if shared & found]
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _negative_terms(matches: list[PromptMatch]) -> list[str]:
    found: list[str] = []
    for match in matches:
        words = (match.character, match.work)
        if match.span:
            words += (match.matched,)
        for term in words:
            if term and term not in found:
                found.append(term)
    return found


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
    user: str | None = None,
) -> list[PromptResult]:
    with app.transaction() as tx:
        screener = app.prompt_screener
        return [screener.screen(tx, p, licensee, purpose, territory, user=user) for p in prompts]
