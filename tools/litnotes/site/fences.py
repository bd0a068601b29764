"""Fenced code blocks of hand-written Markdown: the one scanner that directives and link checks share.

A fence opens with three or more backticks or tildes and closes with a line
of the same character, at least as long and with nothing else on it, as in
CommonMark and ``pymdownx.superfences`` (which also allows fences indented
inside list items, so any indentation counts).  An unclosed fence runs to the
end of the page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["code_lines"]

_OPEN = re.compile(r"^[ \t]*(`{3,}(?!.*`)|~{3,})")
_CLOSE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*$")


def code_lines(lines: Sequence[str]) -> list[bool]:
    """For each line, whether it belongs to a fenced code block (the fence lines included)."""
    out: list[bool] = []
    fence: str | None = None
    for line in lines:
        if fence is None:
            m = _OPEN.match(line)
            if m:
                fence = m.group(1)
            out.append(fence is not None)
            continue
        out.append(True)
        m = _CLOSE.match(line)
        if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
            fence = None
    return out
