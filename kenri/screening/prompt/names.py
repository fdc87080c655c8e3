"""Find registered names in a prompt: exact, obfuscated (see ``normalize``) or misspelt.

All names of all subjects go into one Aho-Corasick automaton over their folded forms, so the
cost of a prompt does not grow with the registry (50k characters stay fast). A Latin-script hit
must start and end on word boundaries of the original prompt. A very short name (3 folded letters
or fewer) or one that is an everyday English word ("Link", "Rose") needs evidence to block: the
screener decides what counts (see ``screen``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick
from rapidfuzz import process
from rapidfuzz.distance import OSA

from kenri.screening.prompt.normalize import Folded, fold, split_variants
from kenri.text.lexicon import is_dictionary_word, word_class

SHORT_LENGTH = 3
FUZZY_MIN_LENGTH = 6


@dataclass(frozen=True)
class NameEntry:
    key: str  # folded form
    text: str  # as registered
    work_id: int
    character_id: int | None
    primary: bool = True  # the subject's own name (else an alias)

    @property
    def word_class(self) -> str:
        """ "name", "word" or "everyday" (see ``lexicon.word_class``); very short Latin names
        count as words."""
        found = word_class(self.text)
        if found == "name" and len(self.key) <= SHORT_LENGTH and self.text.isascii():
            return "everyday"  # "Mew", "Aa": as easily a syllable, an initialism or a typo
        return found


@dataclass(frozen=True)
class NameHit:
    entry: NameEntry
    start: int  # span in the original prompt
    end: int
    kind: str  # "exact" | "obfuscated" | "fuzzy"
    distance: int = 0

    def matched(self, prompt: str) -> str:
        return prompt[self.start : self.end]


def _is_cjk_or_kana(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\uff66" <= ch <= "\uff9d"


class NameMatcher:
    def __init__(self, entries: Iterable[NameEntry]) -> None:
        self.entries: list[NameEntry] = []
        self.automaton = ahocorasick.Automaton()
        by_key: dict[str, list[int]] = {}
        for entry in entries:
            if not entry.key:
                continue
            by_key.setdefault(entry.key, []).append(len(self.entries))
            self.entries.append(entry)
        # A name split at a doubled letter ("Shel lder") keeps both letters: see split_variants
        keys = {key: list(indexes) for key, indexes in by_key.items()}
        for index, entry in enumerate(self.entries):
            for variant in split_variants(entry.text) - {entry.key}:
                keys.setdefault(variant, []).append(index)
        for key, indexes in keys.items():
            # One Latin letter in a prompt is an article, a pronoun or a letter: a Latin name
            # that folds to it ("a", "I", "Aa") is not matched there; ウッウ (folded "u") is
            indexes = [i for i in indexes if len(key) > 1 or not _latin(self.entries[i])]
            if indexes:
                self.automaton.add_word(key, (len(key), tuple(indexes)))
        if len(self.automaton):
            self.automaton.make_automaton()
        # Fuzzy candidates by (first letter, length): a typo keeps the first letter (see
        # _fuzzy) and changes the length by at most the edits allowed, so a word is compared
        # with a few hundred names, not all of them.
        self._fuzzy_keys: dict[tuple[str, int], list[str]] = {}
        for key in by_key:
            if len(key) >= FUZZY_MIN_LENGTH and key.isascii():
                self._fuzzy_keys.setdefault((key[0], len(key)), []).append(key)
        self._fuzzy_pools: dict[tuple[str, int], list[str]] = {}  # (first, length): built once
        self._by_key = by_key

    def find(self, prompt: str) -> list[NameHit]:
        folded = fold(prompt)
        hits: list[NameHit] = []
        if len(self.automaton):
            for end, (length, indexes) in self.automaton.iter(folded.text):
                start = end - length + 1
                span = _span(prompt, folded, start, end + 1)
                if span is None:
                    continue
                exact = prompt[span[0] : span[1]]
                for index in indexes:
                    entry = self.entries[index]
                    kind = "exact" if exact.casefold() == entry.text.casefold() else "obfuscated"
                    hits.append(NameHit(entry, span[0], span[1], kind))
        taken = bytearray(len(prompt))  # characters already inside an exact or folded hit
        for hit in hits:
            taken[hit.start : hit.end] = b"\x01" * (hit.end - hit.start)
        hits += self._fuzzy(prompt, taken)
        return _longest_first(hits)

    def _fuzzy(self, prompt: str, taken: bytearray) -> list[NameHit]:
        """Misspelt names: words (or two words run together) within 1-2 edits of a long name
        (an edit: a letter inserted, deleted, replaced, or two neighbours swapped), unless the
        words are dictionary words as written."""
        if not self._fuzzy_keys:
            return []
        words = _words(prompt)
        candidates = [(s, e) for s, e in words]
        candidates += [(words[i][0], words[i + 1][1]) for i in range(len(words) - 1)]
        hits = []
        for start, end in candidates:
            if any(taken[start:end]):
                continue  # already found as written; a fuzzy reading would only blur it
            key = _folded_word(prompt[start:end])
            if len(key) < FUZZY_MIN_LENGTH or not key.isascii():
                continue
            if all(is_dictionary_word(w) for w in prompt[start:end].casefold().split()):
                continue  # a word spelt right ("badger", "inside") is no misspelt name
            allowed = _edits_allowed(len(key))
            pool = self._fuzzy_pool(key[0], len(key))
            found = process.extractOne(key, pool, scorer=OSA.distance, score_cutoff=allowed)
            if found is None or found[1] == 0:
                continue
            name_key, distance, _ = found
            for index in self._by_key[name_key]:
                hits.append(NameHit(self.entries[index], start, end, "fuzzy", int(distance)))
        return hits

    def _fuzzy_pool(self, first: str, length: int) -> list[str]:
        """The names a word may be a typo of: the same first letter (a different one is a
        different word more often than a typo), a length within the edits allowed."""
        pool = self._fuzzy_pools.get((first, length))
        if pool is None:
            allowed = _edits_allowed(length)
            pool = [
                name
                for near in range(length - allowed, length + allowed + 1)
                for name in self._fuzzy_keys.get((first, near), ())
            ]
            self._fuzzy_pools[(first, length)] = pool
        return pool


def _edits_allowed(length: int) -> int:
    return 1 if length < 9 else 2


def _latin(entry: NameEntry) -> bool:
    return unicodedata.normalize("NFKC", entry.text).isascii()


@lru_cache(maxsize=1 << 16)  # prompts repeat their words; folding one is the fuzzy pass's cost
def _folded_word(word: str) -> str:
    return fold(word).text


def _words(prompt: str) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, ch in enumerate(prompt + " "):
        if ch.isalnum() or ch in "@$!|'":
            if start is None:
                start = i
        elif start is not None:
            spans.append((start, i))
            start = None
    return spans


def _span(prompt: str, folded: Folded, start: int, end: int) -> tuple[int, int] | None:
    """The original span of folded[start:end] if it sits on word boundaries, else None.

    A match never starts or ends inside one character's folding (the "yu" of ミュ, read
    "myu"), and a Latin-script end of it needs a word boundary even next to Japanese ("of
    エネコ" is not "fenneko")."""
    offsets = folded.offsets
    first = offsets[start]
    last = offsets[end - 1]
    if (start > 0 and offsets[start - 1] == first) or (end < len(offsets) and offsets[end] == last):
        return None
    latin_first, latin_last = not _is_cjk_or_kana(prompt[first]), not _is_cjk_or_kana(prompt[last])
    if latin_first and start > 0 and not _separated(prompt, offsets[start - 1], first):
        return None
    if latin_last and end < len(offsets) and not _separated(prompt, last, offsets[end]):
        return None
    stop = offsets[end] if end < len(offsets) else len(prompt)
    while stop > last + 1 and not prompt[stop - 1].isalnum():
        stop -= 1  # trailing separators are not part of the name
    return first, stop


def _separated(prompt: str, before: int, after: int) -> bool:
    between = prompt[before + 1 : after]
    if _is_cjk_or_kana(prompt[before]) or _is_cjk_or_kana(prompt[after]):
        return True
    return any(not ch.isalnum() and ch not in "@$!|" for ch in between)


def _longest_first(hits: list[NameHit]) -> list[NameHit]:
    """Drop hits inside a longer hit of the same subject ("Pikachu" inside "Pikachu Libre")."""
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[NameHit] = []
    for hit in hits:
        inside = any(
            k.start <= hit.start and hit.end <= k.end and (k.end - k.start) > (hit.end - hit.start)
            for k in kept
        )
        if not inside:
            kept.append(hit)
    return kept
