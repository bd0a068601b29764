"""Static SVG bar charts, drawn at build time (no chart library in the browser).

An SVG scales with its box, text included: a chart drawn 560 units wide showed
its 13-unit labels at about 7 px on a phone.  So the chart is drawn at the width
of a phone's text column (:data:`WIDTH`), never shown wider than that, and its
label column is as wide as its longest label: the labels stay at their size on
a phone and on a desktop alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from litnotes.site.escape import attr, html_text

__all__ = ["FONT_SIZE", "WIDTH", "bar_chart"]

#: Drawing width in SVG units = the largest width shown, in CSS pixels; about the text
#: column of a 390 px phone, so a phone shows the chart at (nearly) its drawn size.
WIDTH = 360
#: Label size in SVG units (= CSS pixels at full size).
FONT_SIZE = 13
_MAX_LABEL_SHARE = 0.45  # of the width; a longer label is shortened with "…"


def _text_width(text: str, size: float) -> float:
    """An estimate of the drawn width: wide (CJK) characters take 1 em, others about 0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in ("W", "F") else 0.6 * size for ch in text)


def _fit(text: str, width: float, size: float) -> str:
    if _text_width(text, size) <= width:
        return text
    while text and _text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def bar_chart(bars: Sequence[tuple[str, int]], title: str, *, width: int = WIDTH, bar_height: int = 20) -> str:
    """A horizontal bar chart as one line of inline SVG; colours follow the page's text colour.

    ``title`` and the labels are text (a category's title comes from its data file): they are escaped here.
    """
    size, gap, pad, top = FONT_SIZE, 6, 4, 28
    widest_count = _text_width(str(max((n for _, n in bars), default=0)), size)
    label_room = width * _MAX_LABEL_SHARE
    label_w = min(max((_text_width(label, size) for label, _ in bars), default=0), label_room) + 8
    height = top + len(bars) * (bar_height + gap) + pad
    peak = max((n for _, n in bars), default=0) or 1
    span = width - label_w - widest_count - 8
    parts = [
        f'<svg class="litnotes-chart" role="img" aria-label="{attr(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{html_text(title)}</title>",
        f'<text x="0" y="18" font-size="{size + 1}" font-weight="bold" fill="currentColor">{html_text(title)}</text>',
    ]
    for i, (label, count) in enumerate(bars):
        y = top + i * (bar_height + gap)
        w = max(2, round(span * count / peak)) if count else 0
        mid = y + bar_height / 2 + size * 0.35
        parts += [
            f'<text x="{label_w - 8:g}" y="{mid:g}" font-size="{size}" text-anchor="end" fill="currentColor">'
            f"{html_text(_fit(label, label_room, size))}</text>",
            f'<rect x="{label_w:g}" y="{y}" width="{w}" height="{bar_height}" rx="3" '
            'fill="var(--md-accent-fg-color, #526cfe)"/>',
            f'<text x="{label_w + w + 6:g}" y="{mid:g}" font-size="{size}" fill="currentColor">{count}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)
