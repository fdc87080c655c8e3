"""What every fuzz target shares: campaign defaults and where the corpus lives.

A target is run as ``python fuzz/<target>.py [libFuzzer flags] [corpus dirs]``. Unless given,
the corpus is ``fuzz/corpus/<target>/`` (made by ``fuzz/make_seeds.py``), a unit that runs past
10 s is a hang and a process past 3 GiB is a memory blow-up; each is a crash.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
DEFAULTS = {"-timeout": "10", "-rss_limit_mb": "3072", "-print_final_stats": "1"}


def argv(target: str, max_len: int | None = None, **flags: str) -> list[str]:
    """sys.argv with the campaign defaults added and the target's seed corpus appended."""
    args = list(sys.argv)
    given = {a.split("=", 1)[0] for a in args[1:] if a.startswith("-")}
    defaults = dict(DEFAULTS)
    defaults["-artifact_prefix"] = f"{CORPUS.parent / 'crashes' / target}/"
    (CORPUS.parent / "crashes" / target).mkdir(parents=True, exist_ok=True)
    if max_len is not None:
        defaults["-max_len"] = str(max_len)
    defaults.update({f"-{k}": v for k, v in flags.items()})
    args[1:1] = [f"{k}={v}" for k, v in defaults.items() if k not in given]
    if not any(not a.startswith("-") for a in args[1:]):
        corpus = CORPUS / target
        corpus.mkdir(parents=True, exist_ok=True)
        args.append(str(corpus))
    return args


def on_scratch_file(check: Callable[[bytes, Path], object], suffix: str) -> Callable[[bytes], None]:
    """A TestOneInput for readers that take a path: ``check(data, path)`` on a file of this
    process's, removed after each input (libFuzzer ends the process without Python's exit
    handlers, so a file kept for the whole run would be left behind)."""
    path = Path(tempfile.gettempdir()) / f"kenri-fuzz-{os.getpid()}{suffix}"

    def test_one_input(data: bytes) -> None:
        try:
            check(data, path)
        finally:
            path.unlink(missing_ok=True)

    return test_one_input


def fuzz(target: str, test_one_input: Callable[[bytes], None], max_len: int, **flags: str) -> None:
    """Run ``test_one_input`` under libFuzzer with the campaign defaults (see ``argv``)."""
    import atheris

    atheris.Setup(argv(target, max_len, **flags), test_one_input)
    atheris.Fuzz()
