"""Benchmark: prompt folding on long runs of one letter, against the code before the fix.

Fuzzing found that collapsing repeated letters rescanned the run for every letter (quadratic).
This times ``fold`` of a given earlier revision (read with ``git show``) and of the current code
in one process, on the same prompts.

    .venv/bin/python bench/prompt_folding.py [--before a90afe9~1]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kenri.screening.prompt.normalize as current  # noqa: E402

MODULE = "kenri/screening/prompt/normalize.py"


def load_revision(revision: str):
    source = subprocess.run(["git", "show", f"{revision}:{MODULE}"], capture_output=True,
                            text=True, check=True).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "normalize_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("normalize_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def seconds(module, text: str) -> float:
    start = time.perf_counter()
    module.fold(text)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="a90afe9~1", help="git revision before the fix")
    args = parser.parse_args()
    before = load_revision(args.before)
    prompts = [(f"{n:,} x 'a'", "a" * n) for n in (2_000, 10_000, 20_000)]
    prompts.append(("ordinary text, 19,200 characters", "a quiet yellow mouse in a field " * 600))
    print("| prompt | before | after | ratio |\n|---|---|---|---|")
    for label, text in prompts:
        old, new = seconds(before, text), seconds(current, text)
        print(f"| {label} | {old:.3f} s | {new:.3f} s | {old / new:.1f}x |")


if __name__ == "__main__":
    main()
