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

    from contracts import read_tar

import _harness  # noqa: E402

FD, PATH = tempfile.mkstemp(suffix=".tar", prefix="kenri-fuzz-")
os.close(FD)


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    read_tar(data, Path(PATH))

if __name__ == "__main__":
    try:
        atheris.Setup(_harness.argv("webdataset", max_len=65536), TestOneInput)
        atheris.Fuzz()
    finally:
        os.unlink(PATH)
