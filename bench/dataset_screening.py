"""Benchmark: training-data screening end to end, against the practical limits of the same shards.

Builds webdataset shards at ``--size`` px: planted copies (a transform from
``bench/transforms.py`` of a registered Pokémon artwork), the unregistered artworks, Manga109
covers and urban photos, and synthetic distractors (seeded shapes) to reach ``--items``. Every
item has a caption from PartiPrompts (real benign prompts, cycled). References: ``--refs``
Pokémon artworks, registered into a fresh data folder. Measured in one run, one core:

- pure decode (open every member and decode the image: the practical limit);
- PDQ only (decode + PDQ hash + a faiss binary-index lookup: the HMA-style baseline);
- kenri end to end (``screen_dataset``: media, caption, opt-outs, outputs) for each
  ``--runs`` engine and worker count (default: local 1 worker, Ray 1 and 2 workers), and
  whether each run's decisions equal the first run's.

Reports items/s, ratios to decode, recall on the planted copies (excluded and naming the right
work), and false exclusions among the unrelated items.

    OMP_NUM_THREADS=1 .venv/bin/python bench/dataset_screening.py [--items 2000] [--size 256]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pdqhash  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kenri  # noqa: E402
from bench.evaldata import require, run_header  # noqa: E402
from bench.transforms import FAMILIES  # noqa: E402
from kenri.fingerprints.imageio import load_image  # noqa: E402
from kenri.screening.dataset.run import screen_dataset  # noqa: E402
from kenri.screening.dataset.sources import discover, read_items  # noqa: E402


def captions() -> list[str]:
    """Real, varied captions: PartiPrompts' 1,600 prompts (benign text written by others)."""
    with open(require("prompts/benign/PartiPrompts.tsv"), encoding="utf-8") as fh:
        return [row["Prompt"] for row in csv.DictReader(fh, delimiter="\t")]


PLANT_FAMILIES = ["crop50", "pad30", "hflip", "text", "jpeg20_scale50", "hue", "screenshot"]


def synthetic(seed: int, size: int) -> np.ndarray:
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        box = (
            sorted(rng.randrange(size) for _ in range(2)),
            sorted(rng.randrange(size) for _ in range(2)),
        )
        xy = [box[0][0], box[1][0], box[0][1] + 1, box[1][1] + 1]
        draw.rectangle(xy, fill=tuple(rng.randrange(256) for _ in range(3)))
    return np.asarray(image)


def fit(rgb: np.ndarray, size: int) -> np.ndarray:
    image = Image.fromarray(rgb)
    image.thumbnail((size, size))
    return np.asarray(image.convert("RGB"))


def jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def build(folder: Path, home: Path, items: int, size: int, refs: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    arts = sorted(require("images/pokemon_art").glob("*.png"))
    registered, others = arts[:refs], arts[refs:]
    others += sorted(require("images/manga109_covers").glob("*"))[:2000]
    others += sorted(require("images/urban100").glob("*"))
    app = kenri.open(home)
    with app.transaction() as tx:
        holder = tx.registry.add_holder("The Pokémon Company", "JP")
        work = tx.registry.add_work(holder, "Pokémon")
        for path in registered:
            tx.registry.add_reference(path, work)
    app.sync_index()
    truth: dict[str, str | None] = {}
    planted = max(1, items // 20)
    texts = captions()
    folder.mkdir(parents=True, exist_ok=True)
    shard, archive, count = 0, None, 0
    for index in range(items):
        if index % 1000 == 0:
            if archive:
                archive.close()
            archive = tarfile.open(folder / f"{shard:05d}.tar", "w")  # noqa: SIM115
            shard += 1
        key = f"{index:09d}"
        if index % (items // planted) == 0 and count < planted:
            source = load_image(registered[count % len(registered)])
            family = PLANT_FAMILIES[count % len(PLANT_FAMILIES)]
            rgb, truth[key] = fit(FAMILIES[family](source, rng), size), "Pokémon"
            count += 1
        elif index % 3 == 0 and others:
            path = others[index % len(others)]
            rgb, truth[key] = fit(load_image(path), size), None
        else:
            rgb, truth[key] = synthetic(index, size), None
        for ext, data in (("jpg", jpeg(rgb)), ("txt", texts[index % len(texts)].encode())):
            info = tarfile.TarInfo(f"{key}.{ext}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    archive.close()
    return truth


def decode_only(folder: Path) -> float:
    started, n = time.perf_counter(), 0
    for shard in discover(folder):
        for item in read_items(shard):
            load_image(item.media[1])
            n += 1
    return n / (time.perf_counter() - started)


def pdq_only(folder: Path, references: list[Path]) -> float:
    """Decode, PDQ-hash and look up every item in a binary index of the references' hashes."""
    import faiss

    index = faiss.IndexBinaryFlat(256)
    for path in references:
        bits, _ = pdqhash.compute(load_image(path))
        index.add(np.packbits(bits.astype(np.uint8))[None, :])
    started, n = time.perf_counter(), 0
    for shard in discover(folder):
        for item in read_items(shard):
            bits, _ = pdqhash.compute(load_image(item.media[1]))
            index.search(np.packbits(bits.astype(np.uint8))[None, :], 1)
            n += 1
    return n / (time.perf_counter() - started)


def kenri_run(
    folder: Path, home: Path, out: Path, engine: str = "local", workers: int = 1
) -> tuple[float, list[dict]]:
    import pyarrow.parquet as pq

    app = kenri.open(home)
    with app.transaction() as tx:  # load the index, automaton and model before timing
        app.prompt_screener.screen(tx, "warm-up")
    app.screen_image(synthetic(0, 64))
    started = time.perf_counter()
    summary = screen_dataset(app, folder, out, engine=engine, workers=workers)
    rate = summary.items / (time.perf_counter() - started)
    return rate, pq.read_table(out / "decisions.parquet").to_pylist()


WORKER_PROBE = """
import resource, sys
import kenri
from kenri.screening.dataset.run import screen_dataset
app = kenri.open(sys.argv[1])
screen_dataset(app, sys.argv[2], sys.argv[3])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def worker_memory_mb(home: Path, folder: Path, out: Path) -> float:
    """Peak RSS of a fresh process that screens one shard, as an engine worker does."""
    import subprocess

    shard = folder.parent / "one-shard"
    shard.mkdir(exist_ok=True)
    first = sorted(folder.glob("*.tar"))[0]
    (shard / first.name).write_bytes(first.read_bytes())
    done = subprocess.run(
        [sys.executable, "-c", WORKER_PROBE, str(home), str(shard), str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return round(int(done.stdout.split()[-1]) / 1024, 1)


def quality(rows: list[dict], truth: dict[str, str | None]) -> dict:
    planted = [r for r in rows if truth[r["key"]]]
    unrelated = [r for r in rows if not truth[r["key"]]]
    return {
        "planted": len(planted),
        "recall_excluded": round(
            sum(r["decision"] == "exclude" and r["work"] == "Pokémon" for r in planted)
            / max(len(planted), 1),
            4,
        ),
        "unrelated": len(unrelated),
        "false_exclusions": sum(r["decision"] == "exclude" for r in unrelated),
        "false_reviews": sum(r["decision"] == "review" for r in unrelated),
        "errors": sum(r["decision"] == "error" for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--refs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--runs",
        default="local:1,ray:1,ray:2",
        help="engine:workers passes to time, comma-separated (the first is the reference)",
    )
    args = parser.parse_args()
    header = run_header("dataset_screening")
    work = Path(tempfile.mkdtemp(prefix="kenri-bench-dataset-"))
    started = time.perf_counter()
    truth = build(work / "data", work / "home", args.items, args.size, args.refs, args.seed)
    report = dict(header, items=args.items, size=args.size, refs=args.refs)
    report["build_s"] = round(time.perf_counter() - started, 1)
    report["decode_items_per_s"] = round(decode_only(work / "data"), 1)
    references = sorted(require("images/pokemon_art").glob("*.png"))[: args.refs]
    report["pdq_only_items_per_s"] = round(pdq_only(work / "data", references), 1)
    report["worker_peak_rss_mb"] = worker_memory_mb(work / "home", work / "data", work / "probe")
    report["index_mb"] = round(
        sum(f.stat().st_size for f in (work / "home" / "index").rglob("*") if f.is_file()) / 2**20,
        1,
    )
    print(json.dumps(report), file=sys.stderr, flush=True)
    first: list[dict] | None = None
    for run in args.runs.split(","):
        engine, workers = run.split(":")
        label = f"{engine}_{workers}"
        rate, rows = kenri_run(
            work / "data", work / "home", work / f"out-{label}", engine, int(workers)
        )
        per_core = rate / int(workers)
        report[label] = {
            "items_per_s": round(rate, 1),
            "items_per_s_per_worker": round(per_core, 1),
            "ratio_to_decode": round(per_core / report["decode_items_per_s"], 3),
            "ratio_to_pdq_only": round(per_core / report["pdq_only_items_per_s"], 3),
            **quality(rows, truth),
        }
        if first is None:
            first = rows
        else:
            report[label]["decisions_equal_to_first"] = rows == first
        print(label, json.dumps(report[label]), file=sys.stderr, flush=True)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
