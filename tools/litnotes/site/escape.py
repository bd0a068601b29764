"""Escaping and link helpers shared by everything that writes Markdown."""

from __future__ import annotations

import html
import posixpath
import re

from litnotes.records.markdown import render as render_record_markdown

__all__ = ["plain", "markdown_safe", "rel"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|{}])")


def plain(text: str) -> str:
    """Plain text (a title, an author) made inert in Markdown and HTML."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False)).replace("\n", " ")


def markdown_safe(text: str) -> str:
    """A record's Markdown (summary, notes) as an inert raw HTML block for a page.

    :mod:`litnotes.records.markdown` renders it with the same parser and rules
    that ``litnotes check`` applies, so a record that never went through the
    checker still cannot put markup, scripts or outside resources on a page.
    """
    return render_record_markdown(text)


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
