"""Indirect references: a prompt that describes a registered subject instead of naming it.

Every registered description is compared with the prompt two ways, and the evidence is kept:
- meaning: cosine similarity of multilingual sentence embeddings (``kenri.text.embedder``);
- words: the distinctive terms both share ("plumber", "mustache"), each weighted by how rare it
  is among all registered descriptions and ordinary prompts (inverse document frequency).
Their sum, minus the description's baseline (its mean over ordinary prompts from
``kenri.text.background``), is the *strength*; ``scoring.description_score`` maps it to the
calibrated score. The cost is one embedding per prompt plus one matrix-vector product.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kenri.matching import scoring
from kenri.text.background import background_prompts
from kenri.text.embedder import EmbeddingCache
from kenri.text.lexicon import terms

TERM_WEIGHT = 0.01  # similarity points per unit of shared-term weight (calibrated, see bench)
TERM_CAP = 30.0  # a long prompt sharing many words cannot win on words alone
MAX_RESULTS = 3


@dataclass(frozen=True)
class DescriptionEntry:
    id: int
    work_id: int
    character_id: int | None
    text: str


@dataclass(frozen=True)
class DescriptionHit:
    entry: DescriptionEntry
    similarity: float
    shared_terms: tuple[str, ...]  # most distinctive first
    strength: float
    score: float


class DescriptionIndex:
    def __init__(self, entries: Sequence[DescriptionEntry], cache: EmbeddingCache) -> None:
        self.entries = list(entries)
        self.vectors = cache.embed([e.text for e in self.entries])
        entry_terms = [terms(e.text) for e in self.entries]
        background = background_prompts()
        background_terms = [terms(p) for p in background]
        frequency: dict[str, int] = {}
        for found in entry_terms + background_terms:
            for term in found:
                frequency[term] = frequency.get(term, 0) + 1
        documents = len(entry_terms) + len(background_terms)
        self.idf = {t: math.log((documents + 1) / (n + 1)) for t, n in frequency.items()}
        postings: dict[str, list[int]] = {}
        for index, found in enumerate(entry_terms):
            for term in found:
                postings.setdefault(term, []).append(index)
        self.postings = {t: np.asarray(ids, np.int64) for t, ids in postings.items()}
        self.entry_terms = entry_terms
        self.baseline = np.zeros(len(self.entries), np.float32)
        if self.entries:
            background_vectors = cache.embed(background)
            raw = np.stack(
                [
                    self._raw(v, found)
                    for v, found in zip(background_vectors, background_terms, strict=True)
                ]
            )
            self.baseline = raw.mean(axis=0)

    def __len__(self) -> int:
        return len(self.entries)

    def _term_weights(self, found: frozenset[str]) -> np.ndarray:
        weights = np.zeros(len(self.entries), np.float32)
        for term in found:
            ids = self.postings.get(term)
            if ids is not None:
                weights[ids] += self.idf[term]
        return np.minimum(weights, TERM_CAP)

    def _raw(self, vector: np.ndarray, found: frozenset[str]) -> np.ndarray:
        return self.vectors @ vector + TERM_WEIGHT * self._term_weights(found)

    def search(self, prompt: str, vector: np.ndarray) -> list[DescriptionHit]:
        """The best description per subject, strongest first (at most ``MAX_RESULTS``)."""
        if not self.entries:
            return []
        found = terms(prompt)
        strength = self._raw(vector, found) - self.baseline
        hits: list[DescriptionHit] = []
        seen: set[tuple[int, int | None]] = set()
        for index in np.argsort(-strength)[: MAX_RESULTS * 4]:
            entry = self.entries[index]
            subject = (entry.work_id, entry.character_id)
            if subject in seen:
                continue
            seen.add(subject)
            shared = sorted(found & self.entry_terms[index], key=lambda t: -self.idf.get(t, 0))
            value = float(strength[index])
            hits.append(
                DescriptionHit(
                    entry,
                    similarity=round(float(self.vectors[index] @ vector), 4),
                    shared_terms=tuple(shared),
                    strength=round(value, 4),
                    score=scoring.description_score(value),
                )
            )
            if len(hits) == MAX_RESULTS:
                break
        return hits
