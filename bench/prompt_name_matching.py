"""Names-only prompt screening time on long prompts: what kenri adds to the text model where
the tail latency is (the longest prompts carry the most name hits).

    python bench/prompt_name_matching.py [--prompts 300] [--passes 5]

Uses the registry that ``bench/prompt_screening.py`` builds (``--home``) and its prompt sets;
times ``screen(..., descriptions=False)`` (no model call) on the longest prompts, best of
several passes, so two revisions can be compared in one session (run one from a worktree).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kenri  # noqa: E402
from bench.evaldata import run_header  # noqa: E402
from bench.prompt_screening import load_pokemon, negative_sets, positive_sets  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/kenri-bench-prompts"))
    parser.add_argument("--prompts", type=int, default=300)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    if not (args.home / "registry.sqlite").exists():
        sys.exit(f"no registry in {args.home}: run bench/prompt_screening.py first")
    species, flavour = load_pokemon()
    texts = {item["text"] for item in positive_sets(species, flavour) + negative_sets()[0]}
    longest = sorted(texts, key=lambda t: (-len(t), t))[: args.prompts]
    app = kenri.open(home=args.home)
    screener = app.prompt_screener
    passes = []
    with app.transaction() as tx:
        screener.screen(tx, "warm-up", descriptions=False)
        for _ in range(args.passes):
            started = time.perf_counter()
            for text in longest:
                screener.screen(tx, text, descriptions=False)
            passes.append((time.perf_counter() - started) / len(longest) * 1000)
    report = dict(
        run_header("prompt_name_matching"),
        prompts=len(longest),
        mean_chars=round(sum(map(len, longest)) / len(longest)),
        ms_per_prompt_best=round(min(passes), 3),
        ms_per_prompt_passes=[round(p, 3) for p in passes],
    )
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
