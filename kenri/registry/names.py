"""What script a name is written in, and the key used to look names up.

Only a lookup key lives here (NFKC + casefold); the matching normalisation for prompts
(confusables, romaji variants, leetspeak) belongs to prompt screening.
"""

from __future__ import annotations

import unicodedata

SCRIPTS = ("kanji", "kana", "latin", "hangul", "cyrillic", "greek", "mixed", "other")


def name_key(text: str) -> str:
    """Case- and width-insensitive form of a name: 'ＰＩＫＡＣＨＵ ' and 'pikachu' agree."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _char_script(ch: str) -> str | None:
    cp = ord(ch)
    if 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9D:
        return "kana"
    if 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF or ch == "々":
        return "kanji"
    if 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F:
        return "hangul"
    if 0x0400 <= cp <= 0x04FF:
        return "cyrillic"
    if 0x0370 <= cp <= 0x03FF:
        return "greek"
    if ch.isalpha():
        name = unicodedata.name(ch, "")
        return "latin" if name.startswith(("LATIN", "FULLWIDTH LATIN")) else "other"
    return None  # digits, punctuation, spaces say nothing about the script


def detect_script(text: str) -> str:
    """Classify a name: Japanese with any kanji is 'kanji', pure kana 'kana', and so on.

    Latin-script names cannot be told apart as romaji or English by their letters alone; a
    catalog may say so explicitly (``{"text": "Pikachuu", "script": "romaji"}``).
    """
    seen = {s for s in map(_char_script, text) if s}
    if not seen:
        return "other"
    if seen <= {"kanji", "kana"}:
        return "kanji" if "kanji" in seen else "kana"
    if len(seen) == 1:
        return seen.pop()
    if seen <= {"kanji", "kana", "latin"}:
        return "kanji" if "kanji" in seen else "kana"  # e.g. "ドラえもんZ"
    return "mixed"
