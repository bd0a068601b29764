"""Directives: lines in hand-written Markdown that the records fill in.

A directive is a line of its own, outside code fences::

    ::: paper dist2022          the paper's heading, venue, links and summary (from its YAML)
    ::: papers feature          a table of a category's papers
    ::: stats                   counts of papers, categories, venues, reports
    ::: reports 5               the latest reports
    ::: categories              the categories with their counts
    ::: charts                  papers per year and per category (static SVG)
    ::: exports                 links to papers.bib and papers.json

So a summary lives only in its record, and a report that names a paper that
does not exist fails the strict build with the file and line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import AbstractSet, Callable, Sequence

from litnotes.records.model import KnowledgeBase
from litnotes.problems import Problem
from litnotes.site.pages import EXPORTS, chart_html, charts, paper_block, paper_table
from litnotes.site.reports import Report
from litnotes.site.escape import plain, rel

__all__ = ["expand", "check_docs", "DIRECTIVE"]

DIRECTIVE = re.compile(r"^::: *([a-z-]+)(?: +(.*?))? *$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _directive_lines(markdown: str) -> list[tuple[int, str, str]]:
    """(0-based line index, name, argument) of every directive outside code fences."""
    out, fence = [], None
    for i, line in enumerate(markdown.split("\n")):
        m = _FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)[0] * 3
            elif line.strip().startswith(fence):
                fence = None
            continue
        if fence is None and (d := DIRECTIVE.match(line)):
            out.append((i, d.group(1), (d.group(2) or "").strip()))
    return out


def expand(markdown: str, page: str, kb: KnowledgeBase, reports: Sequence[Report] = (),
           source: str | None = None) -> tuple[str, list[Problem]]:
    """Replace each directive of ``page`` (docs-relative) with Markdown; problems name ``source``:line."""
    shown = source or page
    lines = markdown.split("\n")
    problems: list[Problem] = []
    for i, name, arg in reversed(_directive_lines(markdown)):
        handler = _HANDLERS.get(name)
        if handler is None:
            problems.append(Problem(shown, i + 1, 1, f"unknown directive '::: {name}'; known: {', '.join(sorted(_HANDLERS))}",
                                    "directive"))
            continue
        text, message = handler(arg, page, kb, reports)
        if message:
            problems.append(Problem(shown, i + 1, 1, message, "directive"))
            continue
        lines[i] = text
    return "\n".join(lines), sorted(problems)


def check_docs(root: Path, docs: str, kb: KnowledgeBase, known_ids: set[str] | None = None) -> list[Problem]:
    """Problems in the directives of every Markdown file under ``docs`` (for ``litnotes check``).

    ``known_ids`` are all record files, valid or not, so that a record with a
    problem of its own is not reported a second time from every report.
    """
    known = known_ids if known_ids is not None else set(kb.papers)
    problems = []
    base = root / docs
    for path in sorted(base.rglob("*.md")):
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        if ":::" not in text:
            continue
        shown = f"{docs}/{path.relative_to(base).as_posix()}"
        for i, name, arg in _directive_lines(text):
            if name not in _HANDLERS:
                problems.append(Problem(shown, i + 1, 1, f"unknown directive '::: {name}'", "directive"))
            elif name == "paper":
                message = _paper_id_problem(arg, known)
                if message:
                    problems.append(Problem(shown, i + 1, 1, message, "directive"))
    return problems


def _paper_id_problem(arg: str, known: AbstractSet[str]) -> str | None:
    if not arg:
        return "'::: paper' needs a paper id, e.g. '::: paper dist2022'"
    if arg not in known:
        import difflib

        close = difflib.get_close_matches(arg, sorted(known), n=1)
        fix = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown paper '{arg}' (no papers/{arg}.yaml){fix}"
    return None


Handler = Callable[[str, str, KnowledgeBase, Sequence[Report]], tuple[str, str | None]]


def _paper(arg: str, page: str, kb: KnowledgeBase, reports: Sequence[Report]) -> tuple[str, str | None]:
    message = _paper_id_problem(arg, kb.papers.keys())  # not set(): that copies every id per directive
    if message:
        return "", message
    return paper_block(kb.papers[arg], kb, page), None


def _papers(arg: str, page: str, kb: KnowledgeBase, reports: Sequence[Report]) -> tuple[str, str | None]:
    if arg and arg not in kb.categories:
        return "", f"unknown category '{arg}'; known: {', '.join(sorted(kb.categories))}"
    members = [p for p in kb.sorted_papers() if not arg or p.category == arg]
    return paper_table(members, kb, page, sortable=True), None


def _stats(arg: str, page: str, kb: KnowledgeBase, reports: Sequence[Report]) -> tuple[str, str | None]:
    with_code = sum(1 for p in kb.papers.values() if p.code)
    venues = {p.venue for p in kb.papers.values()}
    items = [
        (len(kb.papers), "篇论文", "papers/index.md"),
        (with_code, "篇有官方代码", "papers/index.md"),
        (len(kb.categories), "个分类", "categories/index.md"),
        (len(venues), "个会议/期刊", "venues/index.md"),
        (len(reports), "篇周报", "reports/index.md"),
    ]
    return "\n".join(f"- [**{n}** {label}]({rel(target, page)})" for n, label, target in items), None


def _reports(arg: str, page: str, kb: KnowledgeBase, reports: Sequence[Report]) -> tuple[str, str | None]:
    try:
        limit = int(arg) if arg else 5
    except ValueError:
        return "", f"'::: reports' takes a number of reports, got '{arg}'"
    if not reports:
        return "暂无周报。", None
    # A title that already says the date ("周报 2024-04-19") is not prefixed with it again.
    return "\n".join(f"- [{plain(r.title) if r.date in r.title else f'{r.date} · {plain(r.title)}'}]({rel(r.path, page)})"
                     for r in reports[:limit]), None


def _categories(arg: str, page: str, kb: KnowledgeBase, reports: Sequence[Report]) -> tuple[str, str | None]:
    lines = []
    for key, cat in kb.categories.items():
        n = sum(1 for p in kb.papers.values() if p.category == key)
        lines.append(f"- [{plain(cat.title)}]({rel(f'categories/{key}.md', page)})（{n} 篇）：{cat.description}")
    return "\n".join(lines), None


def _charts(arg: str, page: str, kb: KnowledgeBase, reports: Sequence[Report]) -> tuple[str, str | None]:
    return "\n\n".join(chart_html(svg) for svg in charts(kb)), None


def _exports(arg: str, page: str, kb: KnowledgeBase, reports: Sequence[Report]) -> tuple[str, str | None]:
    what = {"papers.bib": "全部论文的 BibTeX（以记录 id 为键）", "papers.json": "全部记录的 JSON"}
    return "\n".join(f"- [`{name}`]({rel(name, page)})：{what[name]}" for name in EXPORTS), None


_HANDLERS: dict[str, Handler] = {
    "paper": _paper, "papers": _papers, "stats": _stats, "reports": _reports,
    "categories": _categories, "charts": _charts, "exports": _exports,
}
