"""What every benchmark shares: where the evaluation data lives (../shared/eval from the project
root, or a clear skip), and the header saying when, where and on which code a run was made."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path(os.environ.get("KENRI_EVAL", ROOT.parent / "shared" / "eval"))


def require(relative: str) -> Path:
    """The path under the evaluation folder, or exit with a message saying what is missing."""
    path = EVAL / relative
    if not path.exists():
        sys.exit(f"skipped: evaluation data {path} not found (set KENRI_EVAL to its folder)")
    return path


def code_version() -> str:
    """The commit measured, with "+dirty" when kenri/ has uncommitted edits (they count too).

    Read it before the run: kenri may be edited while a long benchmark runs.
    """
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "kenri"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def run_header(benchmark: str, code: str | None = None) -> dict[str, str]:
    """benchmark, date, machine, command and code: the fields docs/benchmarks.md records."""
    return {
        "benchmark": benchmark,
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, {platform.python_version()}",
        "command": f"bench/{Path(sys.argv[0]).name} " + " ".join(sys.argv[1:]),
        "code": code or code_version(),
    }
