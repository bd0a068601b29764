"""Where a page not in the nav belongs: the section of its folder's index page.

Generated pages (a thousand paper pages, the category, venue, year and report
pages) stay out of the nav, because MkDocs renders the whole nav into every
page and a nav of N pages makes the build grow as N². Instead each such page
gets the section of the nav entry ``<folder>/index.md`` of its folder (or of
the nearest folder above it that has one) as its parent. MkDocs then marks
that section and its tab active while the page is built, and Material's
``navigation.path`` shows the way back as breadcrumbs: a lookup per page, so
the build stays linear.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["index_sections", "section_of"]


def index_sections(items: Iterable[Any]) -> dict[str, Any]:
    """``{folder: section}`` for every nav page ``<folder>/index.md`` that sits in a section.

    ``items`` are MkDocs nav items (``nav.items``); a page is anything with
    ``file.src_uri`` and ``parent``, a section anything with ``children``.
    """
    out: dict[str, Any] = {}
    stack = list(items)
    while stack:
        item = stack.pop()
        children = getattr(item, "children", None)
        if children:
            stack.extend(children)
            continue
        file = getattr(item, "file", None)
        parent = getattr(item, "parent", None)
        if file is None or parent is None or posixpath.basename(file.src_uri) != "index.md":
            continue
        folder = posixpath.dirname(file.src_uri)
        if folder:
            out.setdefault(folder, parent)
    return out


def section_of(src_uri: str, sections: Mapping[str, Any]) -> Any | None:
    """The section a page at ``src_uri`` (docs-relative) belongs to, or None."""
    folder = posixpath.dirname(src_uri)
    while folder:
        if folder in sections:
            return sections[folder]
        folder = posixpath.dirname(folder)
    return None
