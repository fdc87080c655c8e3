"""Fuzz the webdataset tar reader: ``read_items(Shard(..., "tar", path))``.

Contract: every member problem (unsafe path, link, truncated or corrupt archive, unreadable
json) becomes an item with ``error`` set or an item read as far as it goes; reading never
raises. Items keep their shard name and positions never go backwards.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["kenri", "tarfile", "gzip", "json"]):
    import tarfile  # noqa: F401 - imported here so that it is instrumented

    from kenri.screening.dataset.sources import Shard, read_items

import _harness  # noqa: E402

FD, PATH = tempfile.mkstemp(suffix=".tar", prefix="kenri-fuzz-")
os.close(FD)
SHARD = Shard("fuzz", "tar", Path(PATH))


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    with open(PATH, "wb") as handle:
        handle.write(data)
    last = -1
    for item in read_items(SHARD):
        assert item.shard == "fuzz" and item.position >= last
        assert item.error is not None or item.media is not None
        assert isinstance(item.metadata, dict)
        last = item.position


if __name__ == "__main__":
    try:
        atheris.Setup(_harness.argv("webdataset", max_len=65536), TestOneInput)
        atheris.Fuzz()
    finally:
        os.unlink(PATH)
