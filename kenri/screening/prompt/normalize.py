"""One matching form for names and prompts, so that spelling games do not hide a name.

``fold`` maps text to lower-case Latin letters (plus CJK ideographs, kept as they are) with a map
back to the original offsets:

- Unicode NFKC, case folding, accents stripped ("Pokémon" -> "pokemon", full width -> ASCII);
- confusable letters (Cyrillic and Greek look-alikes, after Unicode TR39's confusables) -> Latin;
- leetspeak -> letters: symbols between letters ("pik@chu"), and digits inside a word that is
  mostly letters ("P1kachu", "4bra", "Ch4rm4nd3r"; not "1080p", "4k", "R2-D2");
- kana -> Hepburn romaji ("ピカチュウ" -> "pikachuu"), so kana and romaji spellings meet;
- then repeated letters collapse ("piikachuuu", "pikachuu", "pikachu" all -> "pikachu"), which also
  folds romaji long vowels (ou/oo/uu, the "ー" mark) and doubled consonants.

Separators (spaces, hyphens, dots, "・") are dropped in the folded text; the caller decides from
the offsets whether a match starts and ends on word boundaries of the original.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jaconv

from kenri.text.lexicon import zipf

# Unicode TR39 confusables restricted to letters that pass for Latin ones in prompts.
CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
        "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ӏ": "l",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "μ": "u",
    }
)  # fmt: skip
LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
        "@": "a", "$": "s", "!": "i", "|": "l", "€": "e"}  # fmt: skip
LONG_VOWEL_MARK = "ー"  # after NFKC, the half-width ｰ is this too


@dataclass(frozen=True)
class Folded:
    text: str  # folded characters, separators removed
    offsets: tuple[int, ...]  # for each folded character, its index in the original text


def _is_kana(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff" or "\uff66" <= ch <= "\uff9f"


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or ch == "々"


def is_japanese(ch: str) -> bool:
    """Kana or a CJK ideograph."""
    return _is_kana(ch) or _is_cjk(ch)


@lru_cache(maxsize=1 << 14)  # a pure function of one character, called for every character
def _base_letters(ch: str) -> str:
    """NFKC + casefold + confusables + accents stripped, for one original character."""
    text = unicodedata.normalize("NFKC", ch).casefold().translate(CONFUSABLES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> Folded:
    return _collapse(text, *_letters(text))


def _letters(text: str) -> tuple[list[str], list[int]]:
    """Folded characters and their offsets, before repeated letters collapse."""
    leet_digits = _leet_digits(text)
    chars: list[str] = []
    offsets: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if _is_kana(ch):  # romanise a run of kana at once (ゅ, っ depend on neighbours)
            j = i
            while j < n and _is_kana(text[j]):
                j += 1
            _romanise_kana(text, i, j, chars, offsets)
            i = j
            continue
        if _is_cjk(ch):
            chars.append(ch)
            offsets.append(i)
        elif ch in LEET and (_between_letters(text, i) or (ch.isdigit() and i in leet_digits)):
            chars.append(LEET[ch])
            offsets.append(i)
        else:
            for letter in _base_letters(ch):
                if letter.isalpha() and letter.isascii() or letter.isdigit():
                    chars.append(letter)
                    offsets.append(i)
        i += 1
    return chars, offsets


SMALL_KANA = set("ゃゅょぁぃぅぇぉゎャュョァィゥェォヮ")
SOKUON = set("っッ")


def _romanise_kana(text: str, start: int, stop: int, chars: list[str], offsets: list[int]):
    """Hepburn romaji of a kana run, mora by mora, so each letter keeps its own offset."""
    units: list[tuple[str, int]] = []  # NFKC kana (half-width voicing marks joined), offset
    k = start
    while k < stop:
        end = k + 1
        while end < stop and text[end] in "\uff9e\uff9f\u3099\u309a":
            end += 1  # half-width or combining (semi-)voiced mark: part of this kana
        for ch in unicodedata.normalize("NFKC", text[k:end]):
            units.append((ch, k))
        k = end
    i = 0
    while i < len(units):
        ch, offset = units[i]
        if ch == LONG_VOWEL_MARK or ch in SOKUON:  # folding collapses both anyway
            i += 1
            continue
        j = i + 1
        while j < len(units) and units[j][0] in SMALL_KANA:
            j += 1
        mora = jaconv.kata2hira("".join(u[0] for u in units[i:j]))
        for letter in jaconv.kana2alphabet(mora):
            if letter.isalpha() and letter.isascii():
                chars.append(letter)
                offsets.append(offset)
        i = j


# Letters and digits, hyphenated pieces together ("Chun-L1", "H0-Oh": a name's own hyphen)
_ALNUM_RUN = re.compile(r"[^\W_]+(?:-(?!\d+\b)[^\W_]+)*")  # ("COVID-19": a number)
# Numbers with units or suffixes that prompts use as themselves: "4k", "35mm", "1920s", "3d".
_NUMBER_WORD = re.compile(r"\d+(?:[a-z]{1,2}|mm|cm|km|fps|bit|bits|px|hz|gb|mb|kg)", re.I)


def _leet_digits(text: str) -> set[int]:
    """Offsets of digits that stand for letters: in a run of letters and digits with at least
    two letters and at most two digits per letter ("P1k4chu", "M4r10", "Gr4f4141"), unless
    the run is a number with a unit ("35mm", "1080p")."""
    found: set[int] = set()
    if not any(ch.isdigit() for ch in text):
        return found
    for run in _ALNUM_RUN.finditer(text):
        word = run.group()
        letters = sum(ch.isalpha() for ch in word)
        digits = sum(ch.isdigit() for ch in word)
        if not digits or letters < 2 or digits > 2 * letters or _NUMBER_WORD.fullmatch(word):
            continue
        found.update(run.start() + k for k, ch in enumerate(word) if ch in LEET)
    return found


def is_deliberately_obfuscated(text: str) -> bool:
    """Spellings no one uses for a word: digits, symbols, look-alike letters or repeated
    letters ("Th0r", "Bàtmän", "Liink"), where no piece is a word in use (not "café",
    not "Bat man")."""
    words = text.split()
    if any(is_japanese(ch) for ch in text):
        return False  # kana read as romaji is a spelling, not a disguise
    return bool(words) and all(zipf(w) == 0 for w in words)


def _between_letters(text: str, i: int) -> bool:
    before = i > 0 and text[i - 1].isalpha()
    after = i + 1 < len(text) and text[i + 1].isalpha()
    return before and after


def _collapse(text: str, chars: list[str], offsets: list[int]) -> Folded:
    """Collapse repeated letters within a word; never across a separator ("from mew")."""
    out_chars: list[str] = []
    out_offsets: list[int] = []
    # text[out_offsets[-1] + 1 : alnum_to] is known to be letters and digits: each character
    # is looked at once per run, so a run of 10,000 "a" is linear, not quadratic.
    alnum_to = 0
    for ch, off in zip(chars, offsets, strict=True):
        if out_chars and out_chars[-1] == ch and not _is_cjk(ch):
            if off > alnum_to and all(c.isalnum() for c in text[alnum_to:off]):
                alnum_to = off
            if off <= alnum_to:
                continue
        out_chars.append(ch)
        out_offsets.append(off)
        alnum_to = off + 1
    return Folded("".join(out_chars), tuple(out_offsets))


def fold_name(name: str) -> str:
    return fold(name).text


def split_variants(name: str) -> set[str]:
    """The folded name with one repeated letter kept double: how the name folds when split
    right there ("Shel lder" folds to "shellder": repeats never collapse across a separator)."""
    letters = "".join(_letters(name)[0])
    return {
        fold_name(letters[: run.start() + 1]) + fold_name(letters[run.start() + 1 :])
        for run in re.finditer(r"([a-z])\1+", letters)
    }
