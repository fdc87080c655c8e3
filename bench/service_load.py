"""Benchmark: the REST service under concurrent load against in-process screening, same run.

Sets up a registry (the demo catalog plus ``--refs`` Pokémon artworks as references), a
licensee tenant and its key; measures in-process throughput of prompt and image screening (one
thread, per item and as a batch: see ``InProcess``) and, on loopback, ``kenri serve --workers
W`` with a bounded number of requests from ``--concurrency`` client threads. The passes
alternate for ``--rounds`` rounds, so that a shared machine's changing speed does not land on
one side. Reports throughput per round and the service/in-process ratios (medians of the
rounds), p50/p99 latency over all rounds, and errors per kind.
PostgreSQL by default (a fresh schema in ``--pg``), as the service runs in production.

    OMP_NUM_THREADS=1 .venv/bin/python bench/service_load.py [--rounds 3] [--concurrency 2]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
from PIL import Image  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kenri  # noqa: E402
from bench.evaldata import require, run_header  # noqa: E402
from kenri.catalog import import_catalog  # noqa: E402
from kenri.demo.run import generated_outputs, write_catalog  # noqa: E402
from kenri.service.tenants import Tenants  # noqa: E402

LICENSEE = "Load Test AI"


def fresh_schema(pg: str) -> tuple[str, str]:
    schema = f"kenri_load_{uuid.uuid4().hex[:10]}"
    with create_engine(pg).begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(pg).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def setup(home: Path, db: str, refs: int) -> str:
    app = kenri.open(home, db)
    import_catalog(app, write_catalog(home / "catalog"))
    with app.transaction() as tx:
        holder = tx.registry.add_holder("The Pokémon Company", "JP")
        work = tx.registry.add_work(holder, "Pokémon")
        for path in sorted(require("images/pokemon_art").glob("*.png"))[:refs]:
            tx.registry.add_reference(path, work)
        tenants = Tenants(tx.registry, "bench")
        key = tenants.issue_key(tenants.create(LICENSEE, "licensee"))[1]
    app.sync_index()
    app.close()
    return key


def inputs(home: Path, count_images: int) -> tuple[list[str], list[bytes]]:
    with open(require("prompts/benign/PartiPrompts.tsv"), encoding="utf-8") as fh:
        prompts = [row["Prompt"] for row in csv.DictReader(fh, delimiter="\t")]
    prompts += ["Hoshimaru on a beach", "ほしまる and Kumo-chan", "Captain Comet flying"]
    images = []
    sources = generated_outputs(home / "outputs")
    sources += sorted(require("images/pokemon_art").glob("*.png"))[:10]
    sources += sorted(require("images/urban100").glob("*"))[:10]
    for path in sources[:count_images]:
        image = Image.open(path).convert("RGB")
        image.thumbnail((512, 512))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        images.append(buffer.getvalue())
    return prompts, images


class InProcess:
    """One thread calling kenri directly (what one request does), the app kept open.

    Two ways a Python caller screens: ``call`` is the public API once per item
    (``Kenri.screen_prompt`` / ``screen_image``: a transaction each, as a request has); ``batch``
    is the batch API (``screen_prompts`` / ``screen_images``: one transaction for all).
    """

    def __init__(self, home: Path, db: str, prompts: list[str], images: list[bytes]) -> None:
        self.app = kenri.open(home, db)
        self.prompts, self.images = prompts, images
        self.app.screen_prompt("warm-up", licensee=LICENSEE)  # model, automaton, index
        self.app.screen_image(images[0], licensee=LICENSEE)

    def run(self, kind: str, n: int, batch: bool) -> tuple[float, list[float]]:
        """Items per second and each item's latency (s; a prompt batch answers all at once)."""
        items = self.prompts if kind == "prompt" else self.images
        one = self.app.screen_prompt if kind == "prompt" else self.app.screen_image
        many = self.app.screen_prompts if kind == "prompt" else self.app.screen_images
        work = (items[i % len(items)] for i in range(n))
        latencies = []
        started = t0 = time.perf_counter()
        results = (
            many(work, licensee=LICENSEE) if batch else (one(x, licensee=LICENSEE) for x in work)
        )
        for _ in results:
            latencies.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
        return n / (time.perf_counter() - started), latencies

    def close(self) -> None:
        self.app.close()


def percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load(
    base: str, key: str, kind: str, payloads: list, n: int, concurrency: int, batch: int = 1
) -> tuple[float, list[float], int]:
    """Items per second, each request's latency (s) and the count of non-200 answers.

    ``batch`` > 1 (prompts only): ``n`` prompts sent ``batch`` at a time to the batch endpoint.
    """
    local = threading.local()  # one keep-alive client per client thread
    requests = -(-n // batch)

    def one(i: int) -> tuple[float, int]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
            )
        client = local.client
        started = time.perf_counter()
        if kind == "prompt" and batch > 1:
            chunk = [payloads[j % len(payloads)] for j in range(i * batch, min(n, (i + 1) * batch))]
            response = client.post("/v1/screen/prompts", json={"prompts": chunk})
        elif kind == "prompt":
            response = client.post(
                "/v1/screen/prompt", json={"prompt": payloads[i % len(payloads)]}
            )
        else:
            response = client.post(
                "/v1/screen/image", files={"file": ("x.jpg", payloads[i % len(payloads)])}
            )
        return time.perf_counter() - started, response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - started
    return n / elapsed, [r[0] for r in results], sum(code != 200 for _, code in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=300, help="per round")
    parser.add_argument("--images", type=int, default=60, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating passes of each")
    parser.add_argument("--refs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50,
                        help="prompts per request on the batch endpoint")  # fmt: skip
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="service worker processes (kenri serve --workers)")  # fmt: skip
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    report = run_header("service_load")
    home = Path(tempfile.mkdtemp(prefix="kenri-bench-load-"))
    db, schema = (
        (f"sqlite:///{home / 'registry.sqlite'}", None) if args.sqlite else fresh_schema(args.pg)
    )
    report["database"] = "sqlite" if args.sqlite else "postgresql"
    report["workers"], report["concurrency"] = args.workers, args.concurrency
    key = setup(home, db, args.refs)
    prompts, images = inputs(home, 23)
    direct = InProcess(home, db, prompts, images)
    port = free_port()
    env = dict(os.environ, KENRI_HOME=str(home), KENRI_DB=db)
    server = subprocess.Popen(
        [sys.executable, "-m", "kenri", "serve", "--port", str(port),
         "--workers", str(args.workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        load(base, key, "prompt", prompts, 20, 2)  # warm-up: model, automaton, index
        load(base, key, "image", images, 5, 2)
        counts = {"prompt": (prompts, args.prompts), "image": (images, args.images)}
        for kind, (payloads, n) in counts.items():
            rounds, direct_latencies, service_latencies, errors = [], [], [], 0
            batch_latencies: list[float] = []
            for number in range(args.rounds):  # alternate, so the machine's drift cancels
                round_ = {}
                for way in ("call", "batch")[:: 1 if number % 2 else -1]:
                    rate, latencies = direct.run(kind, n, batch=way == "batch")
                    direct_latencies += latencies if way == "call" else []
                    round_[f"in_process_{way}_per_s"] = round(rate, 1)
                rate, latencies, failed = load(base, key, kind, payloads, n, args.concurrency)
                service_latencies += latencies
                errors += failed
                round_["service_per_s"] = round(rate, 1)
                for way in ("call", "batch"):
                    round_[f"ratio_to_{way}"] = round(rate / round_[f"in_process_{way}_per_s"], 3)
                if kind == "prompt":  # like with like: the batch endpoint against the batch API
                    rate, latencies, failed = load(
                        base, key, kind, payloads, n, args.concurrency, args.batch
                    )
                    batch_latencies += latencies
                    errors += failed
                    round_["service_batch_per_s"] = round(rate, 1)
                    round_["batch_ratio_to_batch"] = round(
                        rate / round_["in_process_batch_per_s"], 3
                    )
                rounds.append(round_)
            report[kind] = {
                "rounds": rounds,
                **{f"median_ratio_to_{way}": statistics.median(r[f"ratio_to_{way}"] for r in rounds)
                   for way in ("call", "batch")},
                "in_process_call": percentiles(direct_latencies),
                "service": {"requests": len(service_latencies), "errors": errors,
                            **percentiles(service_latencies)},
            }  # fmt: skip
            if batch_latencies:
                report[kind]["median_batch_ratio_to_batch"] = statistics.median(
                    r["batch_ratio_to_batch"] for r in rounds
                )
                report[kind]["service_batch"] = {
                    "prompts_per_request": args.batch,
                    "requests": len(batch_latencies),
                    **percentiles(batch_latencies),
                }
            print(kind, json.dumps(report[kind]), file=sys.stderr, flush=True)
    finally:
        server.terminate()
        server.wait(10)
        direct.close()
        if schema:
            with create_engine(args.pg).begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
