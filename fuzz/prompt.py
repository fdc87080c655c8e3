"""Fuzz prompt normalisation: ``kenri.screening.prompt.normalize.fold`` and
``is_deliberately_obfuscated`` on hostile unicode (any code point, lone surrogates included).

Contract: never raises; one offset per folded character, each inside the original text and
never going backwards; and no hang: an API prompt is at most 10,000 characters, so one
input of up to 20,000 characters taking over 2 s (about 1,000x the usual) is a bug.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["kenri"]):
    from contracts import check_prompt

    from kenri.screening.prompt.normalize import is_deliberately_obfuscated

import _harness  # noqa: E402


def TestOneInput(data: bytes) -> None:  # noqa: N802 - the name atheris expects
    fdp = atheris.FuzzedDataProvider(data)
    text = fdp.ConsumeUnicode(20_000) if fdp.ConsumeBool() else data.decode("utf-8", "replace")
    check_prompt(text)


if __name__ == "__main__":
    is_deliberately_obfuscated("warm")  # the first call loads the word lists (about 1 s)
    _harness.fuzz("prompt", TestOneInput, max_len=40_000)
