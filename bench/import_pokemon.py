"""Benchmark: import the 809-Pokémon catalog built from ../shared/eval.

Builds ``catalog.jsonl`` (names from ``names/pokemon_json/pokedex.json`` in English, Japanese,
Chinese and French, official romaji from PokeAPI when present; images from
``images/pokemon_art/NNN.png``), imports it into a fresh data folder, imports it again
(idempotent path), and measures in the same run the floor: decoding and hashing the same images
without any database work. Prints one JSON object.

    .venv/bin/python bench/import_pokemon.py [--db URL]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kenri  # noqa: E402
from bench.evaldata import require, run_header  # noqa: E402
from kenri.catalog import import_catalog  # noqa: E402
from kenri.registry.media import probe_media  # noqa: E402


def build_catalog(folder: Path) -> tuple[Path, list[Path]]:
    pokedex = json.loads(require("names/pokemon_json/pokedex.json").read_text(encoding="utf-8"))
    art = require("images/pokemon_art")
    romaji: dict[int, str] = {}
    multilang = art.parent.parent / "names" / "pokeapi" / "pokemon_names_multilang.csv"
    if multilang.exists():
        with open(multilang, encoding="utf-8") as fh:
            romaji = {
                int(r["species_id"]): r["ja-roma"] for r in csv.DictReader(fh) if r["ja-roma"]
            }
    folder.mkdir(parents=True, exist_ok=True)
    catalog = folder / "catalog.jsonl"
    images = []
    with open(catalog, "w", encoding="utf-8") as out:
        for entry in pokedex:
            names = [n for n in entry["name"].values() if n]
            if entry["id"] in romaji:
                names.append({"text": romaji[entry["id"]], "script": "romaji", "lang": "ja"})
            # Two files carry a suffix upstream (662r.png, 740le.png): match NNN*.png.
            found = sorted(art.glob(f"{entry['id']:03d}*.png"))
            image = found[0] if found else art / f"{entry['id']:03d}.png"
            images.append(image)
            line = {
                "holder": "The Pokémon Company",
                "country": "JP",
                "work": "Pokémon",
                "character": entry["name"]["english"],
                "names": names,
                "descriptions": [],
                "references": [os.path.relpath(image, folder)],
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return catalog, images


@contextmanager
def fresh_database(db_url: str | None) -> Iterator[str | None]:
    """PostgreSQL: a fresh schema for this run, dropped afterwards. SQLite: the default."""
    if not db_url or not db_url.startswith("postgresql"):
        yield db_url
        return
    schema = f"kenri_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(db_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: SQLite in a temporary data folder)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kenri-bench-"))
    try:
        catalog, images = build_catalog(work / "catalog")

        start = time.perf_counter()
        for image in images:
            if image.exists():
                probe_media(image)  # the floor: decode + hash, no database
        floor_s = time.perf_counter() - start

        with fresh_database(args.db) as db_url, kenri.open(work / "home", db_url) as k:
            start = time.perf_counter()
            first = import_catalog(k, catalog)
            import_s = time.perf_counter() - start
            start = time.perf_counter()
            second = import_catalog(k, catalog)
            reimport_s = time.perf_counter() - start
            with k.transaction() as tx:
                characters = len(tx.registry.characters())
                references = len(tx.registry.references())
        result = {
            **run_header("import_pokemon"),
            "db": "sqlite" if not args.db else args.db.split(":")[0],
            "lines": len(first.lines),
            "created": first.count("created"),
            "errors": len(first.errors),
            "characters": characters,
            "references": references,
            "reimport_unchanged": second.count("unchanged"),
            "import_s": round(import_s, 2),
            "reimport_s": round(reimport_s, 2),
            "decode_hash_floor_s": round(floor_s, 2),
            "import_vs_floor": round(import_s / floor_s, 2),
            "lines_per_s": round(len(first.lines) / import_s, 1),
        }
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
