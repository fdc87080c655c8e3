"""Fuzz ``kenri.fingerprints.imageio.load_image(bytes)``.

Contract: an RGB uint8 array (height x width x 3) or ``MediaError``; anything else is a bug.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["kenri", "PIL"]):
    from kenri.errors import MediaError
    from kenri.fingerprints.imageio import load_image

import _harness  # noqa: E402


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    try:
        rgb = load_image(data)
    except MediaError:
        return
    assert rgb.dtype.name == "uint8" and rgb.ndim == 3 and rgb.shape[2] == 3, rgb.shape


if __name__ == "__main__":
    atheris.Setup(_harness.argv("images", max_len=65536), TestOneInput)
    atheris.Fuzz()
