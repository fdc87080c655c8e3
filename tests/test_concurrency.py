"""Screening is shared between threads (the service): answers under concurrency equal the
sequential ones, and the registry changing meanwhile neither breaks nor tears a screening."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import kenri
from kenri.concurrency import ReadWriteLock
from kenri.demo.run import write_catalog
from kenri.fingerprints.imageio import load_image
from tests.test_screen_media import edits, unrelated_picture

PROMPTS = [
    "Hoshimaru on a beach",
    "ほしまる and Kumo-chan",
    "Captain Comet flying over a city",
    "a bowl of ramen on a wooden table",
    "an anime girl in a school uniform",
    "H0shimaru at night",
]


def test_writer_waits_for_readers_and_readers_wait_for_a_waiting_writer():
    lock = ReadWriteLock()
    events: list[str] = []
    reading, release_reader = threading.Event(), threading.Event()

    def reader() -> None:
        with lock.read():
            events.append("read")
            reading.set()
            release_reader.wait(5)
        events.append("read done")

    def writer() -> None:
        with lock.write():
            events.append("write")

    def late_reader() -> None:
        with lock.read():
            events.append("late read")

    first = threading.Thread(target=reader)
    first.start()
    assert reading.wait(5)
    second = threading.Thread(target=writer)
    second.start()
    time.sleep(0.1)
    third = threading.Thread(target=late_reader)
    third.start()
    time.sleep(0.1)
    assert events == ["read"]  # the writer waits for the reader; the late reader for the writer
    release_reader.set()
    for thread in (first, second, third):
        thread.join(5)
    assert events[:3] == ["read", "read done", "write"]
    assert events[3] == "late read"


@pytest.fixture
def registry(app: kenri.Kenri, tmp_path: Path) -> kenri.Kenri:
    from kenri.catalog import import_catalog

    assert not import_catalog(app, write_catalog(tmp_path / "catalog")).errors
    return app


def _answer(app: kenri.Kenri, query) -> tuple:
    if isinstance(query, str):
        with app.transaction() as tx:
            result = app.prompt_screener.screen(tx, query)
        return result.decision, [(m.character, m.reason) for m in result.matches]
    result = app.screen_image(query)
    return result.decision, [m.character for m in result.matches[:1]]


def test_threads_get_the_sequential_answers_while_the_registry_grows(registry, tmp_path):
    art = tmp_path / "catalog" / "art"
    queries: list = list(PROMPTS)
    for name in ("hoshimaru", "captain_comet"):
        picked = edits(load_image(art / f"{name}.png"))
        queries += [np.ascontiguousarray(picked[k]) for k in ("crop", "flip", "pasted")]
    queries += [unrelated_picture(seed) for seed in range(3)]
    expected = [_answer(registry, q) for q in queries]

    stop = threading.Event()

    def grow() -> int:
        """Add works with a reference each, over and over: each forces an index sync."""
        added = 0
        while not stop.is_set() and added < 6:
            picture = tmp_path / f"new{added}.png"
            Image.fromarray(unrelated_picture(100 + added)).save(picture)
            with registry.transaction() as tx:
                work = tx.registry.add_work(tx.registry.holder("Studio Kumo"), f"Zyxquor{added}")
                tx.registry.add_reference(picture, work)
            added += 1
        return added

    with ThreadPoolExecutor(4) as pool:
        writer = pool.submit(grow)
        answers = list(pool.map(lambda q: _answer(registry, q), queries * 3))
        stop.set()
        assert writer.result() >= 1
    assert answers == expected * 3
    # The new references and names were taken in: the last one is found.
    assert registry.screen_image(unrelated_picture(100)).decision == "block"
    assert registry.screen_prompt("Zyxquor0 in the rain").decision != "allow"
