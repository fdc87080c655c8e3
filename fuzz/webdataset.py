"""Fuzz the webdataset tar reader: ``read_items(Shard(..., "tar", path))``.

Contract: every member problem (unsafe path, link, truncated or corrupt archive, unreadable
json) becomes an item with ``error`` set or an item read as far as it goes; reading never
raises. Items keep their shard name and positions never go backwards.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["kenri", "tarfile", "gzip", "json"]):
    import tarfile  # noqa: F401 - imported here so that it is instrumented

    from contracts import read_tar

import _harness  # noqa: E402

TestOneInput = _harness.on_scratch_file(read_tar, ".tar")  # noqa: N816 - atheris's name


if __name__ == "__main__":
    _harness.fuzz("webdataset", TestOneInput, max_len=65536)
