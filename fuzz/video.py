"""Fuzz ``kenri.fingerprints.video.sample_frames(path)`` on bytes written to a temp file.

Contract: every frame an RGB uint8 array, or ``MediaError``; anything else is a bug.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["kenri"]):
    from contracts import check_video

import _harness  # noqa: E402

TestOneInput = _harness.on_scratch_file(check_video, ".mp4")  # noqa: N816 - atheris's name


if __name__ == "__main__":
    _harness.fuzz("video", TestOneInput, max_len=65536)
