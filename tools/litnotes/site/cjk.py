"""Chinese typesetting as a Python-Markdown extension (``litnotes.site.cjk`` in ``markdown_extensions``).

Two rules that browsers do not apply to Chinese by themselves:

- A line break inside a paragraph of the Markdown source is a soft break, which
  a browser shows as a space: right for English, a stray gap between two Chinese
  characters ("梳理总结。 早期").  Between two wide (East Asian) characters the
  break is removed, as CSS Text 4's ``segment-break`` rules describe (Hangul
  excepted: Korean separates words with spaces).
- Punctuation that must not start a line (``。``, ``，``, ``）``…) is kept with the
  inline formula before it: a browser may break after a formula's box, leaving
  "。" alone at the start of the next line.  The formula and the punctuation go
  into one ``span.cjk-nobr``; ``math.css`` stops a break between the two and
  nowhere else.

Being an extension, it applies wherever Python-Markdown runs: hand-written
pages, the generated pages with the records' summaries, and under any engine
that runs the listed extensions (MkDocs, Zensical).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from litnotes.text import is_wide

__all__ = ["CjkExtension", "is_wide", "makeExtension"]

# Inline math as pymdownx.arithmatex leaves it, before litnotes-math renders it.
_MATH_CLASS = "arithmatex"
# Punctuation that does not begin a line in Chinese (closing marks, stops, commas).
_NO_BREAK_BEFORE = "。，、；：？！）］｝〕〉》」』】〗〙〛”’…‥·～"
_LEADING_PUNCT = re.compile(f"^[{re.escape(_NO_BREAK_BEFORE)}]+")
_SOFT_BREAK = re.compile(r"[ \t]*\n[ \t]*")
# Elements whose text is laid out as its own block: a soft break never joins across them.
_BLOCKS = frozenset([
    "address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
])
_OPAQUE = frozenset(("pre", "code", "script", "style", "kbd", "samp"))


class _Slot:
    """A piece of inline text in document order: ``node.text`` or ``node.tail``."""

    __slots__ = ("attr", "node")

    def __init__(self, node: etree.Element, attr: str) -> None:
        self.node, self.attr = node, attr

    def get(self) -> str:
        return getattr(self.node, self.attr) or ""

    def set(self, value: str) -> None:
        old = getattr(self.node, self.attr)
        # Keep the type: AtomicString tells the inline processor to leave the text alone.
        setattr(self.node, self.attr, AtomicString(value) if isinstance(old, AtomicString) else value)


class _CjkTreeprocessor(Treeprocessor):
    def run(self, root: etree.Element) -> None:
        self._keep_punctuation_with_math(root)
        for run in self._runs(root):
            self._join_soft_breaks(run)

    def _keep_punctuation_with_math(self, root: etree.Element) -> None:
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if child.tag != "span" or _MATH_CLASS not in (child.get("class") or "").split():
                    continue
                m = _LEADING_PUNCT.match(child.tail or "")
                if not m:
                    continue
                wrapper = etree.Element("span", {"class": "cjk-nobr"})
                wrapper.tail = child.tail[m.end():]
                child.tail = m.group(0)
                parent.remove(child)
                wrapper.append(child)
                parent.insert(index, wrapper)

    def _runs(self, root: etree.Element) -> list[list[tuple[_Slot, bool]]]:
        """Inline text of each block, in order; ``True`` marks text to leave alone (code)."""
        runs: list[list[tuple[_Slot, bool]]] = [[]]

        def walk(node: etree.Element, opaque: bool) -> None:
            block = node.tag in _BLOCKS
            if block:
                runs.append([])
            inner = opaque or node.tag in _OPAQUE or _MATH_CLASS in (node.get("class") or "").split()
            runs[-1].append((_Slot(node, "text"), inner))
            for child in node:
                walk(child, inner)
            if block:
                runs.append([])
            runs[-1].append((_Slot(node, "tail"), opaque))

        for child in root:
            walk(child, False)
        return [run for run in runs if run]

    @staticmethod
    def _join_soft_breaks(run: list[tuple[_Slot, bool]]) -> None:
        texts = [slot.get() for slot, _ in run]
        for i, (slot, opaque) in enumerate(run):
            text = texts[i]
            if opaque or "\n" not in text:
                continue

            def neighbour(step: int, start: int) -> str:
                j = start
                while 0 <= j < len(texts):
                    if texts[j]:
                        return texts[j][-1] if step < 0 else texts[j][0]
                    j += step
                return ""

            def join(m: re.Match[str], text: str = text, i: int = i) -> str:
                before = text[m.start() - 1] if m.start() > 0 else neighbour(-1, i - 1)
                after = text[m.end()] if m.end() < len(text) else neighbour(1, i + 1)
                return "" if before and after and is_wide(before) and is_wide(after) else m.group(0)

            joined = _SOFT_BREAK.sub(join, text)
            if joined != text:
                texts[i] = joined
                slot.set(joined)


class CjkExtension(Extension):
    """Registers the tree processor after inline parsing (20) and before prettify (10)."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.treeprocessors.register(_CjkTreeprocessor(md), "litnotes_cjk", 15)


def makeExtension(**kwargs) -> CjkExtension:
    return CjkExtension(**kwargs)
