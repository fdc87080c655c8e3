"""Which words and names English already has, from WordNet 3.0's nouns (Princeton; licence in
``data/WORDNET-LICENSE``).

Registered character names collide with the real world: Danbooru holds "Anubis", "San
Francisco" and "Kachina"; Marvel holds "Thor". WordNet knows the other side: "kachina" and
"croissant" are things (common nouns), "Anubis" and "San Francisco" are real named entities
(capitalised *instances*: gods, people, places), and "Koala bear" or "Rosetta Stone" are
compounds whose first word is not a name on its own. Named entities under WordNet's "imaginary
being" ("Donald Duck", "Goofy", "Cinderella") are fiction, not the real world, and stay names.

The list ships built (``data/wordnet_nouns.tsv.gz``: lemma, tab, flags: ``c`` a common noun,
``r`` a real-world named entity, ``f`` a fictional one, ``p`` another capitalised noun such as
"Peter Pan collar"). Rebuild it from WordNet's ``dict`` folder with
``python -m kenri.text.wordnet_nouns PATH/TO/wordnet-3.0``.
"""

from __future__ import annotations

import gzip
import re
import sys
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

DATA = "wordnet_nouns.tsv.gz"
# Fiction hangs below "imaginary being" (characters) and "fictional animal" (Mickey Mouse)
FICTION_ROOTS = frozenset({"09483738", "02451575"})
FICTION_GLOSS = re.compile(r"\b(fictional|cartoon|comic strip|character (in|of|created))\b")
_LEMMA = re.compile(r"^[a-z][a-z' .-]*[a-z.]$")


def build(dict_folder: Path) -> dict[str, str]:
    """lemma -> flags, from WordNet's data.noun."""
    synsets: dict[str, tuple[list[str], list[str], bool, str]] = {}
    for line in (dict_folder / "data.noun").read_text("latin-1").splitlines():
        if line.startswith(" "):
            continue
        head, _, gloss = line.partition("|")
        fields = head.split()
        offset, count = fields[0], int(fields[3], 16)
        words = [re.sub(r"\(.*\)$", "", fields[4 + 2 * i]) for i in range(count)]
        rest = fields[4 + 2 * count :]
        pointers = [rest[1 + 4 * i : 5 + 4 * i] for i in range(int(rest[0]))]
        parents = [target for symbol, target, *_ in pointers if symbol in ("@", "@i")]
        instance = any(symbol == "@i" for symbol, *_ in pointers)
        synsets[offset] = (words, parents, instance, gloss)

    @cache
    def fictional(offset: str) -> bool:
        if offset in FICTION_ROOTS or FICTION_GLOSS.search(synsets[offset][3]):
            return True
        return any(fictional(parent) for parent in synsets[offset][1])

    flags: dict[str, set[str]] = {}
    for offset, (words, _, instance, _) in synsets.items():
        for word in words:
            lemma = word.replace("_", " ").casefold()
            if not _LEMMA.match(lemma) or len(lemma) < 3:
                continue
            if word[:1].islower():
                flag = "c"
            elif instance:
                flag = "f" if fictional(offset) else "r"
            else:
                flag = "p"
            flags.setdefault(lemma, set()).add(flag)
    return {lemma: "".join(sorted(found)) for lemma, found in sorted(flags.items())}


@lru_cache(maxsize=1)
def wordnet_nouns() -> dict[str, str]:
    """lemma (case-folded, words spaced) -> flags (see the module's docstring)."""
    with resources.files("kenri.text.data").joinpath(DATA).open("rb") as raw:
        text = gzip.decompress(raw.read()).decode("utf-8")
    return dict(line.split("\t") for line in text.splitlines())


def main(argv: list[str]) -> None:
    if len(argv) != 1 or not (Path(argv[0]) / "data.noun").is_file():
        sys.exit("usage: python -m kenri.text.wordnet_nouns WORDNET_DICT_FOLDER (with data.noun)")
    lemmas = build(Path(argv[0]))
    target = Path(__file__).parent / "data" / DATA
    body = "".join(f"{lemma}\t{flags}\n" for lemma, flags in lemmas.items())
    target.write_bytes(gzip.compress(body.encode("utf-8"), mtime=0))
    print(f"{len(lemmas)} lemmas -> {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
