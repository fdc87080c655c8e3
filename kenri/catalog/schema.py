"""One catalog line, parsed and validated before anything touches the registry.

A line is a JSON object::

    {"holder": "The Pokémon Company", "country": "JP", "work": "Pokémon",
     "work_titles": ["ポケットモンスター"],
     "character": "Pikachu", "names": ["Pikachu", "ピカチュウ", {"text": "Pikachuu",
     "script": "romaji"}], "descriptions": ["small yellow electric mouse ..."],
     "references": ["art/025.png"]}

``holder`` and ``work`` are required; ``character`` may be null (the work as a whole, and then
``names``, ``descriptions`` and ``references`` describe the work). Reference paths are relative
to the catalog file's folder (absolute paths are accepted too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenri.errors import InvalidInput
from kenri.registry.registry import NameSpec

MAX_LINE_BYTES = 1_000_000
MAX_ITEMS = 1_000
KNOWN_FIELDS = {
    "holder",
    "country",
    "work",
    "work_titles",
    "character",
    "names",
    "descriptions",
    "references",
}


@dataclass(frozen=True)
class CatalogEntry:
    holder: str
    country: str | None
    work: str
    work_titles: tuple[NameSpec, ...] = ()
    character: str | None = None
    names: tuple[NameSpec, ...] = ()
    descriptions: tuple[str, ...] = ()
    references: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def subject_key(self) -> tuple[str, str, str | None]:
        return (self.holder, self.work, self.character)


def _text(obj: dict[str, Any], key: str, required: bool) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise InvalidInput(f"missing field {key!r}")
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"field {key!r} must be a non-empty string")
    return value.strip()


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"field {key!r} must be a list")
    if len(value) > MAX_ITEMS:
        raise InvalidInput(f"field {key!r} has more than {MAX_ITEMS} items")
    return value


def _names(obj: dict[str, Any], key: str) -> tuple[NameSpec, ...]:
    specs = []
    for item in _list(obj, key):
        if isinstance(item, str):
            spec = NameSpec(item)
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            script, lang = item.get("script"), item.get("lang")
            if script is not None and not isinstance(script, str):
                raise InvalidInput(f"{key}: 'script' must be a string")
            if lang is not None and not isinstance(lang, str):
                raise InvalidInput(f"{key}: 'lang' must be a string")
            spec = NameSpec(item["text"], script, lang)
        else:
            raise InvalidInput(f"{key}: each name is a string or {{'text': ..., 'script': ...}}")
        specs.append(spec.resolved())
    return tuple(specs)


def parse_line(line: str, base_dir: Path) -> CatalogEntry | None:
    """Parse one line; None for a blank line. Raises ``InvalidInput`` with the reason."""
    if len(line.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
        raise InvalidInput(f"line longer than {MAX_LINE_BYTES} bytes")
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:  # ValueError: also an int past 4,300 digits
        raise InvalidInput(f"invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidInput("a catalog line must be a JSON object")
    unknown = sorted(set(obj) - KNOWN_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(map(repr, unknown))}")
    descriptions = []
    for item in _list(obj, "descriptions"):
        if not isinstance(item, str):
            raise InvalidInput("descriptions must be strings")
        if item.strip():
            descriptions.append(item.strip())
    references = []
    for item in _list(obj, "references"):
        if not isinstance(item, str) or not item.strip() or "\x00" in item:
            raise InvalidInput("references must be file paths (strings)")
        path = Path(item)
        references.append(path if path.is_absolute() else base_dir / path)
    return CatalogEntry(
        holder=_text(obj, "holder", required=True),
        country=_text(obj, "country", required=False),
        work=_text(obj, "work", required=True),
        work_titles=_names(obj, "work_titles"),
        character=_text(obj, "character", required=False),
        names=_names(obj, "names"),
        descriptions=tuple(descriptions),
        references=tuple(references),
    )
