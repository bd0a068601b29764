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

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path

from litnotes.problems import Problem
from litnotes.records.model import KnowledgeBase
from litnotes.site.escape import page_link, plain, rel
from litnotes.site.fences import DIRECTIVE, directive_lines
from litnotes.site.pages import EXPORTS, chart_html, charts, paper_block, paper_table
from litnotes.site.reports import Report, read_reports

__all__ = ["DIRECTIVE", "check_docs", "directive_lines", "expand"]

def expand(markdown: str, page: str, kb: KnowledgeBase, reports: Sequence[Report] = (),
           source: str | None = None, *, offset: int = 0,
           broken_ids: AbstractSet[str] = frozenset()) -> tuple[str, list[Problem]]:
    """Replace each directive of ``page`` (docs-relative) with Markdown; problems name ``source``:line.

    This is the one place directives are run: the build calls it for every
    hand-written page, ``litnotes check`` (:func:`check_docs`) for the same
    pages with the same records and reports.  ``offset`` is added to line
    numbers (the lines of front matter the caller removed); a ``::: paper`` of
    an id in ``broken_ids`` (a record file with problems of its own, reported
    there) expands to nothing and is not reported again.
    """
    shown = source or page
    lines = markdown.split("\n")
    problems: list[Problem] = []
    for i, name, arg in reversed(directive_lines(markdown)):
        handler = _HANDLERS.get(name)
        if handler is None:
            problems.append(Problem(shown, i + 1 + offset, 1, f"unknown directive '::: {name}'; known: "
                                    f"{', '.join(sorted(_HANDLERS))}", "directive"))
            continue
        if name == "paper" and arg in broken_ids and arg not in kb.papers:
            lines[i] = ""
            continue
        text, message = handler(arg, page, kb, reports)
        if message:
            problems.append(Problem(shown, i + 1 + offset, 1, message, "directive"))
            continue
        lines[i] = text
    return "\n".join(lines), sorted(problems)


def check_docs(root: Path, docs: str, kb: KnowledgeBase, known_ids: AbstractSet[str] | None = None,
               reports: Sequence[Report] | None = None) -> list[Problem]:
    """Problems in the directives of every Markdown page under ``docs`` (for ``litnotes check``).

    Each page goes through :func:`expand`, as in the build: front matter
    removed as MkDocs removes it, the same handlers, records and reports.
    ``known_ids`` are all record files, valid or not, so that a record with a
    problem of its own is not reported a second time from every report.
    """
    from mkdocs.utils.meta import get_data

    base = root / docs
    reports = read_reports(base) if reports is None else reports
    broken = frozenset(known_ids or ()) - kb.papers.keys()
    problems = []
    for path in sorted(base.rglob("*.md")):
        page = path.relative_to(base).as_posix()
        if any(part.startswith(".") for part in page.split("/")):
            continue  # MkDocs leaves dot files and folders out of the site
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        if ":::" not in text:
            continue
        markdown, _ = get_data(text)
        _, found = expand(markdown, page, kb, reports, source=f"{docs}/{page}",
                          offset=text.count("\n") - markdown.count("\n"), broken_ids=broken)
        problems += found
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
    return paper_table(members, kb, page, sortable=True, show_category=not arg), None


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
    return "\n".join(f"- {page_link(r.title if r.date in r.title else f'{r.date} · {r.title}', r.path, page)}"
                     for r in reports[:limit]), None


def _categories(arg: str, page: str, kb: KnowledgeBase, reports: Sequence[Report]) -> tuple[str, str | None]:
    lines = []
    for key, cat in kb.categories.items():
        n = sum(1 for p in kb.papers.values() if p.category == key)
        lines.append(f"- {page_link(cat.title, f'categories/{key}.md', page)}（{n} 篇）：{plain(cat.description)}")
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
