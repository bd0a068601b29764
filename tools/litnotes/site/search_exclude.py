"""Keep table headers out of the search index (``litnotes.site.search_exclude`` in ``markdown_extensions``).

A header row names the columns ("论文 简称 会议/期刊 年份…", "项目 内容"); indexed,
the same words open the result snippet of every page with a table and match
queries that have nothing to do with the page.  Material's search plugin skips
any element marked ``data-search-exclude``, so this extension marks each
``<thead>`` that Markdown makes.  (Tables written as raw HTML are not seen here:
mark their ``<thead>`` by hand.)  Charts are marked where they are drawn
(:func:`litnotes.site.pages.chart_html`).
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor

__all__ = ["EXCLUDE", "SearchExcludeExtension", "makeExtension"]

#: The attribute that Material's search plugin skips an element for.
EXCLUDE = "data-search-exclude"


class _TableHeaders(Treeprocessor):
    def run(self, root: etree.Element) -> None:
        for head in root.iter("thead"):
            head.set(EXCLUDE, "")


class SearchExcludeExtension(Extension):
    """Registers the tree processor; the order among tree processors does not matter."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.treeprocessors.register(_TableHeaders(md), "litnotes_search_exclude", 4)


def makeExtension(**kwargs) -> SearchExcludeExtension:
    return SearchExcludeExtension(**kwargs)
