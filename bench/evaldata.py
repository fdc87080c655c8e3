"""Where the evaluation data lives (../shared/eval from the project root), or a clear skip."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path(os.environ.get("KENRI_EVAL", ROOT.parent / "shared" / "eval"))


def require(relative: str) -> Path:
    """The path under the evaluation folder, or exit with a message saying what is missing."""
    path = EVAL / relative
    if not path.exists():
        sys.exit(f"skipped: evaluation data {path} not found (set KENRI_EVAL to its folder)")
    return path
