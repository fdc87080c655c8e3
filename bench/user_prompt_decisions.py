"""Decisions on real user prompts (DiffusionDB and Krea logs, unlabelled): one JSON line per
prompt, so two revisions' files can be compared with ``--compare``.

The logs name much IP and are not a benign set, so they give no false-positive rate; what they
show is which real prompts a rule change turns from review to block (or back), to be read.

    python bench/user_prompt_decisions.py --out /tmp/new.jsonl [--compare /tmp/old.jsonl]

Uses the registry that ``bench/prompt_screening.py`` builds (``--home``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kenri  # noqa: E402
from bench.evaldata import require, run_header  # noqa: E402

LOGS = (
    "prompts/user_logs/diffusiondb_prompts_union.txt",
    "prompts/user_logs/krea_open_prompts_1k_prompts.txt",
)


def screen_logs(home: Path, out: Path) -> None:
    app = kenri.open(home=home)
    with app.transaction() as tx, out.open("w", encoding="utf-8") as fh:
        for log in LOGS:
            for line in require(log).read_text("utf-8").splitlines():
                if not line.strip():
                    continue
                result = app.prompt_screener.screen(tx, line.strip())
                top = [(m.character or m.work, m.reason, m.score) for m in result.matches[:2]]
                row = {"prompt": line.strip(), "decision": result.decision, "top": top}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def compare(old: Path, new: Path) -> dict:
    before = [json.loads(line) for line in old.open(encoding="utf-8")]
    after = [json.loads(line) for line in new.open(encoding="utf-8")]
    if [r["prompt"] for r in before] != [r["prompt"] for r in after]:
        sys.exit("the two files hold different prompts")
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a["decision"] != b["decision"]]
    for a, b in changed:
        print(f"{a['decision']} -> {b['decision']} | {b['prompt'][:100]} | {b['top'][:1]}")
    return {
        "prompts": len(after),
        "decisions": dict(Counter(r["decision"] for r in after)),
        "changed": {
            f"{a} -> {b}": n
            for (a, b), n in Counter((a["decision"], b["decision"]) for a, b in changed).items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/kenri-bench-prompts"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--compare", type=Path, help="an earlier run's file")
    args = parser.parse_args()
    if not (args.home / "registry.sqlite").exists():
        sys.exit("no registry: run bench/prompt_screening.py first (it builds one in --home)")
    screen_logs(args.home, args.out)
    if args.compare:
        print(
            json.dumps(
                dict(run_header("user_prompt_decisions"), **compare(args.compare, args.out)),
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
