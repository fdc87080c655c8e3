"""Fuzz ``kenri.fingerprints.imageio.load_image(bytes)``.

Contract: an RGB uint8 array (height x width x 3) or ``MediaError``; anything else is a bug.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["kenri", "PIL"]):
    from contracts import check_image

import _harness  # noqa: E402


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    check_image(data)


if __name__ == "__main__":
    _harness.fuzz("images", TestOneInput, max_len=65536)
