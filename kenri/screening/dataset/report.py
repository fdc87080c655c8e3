"""report.html: what a dataset screening found, per rights holder, readable without tools."""

from __future__ import annotations

from html import escape
from typing import Any

COLOURS = {"keep": "#4c9a2a", "review": "#e0a100", "exclude": "#c0392b", "error": "#7f8c8d"}


def _bar(counts: dict[str, int], width: int = 600, height: int = 24) -> str:
    total = sum(counts.values()) or 1
    x, parts = 0.0, []
    for name in ("keep", "review", "exclude", "error"):
        share = counts.get(name, 0) / total * width
        if share:
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{share:.1f}" height="{height}" '
                f'fill="{COLOURS[name]}">'
                f"<title>{name}: {counts[name]}</title></rect>"
            )
            x += share
    bars = "".join(parts)
    return f'<svg width="{width}" height="{height}" role="img" aria-label="decisions">{bars}</svg>'


def _holder_items(holder: str, entry: dict[str, Any]) -> str:
    """The items found for one holder (the first ones; decisions.parquet has them all)."""
    items = entry.get("items", [])
    lines = "".join(
        f"<tr><td>{escape(str(i['shard']))}</td><td>{escape(str(i['key']))}</td>"
        f"<td>{escape(str(i['decision']))}</td><td>{escape(str(i['work']))}</td>"
        f"<td>{escape(str(i['character'] or ''))}</td><td>{float(i['score'] or 0):.2f}</td>"
        f"<td>{'grant ' + escape(str(i['grant'])) if i['grant'] else ''}</td></tr>"
        for i in items
    )
    more = entry["found"] - len(items)
    note = f"<p>and {more} more in decisions.parquet</p>" if more > 0 else ""
    return (
        f"<h3>{escape(holder)}: items found ({entry['found']})</h3>"
        "<table><tr><th>shard</th><th>key</th><th>decision</th><th>work</th><th>character</th>"
        f"<th>score</th><th>licence</th></tr>{lines}</table>{note}"
    )


def render_html(report: dict[str, Any]) -> str:
    legend = " ".join(
        f'<span style="color:{c}">&#9632;</span> {escape(n)} {report["decisions"].get(n, 0)}'
        for n, c in COLOURS.items()
    )
    rows, sections = [], []
    for holder, entry in report["holders"].items():
        works = ", ".join(f"{escape(str(w))} ({n})" for w, n in list(entry["works"].items())[:8])
        split = {"exclude": entry["excluded"], "review": entry["review"],
                 "keep": entry["licensed"]}  # fmt: skip
        rows.append(
            f"<tr><td>{escape(holder)}</td><td>{_bar(split, 160, 14)}</td><td>{entry['found']}"
            f"</td><td>{entry['excluded']}</td><td>{entry['review']}</td>"
            f"<td>{entry['licensed']}</td><td>{works}</td></tr>"
        )
        sections.append(_holder_items(holder, entry))
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
<p>Bars: <span style="color:{COLOURS["exclude"]}">excluded</span>,
<span style="color:{COLOURS["review"]}">review</span>,
<span style="color:{COLOURS["keep"]}">licensed (kept under a grant)</span>.</p>
<table><tr><th>holder</th><th></th><th>found</th><th>excluded</th><th>review</th>
<th>licensed</th><th>works</th></tr>
{"".join(rows) or '<tr><td colspan="7">no registered work found</td></tr>'}
</table>
{"".join(sections)}
<h2>Items that could not be checked ({len(report["errors"])})</h2><ul>{errors}</ul>
</body></html>
"""
