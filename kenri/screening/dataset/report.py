"""report.html: what a dataset screening found, per rights holder, readable without tools."""

from __future__ import annotations

from html import escape
from typing import Any

COLOURS = {"keep": "#4c9a2a", "review": "#e0a100", "exclude": "#c0392b", "error": "#7f8c8d"}


def _bar(counts: dict[str, int], width: int = 600) -> str:
    total = sum(counts.values()) or 1
    x, parts = 0.0, []
    for name in ("keep", "review", "exclude", "error"):
        share = counts.get(name, 0) / total * width
        if share:
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{share:.1f}" height="24" fill="{COLOURS[name]}">'
                f"<title>{name}: {counts[name]}</title></rect>"
            )
            x += share
    bars = "".join(parts)
    return f'<svg width="{width}" height="24" role="img" aria-label="decisions">{bars}</svg>'


def render_html(report: dict[str, Any]) -> str:
    legend = " ".join(
        f'<span style="color:{c}">&#9632;</span> {escape(n)} {report["decisions"].get(n, 0)}'
        for n, c in COLOURS.items()
    )
    rows = []
    for holder, entry in report["holders"].items():
        works = ", ".join(f"{escape(str(w))} ({n})" for w, n in list(entry["works"].items())[:8])
        rows.append(
            f"<tr><td>{escape(holder)}</td><td>{entry['found']}</td><td>{entry['excluded']}</td>"
            f"<td>{entry['review']}</td><td>{entry['licensed']}</td><td>{works}</td></tr>"
        )
    errors = "".join(
        f"<li>{escape(e['shard'])} / {escape(str(e['key']))}: {escape(str(e['error']))}</li>"
        for e in report["errors"][:200]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kenri dataset screening</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}
table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style>
</head><body>
<h1>Dataset screening (purpose: training)</h1>
<p>{report["items"]} items; {report["opt_outs"]} carried an opt-out.</p>
<p>{_bar(report["decisions"])}</p><p>{legend}</p>
<h2>Per rights holder</h2>
<table><tr><th>holder</th><th>found</th><th>excluded</th><th>review</th><th>licensed</th>
<th>works</th></tr>{"".join(rows) or '<tr><td colspan="6">no registered work found</td></tr>'}
</table>
<h2>Items that could not be checked ({len(report["errors"])})</h2><ul>{errors}</ul>
</body></html>
"""
