"""Escaping and link helpers shared by everything that writes Markdown."""

from __future__ import annotations

import html
import posixpath
import re

__all__ = ["plain", "markdown_safe", "rel", "attr_value", "dot_string"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|{}])")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_SCRIPT_LINK = re.compile(r"\]\(\s*(?:javascript|vbscript|data):[^)]*\)", re.I)


def plain(text: str) -> str:
    """Plain text (a title, an author) made inert in Markdown and HTML."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False)).replace("\n", " ")


def attr_value(text: str) -> str:
    """A value for a double-quoted attr_list attribute (``{ data-x="…" }``): it cannot end the quote or the block."""
    return html.escape(text, quote=True).replace("}", "&#125;").replace("\n", " ")


def dot_string(text: str) -> str:
    """A quoted Graphviz DOT string (an id, a label, a URL): its quote and escapes cannot be ended or started."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("\r", " ") + '"'


def markdown_safe(text: str) -> str:
    """Markdown from a record with raw HTML tags and script links neutralised.

    ``litnotes check`` rejects these already; this is the second line of defence,
    so a record that slips past the checker still cannot run code in the site.
    """
    text = _TAG_START.sub("&lt;", text)
    return _SCRIPT_LINK.sub("]()", text)


def rel(target: str, page: str) -> str:
    """A link from docs-relative ``page`` to docs-relative ``target`` (both .md paths)."""
    # posixpath.relpath makes both paths absolute first (os.getcwd() each time); a build
    # calls this ~20 times per paper, and normalised docs-relative paths need only the
    # common prefix.  Anything else takes the general route.
    start, parts = page.split("/")[:-1], target.split("/")
    if _ODD_PART.intersection(start) or _ODD_PART.intersection(parts):
        return posixpath.relpath(target, posixpath.dirname(page) or ".")
    i = 0
    while i < len(start) and i < len(parts) and start[i] == parts[i]:
        i += 1
    return "/".join([".."] * (len(start) - i) + parts[i:]) or "."


_ODD_PART = frozenset({"", ".", ".."})
