"""Screen a whole dataset, shard by shard, resumably.

Each shard's outputs are written atomically and its part file last, so a run killed at any
moment (even ``kill -9``) and started again skips the finished shards and ends with the same
outputs as an uninterrupted run: the final files are rebuilt from the part files in shard
order. ``engine="local"`` screens shards in a process pool (``workers``), each worker with its
own connection to the registry; ``engine="ray"`` hands the shards to Ray Data (``ray.init()``
locally, or ``ray_address`` for a cluster), each Ray worker opening the registry once. Both
write the same files, so a run may even be resumed with the other engine.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kenri.config import Settings
from kenri.errors import InvalidInput
from kenri.files import write_atomically
from kenri.screening.dataset.report import render_html
from kenri.screening.dataset.screen import COLUMNS, Options, part_path, screen_shard
from kenri.screening.dataset.sources import Shard, discover

if TYPE_CHECKING:
    from kenri.app import Kenri

ENGINES = ("local", "ray")


@dataclass
class DatasetSummary:
    items: int
    decisions: dict[str, int]
    shards: int
    shards_resumed: int
    out: Path

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "out": str(self.out)}

    def line(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.decisions.items()))
        return (
            f"{self.items} items in {self.shards} shards ({self.shards_resumed} already done): "
            f"{counts}; outputs in {self.out}"
        )


def screen_dataset(
    app: Kenri,
    source: str | Path,
    out: str | Path,
    licensee: str | None = None,
    territory: str | None = None,
    engine: str = "local",
    workers: int = 1,
    exclude_review: bool = False,
    ray_address: str | None = None,
    caption_descriptions: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> DatasetSummary:
    """Screen every shard not yet done; ``progress(done, total)`` hears each finished shard
    (it may raise to stop the run: finished shards are kept, a later run resumes)."""
    if engine not in ENGINES:
        raise InvalidInput(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    out = Path(out)
    shards = discover(Path(source))
    options = Options(licensee, territory, exclude_review, caption_descriptions)
    if licensee:
        with app.transaction() as tx:
            tx.registry.licensee(licensee)  # an unknown licensee fails before any work
    todo = [s for s in shards if not part_path(out, s).exists()]
    if engine == "ray" and todo:
        _run_on_ray(app.settings, todo, out, options, workers, ray_address)
    elif workers <= 1 or len(todo) <= 1:
        for done, shard in enumerate(todo, len(shards) - len(todo) + 1):
            screen_shard(app, shard, out, options)
            if progress is not None:
                progress(done, len(shards))
    else:
        context = get_context("spawn")  # a fresh interpreter: no inherited connections
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_open_worker, initargs=(app.settings,)
        ) as pool:
            finished = pool.map(_screen_in_worker, todo, [out] * len(todo), [options] * len(todo))
            for done, _ in enumerate(finished, len(shards) - len(todo) + 1):
                if progress is not None:
                    progress(done, len(shards))
    rows = [row for shard in shards for row in _load_part(out, shard)]
    write_decisions(out / "decisions.parquet", rows)
    report = holder_report(rows)
    write_atomically(
        out / "report.json",
        lambda tmp: Path(tmp).write_text(json.dumps(report, indent=1, ensure_ascii=False)),
    )
    write_atomically(out / "report.html", lambda tmp: Path(tmp).write_text(render_html(report)))
    return DatasetSummary(
        items=len(rows),
        decisions=dict(Counter(r["decision"] for r in rows)),
        shards=len(shards),
        shards_resumed=len(shards) - len(todo),
        out=out,
    )


_worker_app: Kenri | None = None


def _open_worker(settings: Settings) -> None:
    global _worker_app
    import kenri

    _worker_app = kenri.open(settings.home, settings.db_url, descriptor=settings.descriptor)


def _screen_in_worker(shard: Shard, out: Path, options: Options) -> int:
    assert _worker_app is not None
    return len(screen_shard(_worker_app, shard, out, options))


class _RayShardScreener:
    """One per Ray worker: opens the registry once, then screens the shards it is handed."""

    def __init__(self, settings: Settings, shards: list[Shard], out: Path, options: Options):
        import kenri

        self.app = kenri.open(settings.home, settings.db_url, descriptor=settings.descriptor)
        self.shards, self.out, self.options = shards, out, options

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        shard = self.shards[row["index"]]
        return {
            "shard": shard.name,
            "items": len(screen_shard(self.app, shard, self.out, self.options)),
        }


def _run_on_ray(
    settings: Settings,
    shards: list[Shard],
    out: Path,
    options: Options,
    workers: int,
    address: str | None,
) -> None:
    try:
        import ray
    except ImportError as exc:
        raise InvalidInput("the ray engine needs Ray: pip install 'kenri[ray]'") from exc
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=max(workers, 1), include_dashboard=False, log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    items = ray.data.from_items(
        [{"index": i} for i in range(len(shards))], override_num_blocks=len(shards)
    )
    screened = items.map(
        _RayShardScreener,
        fn_constructor_args=(settings, shards, out, options),
        concurrency=max(workers, 1),
    )
    screened.take_all()


def _load_part(out: Path, shard: Shard) -> list[dict[str, Any]]:
    return json.loads(part_path(out, shard).read_text("utf-8"))


def write_decisions(path: Path, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("shard", pa.string()),
            ("position", pa.int64()),
            ("key", pa.string()),
            ("decision", pa.string()),
            ("reasons", pa.list_(pa.string())),
            ("holder", pa.string()),
            ("work", pa.string()),
            ("character", pa.string()),
            ("score", pa.float64()),
            ("grant", pa.string()),
            ("evidence", pa.string()),
            ("error", pa.string()),
        ]
    )
    assert [f.name for f in schema] == COLUMNS
    table = pa.Table.from_pylist(rows, schema=schema)
    write_atomically(path, lambda tmp: pq.write_table(table, tmp))


REPORT_ITEMS_PER_HOLDER = 200  # listed in the report; decisions.parquet has every one
ITEM_FIELDS = ("shard", "key", "decision", "work", "character", "score", "grant")


def holder_report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per rights holder: what was found, excluded and licensed, by work."""
    holders: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "found": 0,
            "excluded": 0,
            "review": 0,
            "licensed": 0,
            "works": Counter(),
            "items": [],
        }
    )
    for row in rows:
        if not row["holder"]:
            continue
        entry = holders[row["holder"]]
        entry["found"] += 1
        entry["works"][row["work"]] += 1
        if len(entry["items"]) < REPORT_ITEMS_PER_HOLDER:
            entry["items"].append({k: row[k] for k in ITEM_FIELDS})
        if row["grant"]:
            entry["licensed"] += 1
        elif row["decision"] == "exclude":
            entry["excluded"] += 1
        elif row["decision"] == "review":
            entry["review"] += 1
    return {
        "items": len(rows),
        "decisions": dict(Counter(r["decision"] for r in rows)),
        "opt_outs": sum(any(x.startswith("opt-out") for x in r["reasons"]) for r in rows),
        "errors": [
            {"shard": r["shard"], "key": r["key"], "error": r["error"]}
            for r in rows
            if r["decision"] == "error"
        ],
        "holders": {
            name: {**entry, "works": dict(entry["works"].most_common())}
            for name, entry in sorted(holders.items())
        },
    }
