"""Small inline SVG charts: no plotting library, readable in any browser and in the PDF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = {
    "block": "#c0392b",
    "review": "#e0a100",
    "allow": "#4c9a2a",
    "recall": "#2c6fbb",
    "fpr": "#c0392b",
    # claim outcomes
    "accepted": "#4c9a2a",
    "upheld": "#2e7d32",
    "answered": "#2c6fbb",
    "closed": "#7f8c8d",
    "disputed": "#e0a100",
    "rejected": "#8e44ad",
    "withdrawn": "#bdc3c7",
}


def stacked_columns(
    labels: Sequence[str],
    series: Mapping[str, Sequence[int]],
    names: Mapping[str, str],
    width: int = 640,
    height: int = 200,
) -> str:
    """One column per label, stacked by series (e.g. block / review per day), with a legend."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    plot_h, left = height - 40, 36
    step = (width - left) / max(len(labels), 1)
    parts = [
        f'<line x1="{left}" y1="{plot_h}" x2="{width}" y2="{plot_h}" stroke="#999"/>',
        f'<text x="{left - 4}" y="12" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{left - 4}" y="{plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    for i, label in enumerate(labels):
        y = plot_h
        for key, values in series.items():
            h = values[i] / top * (plot_h - 10)
            if h:
                y -= h
                parts.append(
                    f'<rect x="{left + i * step + 2:.1f}" y="{y:.1f}" '
                    f'width="{max(step - 4, 1):.1f}"'
                    f' height="{h:.1f}" fill="{PALETTE.get(key, "#888")}"><title>'
                    f"{escape(label)} {escape(names.get(key, key))}: {values[i]}</title></rect>"
                )
        if len(labels) <= 16 or i % max(len(labels) // 8, 1) == 0:
            parts.append(
                f'<text x="{left + (i + 0.5) * step:.1f}" y="{plot_h + 14}" font-size="10" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    x = left
    for key in series:
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
            f'fill="{PALETTE.get(key, "#888")}"/>'
        )
        parts.append(
            f'<text x="{x + 14}" y="{height - 5}" font-size="11">'
            f"{escape(names.get(key, key))}</text>"
        )
        label = names.get(key, key)
        x += 28 + sum(7 if ord(ch) < 0x2E80 else 13 for ch in label)  # CJK glyphs are wider
    body = "".join(parts)
    return f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">{body}</svg>'


def paired_bars(
    rows: Sequence[tuple[str, float | None, float | None]],
    names: tuple[str, str],
    width: int = 640,
) -> str:
    """Horizontal bars per group: recall and false-positive rate side by side (0..1)."""
    row_h, left = 34, 140
    height = row_h * len(rows) + 24
    scale = width - left - 50
    parts = []
    for i, (label, recall, fpr) in enumerate(rows):
        y = i * row_h + 4
        parts.append(
            f'<text x="{left - 6}" y="{y + 16}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>"
        )
        for j, (key, value) in enumerate((("recall", recall), ("fpr", fpr))):
            if value is None:
                continue
            w = value * scale
            parts.append(
                f'<rect x="{left}" y="{y + j * 13}" width="{w:.1f}" height="12" '
                f'fill="{PALETTE[key]}"><title>{escape(names[j])}: {value:.3f}</title></rect>'
                f'<text x="{left + w + 4:.1f}" y="{y + j * 13 + 10}" font-size="10">'
                f"{value * 100:.1f}%</text>"
            )
    y = height - 12
    for j, key in enumerate(("recall", "fpr")):
        x = left + j * 160
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{PALETTE[key]}"/>'
            f'<text x="{x + 14}" y="{y + 9}" font-size="11">{escape(names[j])}</text>'
        )
    body = "".join(parts)
    return f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">{body}</svg>'
