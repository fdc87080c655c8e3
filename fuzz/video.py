"""Fuzz ``kenri.fingerprints.video.sample_frames(path)`` on bytes written to a temp file.

Contract: every frame an RGB uint8 array, or ``MediaError``; anything else is a bug.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["kenri"]):
    from contracts import check_video

import _harness  # noqa: E402

FD, PATH = tempfile.mkstemp(suffix=".mp4", prefix="kenri-fuzz-")
os.close(FD)


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    check_video(data, Path(PATH))

if __name__ == "__main__":
    try:
        atheris.Setup(_harness.argv("video", max_len=65536), TestOneInput)
        atheris.Fuzz()
    finally:
        os.unlink(PATH)
