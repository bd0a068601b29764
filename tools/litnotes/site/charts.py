"""Static SVG bar charts, drawn at build time (no chart library in the browser)."""

from __future__ import annotations

from typing import Sequence

from litnotes.site.escape import attr, html_text

__all__ = ["bar_chart"]


def bar_chart(bars: Sequence[tuple[str, int]], title: str, *, width: int = 560, bar_height: int = 22) -> str:
    """A horizontal bar chart as one line of inline SVG; colours follow the page's text colour.

    ``title`` and the labels are text (a category's title comes from its data file): they are escaped here.
    """
    label_w, gap, pad = 150, 6, 4
    top = 28
    height = top + len(bars) * (bar_height + gap) + pad
    peak = max((n for _, n in bars), default=0) or 1
    span = width - label_w - 48
    parts = [
        f'<svg class="litnotes-chart" role="img" aria-label="{attr(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{html_text(title)}</title>",
        f'<text x="0" y="18" font-size="14" font-weight="bold" fill="currentColor">{html_text(title)}</text>',
    ]
    for i, (label, count) in enumerate(bars):
        y = top + i * (bar_height + gap)
        w = max(2, round(span * count / peak)) if count else 0
        mid = y + bar_height / 2 + 5
        parts += [
            f'<text x="{label_w - 8}" y="{mid}" font-size="13" text-anchor="end" fill="currentColor">{html_text(label)}</text>',
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_height}" rx="3" fill="var(--md-accent-fg-color, #526cfe)"/>',
            f'<text x="{label_w + w + 6}" y="{mid}" font-size="13" fill="currentColor">{count}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)
