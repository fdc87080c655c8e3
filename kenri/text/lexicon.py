"""Words: which registered names are also everyday words, and the terms two texts share.

A name that is also an English word ("Link", "Rose", "mermaid", "Iron Man") needs evidence
before it blocks: frequency comes from ``wordfreq`` (Zipf scale: 4 = once per 100k words).
Famous names are frequent too (Batman 4.2, Naruto 3.5), so frequency alone cannot tell them
from words; rarer dictionary words ("capybara", "platypus") are found in Webster's Second
(public domain, via ``english-words``), whose lower-case entries are common nouns and whose
capitalised ones ("Jupiter", "Totoro") are proper nouns, which stay names. The evidence rules in
prompt screening (capitalised, alone, corroborated) keep words caught when meant as names.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kenri.text.wordnet_nouns import wordnet_nouns

COMMON_ZIPF = 4.0  # once per 100k words
WORD_ZIPF = 3.3  # about once per 2M words: "mermaid", "tiara", also "Naruto"
STOPWORDS = frozenset(
    str.split(
        """a an the of and or but with without in on at to for from by into onto over under near
    his her its their he she it they them is are was were be been being this that these those
    as has have had who whom which what when where while wears wearing wear has having very
    character image picture photo create generate draw make show depict depicting featuring
    fictional style one two some any all each other another often usually typically also
    known well famous iconic"""
    )
)
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9d]+")


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Lower-case (common-noun) entries of Webster's Second International (1934) that modern
    text still uses, and WordNet 3.0's one-word common nouns (newer words: "croissant",
    "kachina"). A Webster entry wordfreq never saw ("dreepy", "dottler") is a word no prompt
    writer means: a name coined from it stays a name."""
    from english_words import get_english_words_set
    from wordfreq import get_frequency_dict

    in_use = get_frequency_dict("en")
    webster = get_english_words_set(["web2"], alpha=True)
    webster = (w for w in webster if w.islower() and w in in_use)
    wordnet = (w for w, flags in wordnet_nouns().items() if "c" in flags and w.isalpha())
    return frozenset([*webster, *wordnet])


def is_dictionary_word(word: str) -> bool:
    return zipf(word) >= WORD_ZIPF or word in dictionary_words()


def _lemma(text: str) -> str:
    return " ".join(text.casefold().split())


def is_real_world_name(name: str) -> bool:
    """A real named entity: a god, person or place ("Anubis", "San Francisco"), not a
    fictional one ("Donald Duck"). Its capital says nothing about which one is meant."""
    flags = wordnet_nouns().get(_lemma(name), "")
    return "r" in flags and "c" not in flags  # "Crab" (Cancer) is a crab first


def is_known_noun(phrase: str) -> bool:
    """A noun English has ("koala bear", "Rosetta Stone", "Peter Pan collar") that is not
    only a fictional character's name."""
    return bool(wordnet_nouns().get(_lemma(phrase), "").replace("f", ""))


def is_common_noun(text: str) -> bool:
    """Every word a lower-case dictionary entry ("a panda" is not, "pirate ship" is)."""
    words = text.casefold().split()
    return bool(words) and all(w in dictionary_words() for w in words)


@lru_cache(maxsize=65536)  # asked for every hit of every prompt; names repeat
def word_class(name: str) -> str:
    """ "everyday" (a frequent English word: "Link", "Rose"), "real" (a real-world named
    entity: "Anubis", "San Francisco"), "word" (a word or a phrase of words a prompt may use for
    themselves: "mermaid", "capybara", "Iron Man", "a knight") or "name" (anything else,
    including every name in another script)."""
    words = name.casefold().split()
    if len(words) > 1:  # articles do not make a phrase a name ("a knight")
        words = [w for w in words if w not in ("a", "i")] or words
    if not name.isascii() or not words or not all(w.isalpha() and len(w) > 1 for w in words):
        return "name"
    if is_real_world_name(name):
        return "real"
    if len(words) == 1 and zipf(words[0]) >= COMMON_ZIPF:
        return "everyday"
    return "word" if all(is_dictionary_word(w) for w in words) else "name"


def is_common_word(name: str) -> bool:
    return word_class(name) != "name"


def _stem(word: str) -> str:
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def terms(text: str) -> frozenset[str]:
    """Content words (lower-case, plural folded) and Japanese bigrams (kana-only particles
    such as から are left out: every Japanese sentence has them)."""
    lowered = text.casefold()
    found = {_stem(w) for w in _LATIN_WORD.findall(lowered)}
    found = {w for w in found if w not in STOPWORDS and len(w) > 1}
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            continue
        pairs = (run[i : i + 2] for i in range(len(run) - 1))
        found.update(p for p in pairs if not all("\u3040" <= ch <= "\u309f" for ch in p))
    return frozenset(found)
