"""Threads between pages: which pages mention a paper ("被提及" on the paper's page).

Collect first, render second: :func:`collect_mentions` reads every page once
per build and returns, for each paper, the pages that mention it; the paper
pages are rendered afterwards with :func:`mentions_section`.  A page mentions
a paper when it

- has a ``::: paper <id>`` block (a weekly report),
- links to the paper's page, ``papers/<id>.md`` (a code note, a math page…),
- is the page of a paper whose record ``builds_on`` it (the generated pages'
  own mentions come straight from the records).

Pure functions over Markdown text: the engine adapter feeds the hand-written
pages (``read_pages`` does it for the command line).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from litnotes.records.model import KnowledgeBase
from litnotes.site.escape import plain, rel
from litnotes.site.fences import DIRECTIVE, code_lines

__all__ = ["HEADING", "Mention", "collect_mentions", "mentions_section", "read_pages"]

HEADING = "被提及"

# Section of the site by a page's top folder: (label, order on the paper page).
_KINDS = {"reports": ("周报", 0), "math": ("数学", 1), "code": ("代码实践", 2), "papers": ("论文", 3)}
_OTHER = ("页面", 4)
_HOW = {"block": "论文块", "link": "链接", "builds_on": "基于本文"}

# Inline links and images [text](target "title"), and reference definitions [x]: target.
_INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_INLINE_CODE = re.compile(r"(`+).+?\1")
_FRONT_TITLE = re.compile(r"\A(?:\ufeff)?---\n(?:.*\n)*?title:\s*(.+)\n(?:.*\n)*?---\n")
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)
_PAPER_PAGE = re.compile(r"^papers/([a-z0-9][a-z0-9-]*)\.md$")


@dataclass(frozen=True)
class Mention:
    """``page`` (docs-relative ``.md``) mentions a paper; ``how`` is block, link or builds_on."""

    page: str
    title: str
    how: str

    @property
    def kind(self) -> str:
        """The part of the site the page is in: 周报, 数学, 代码实践, 论文 or 页面."""
        return _KINDS.get(self.page.split("/", 1)[0], _OTHER)[0]

    def _order(self) -> tuple[int, str]:
        return _KINDS.get(self.page.split("/", 1)[0], _OTHER)[1], self.page


def page_title(path: str, markdown: str) -> str:
    """The title a reader sees: front-matter ``title``, else the first heading, else the file name."""
    m = _FRONT_TITLE.match(markdown) or _HEADING.search(markdown)
    return m.group(1).strip().strip("'\"") if m else posixpath.splitext(posixpath.basename(path))[0]


def _prose_lines(markdown: str) -> Iterable[str]:
    """The lines outside fenced code blocks (the site's one scanner), with inline code removed."""
    lines = markdown.split("\n")
    return (_INLINE_CODE.sub("", line) for line, code in zip(lines, code_lines(lines), strict=True) if not code)


def _linked_paper(target: str, page: str) -> str | None:
    """The paper id when ``target`` (as written on ``page``) is a paper's page."""
    if "://" in target or target.startswith(("/", "mailto:")):
        return None
    path = target.split("#", 1)[0].split("?", 1)[0]
    if not path.endswith(".md"):
        return None
    m = _PAPER_PAGE.match(posixpath.normpath(posixpath.join(posixpath.dirname(page), path)))
    return m.group(1) if m else None


def collect_mentions(pages: Mapping[str, str], kb: KnowledgeBase) -> dict[str, tuple[Mention, ...]]:
    """``{paper id: mentions}``, every page once per paper, in site order (reports, math, code, papers).

    ``pages`` maps docs-relative paths of hand-written pages to their Markdown
    as written (directives not yet expanded); a ``::: papers`` table or an
    index does not count as a mention, a block or a link written by hand does.
    Ids that are not papers of ``kb`` are ignored (``check`` reports them).
    """
    found: dict[str, dict[str, Mention]] = {}

    def add(paper_id: str, mention: Mention) -> None:
        if paper_id in kb.papers:
            found.setdefault(paper_id, {}).setdefault(mention.page, mention)

    for page, markdown in pages.items():
        title = page_title(page, markdown)
        for line in _prose_lines(markdown):
            if (d := DIRECTIVE.match(line)) and d.group(1) == "paper":
                add((d.group(2) or "").strip(), Mention(page, title, "block"))
                continue
            targets = _INLINE_LINK.findall(line)
            if (d := _REF_DEF.match(line)):
                targets.append(d.group(1))
            for target in targets:
                paper_id = _linked_paper(target, page)
                if paper_id and f"papers/{paper_id}.md" != page:
                    add(paper_id, Mention(page, title, "link"))
    for paper in kb.papers.values():
        for base in paper.builds_on:
            add(base, Mention(f"papers/{paper.id}.md", paper.label, "builds_on"))
    return {pid: tuple(sorted(by_page.values(), key=Mention._order)) for pid, by_page in found.items()}


def mentions_section(mentions: Iterable[Mention], page: str) -> list[str]:
    """The "被提及" section of the paper page ``page``: Markdown lines, none when nothing mentions it."""
    items = [f"- {m.kind}：[{plain(m.title)}]({rel(m.page, page)})（{_HOW[m.how]}）" for m in mentions]
    return [f"## {HEADING}", "", *items, ""] if items else []


def read_pages(docs_dir: Path, skip: Iterable[str] = ()) -> dict[str, str]:
    """The Markdown of every page under ``docs_dir``, by docs-relative path (for the command line)."""
    skipped = set(skip)
    out = {}
    for path in sorted(Path(docs_dir).rglob("*.md")):
        name = path.relative_to(docs_dir).as_posix()
        if name not in skipped:
            out[name] = path.read_text(encoding="utf-8-sig", errors="replace")
    return out
