"""Weekly reports: ``docs/reports/<YYYY-MM-DD>.md``, listed newest first and offered as an Atom feed."""

from __future__ import annotations

import datetime as _dt
import html
import posixpath
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import markdown

from litnotes.records.model import Paper
from litnotes.records.validate import REPORTS_DIR, is_iso_date
from litnotes.site.cjk import CjkExtension
from litnotes.site.escape import attr, html_text
from litnotes.site.fences import DIRECTIVE, code_lines

__all__ = ["FEED_PATH", "Report", "atom_feed", "read_in_week", "read_reports", "report_friday", "report_skeleton",
           "report_week"]

#: Where the feed is, relative to the site's root.  At the root, not in reports/: Material's
#: script reads every ``<link rel="alternate">`` in a page's head as a translation of the
#: site and fetches ``sitemap.xml`` next to it; next to a feed in reports/ there is none (404
#: on every page), at the root there is the site's own.
FEED_PATH = "feed.xml"

_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)
_FRONT_TITLE = re.compile(r"\A---\n(?:.*\n)*?title:\s*(.+)\n(?:.*\n)*?---\n")
_FRONT_MATTER = re.compile(r"\A---\n(?:.*\n)*?---\n")
# Blocks that are not prose: headings, directives, quotes, lists, tables, HTML, rules, admonitions.
_NOT_PROSE = re.compile(r"^(#|:::|>|[-*+] |\d+[.)] |\||<|---|\*\*\*|!!!|\?\?\?|\$\$)")


@dataclass(frozen=True)
class Report:
    date: str
    title: str
    #: The first paragraph of prose, as Markdown ("" if there is none).
    summary: str = ""
    #: Ids of the papers its ``::: paper`` lines show, in their order.
    papers: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """The page, relative to docs/."""
        return f"{REPORTS_DIR}/{self.date}.md"


def _body(text: str) -> tuple[str, list[str]]:
    """The first paragraph of prose (Markdown) and the ``::: paper`` ids, outside code fences."""
    blocks: list[list[str]] = [[]]
    ids: list[str] = []
    lines = _FRONT_MATTER.sub("", text, count=1).split("\n")
    # The site's one scanner decides what is code and what is a directive.
    for line, code in zip(lines, code_lines(lines), strict=True):
        if code:
            if blocks[-1]:
                blocks.append([])
            continue
        if (d := DIRECTIVE.match(line)) and d.group(1) == "paper" and d.group(2):
            ids.append(d.group(2).strip())
        if line.strip():
            blocks[-1].append(line)
        else:
            blocks.append([])
    first = next((block for block in blocks
                  if block and not block[0].startswith(("    ", "\t")) and not _NOT_PROSE.match(block[0])), [])
    return "\n".join(line.strip() for line in first), ids


def read_reports(docs_dir: Path) -> list[Report]:
    """Every report, newest first; the title is the front-matter title or the first heading."""
    folder = docs_dir / REPORTS_DIR
    out = []
    for path in folder.glob("*.md") if folder.is_dir() else ():
        if not is_iso_date(path.stem):
            continue
        text = path.read_text(encoding="utf-8-sig")
        m = _FRONT_TITLE.match(text) or _HEADING.search(text)
        title = m.group(1).strip().strip("'\"") if m else path.stem
        summary, ids = _body(text)
        out.append(Report(path.stem, title, summary, tuple(dict.fromkeys(ids))))
    return sorted(out, key=lambda r: r.date, reverse=True)


def atom_feed(reports: list[Report], site_url: str, site_name: str,
              papers: Mapping[str, Paper] | None = None) -> str:
    """An Atom 1.0 feed of the reports (:data:`FEED_PATH`), newest first.

    Each entry carries the report's first paragraph and a list of the papers it
    discusses (its ``::: paper`` lines, then papers whose ``read`` is its date),
    linked to their pages.  With ``site_url`` the links are absolute; without
    one they are relative to the feed, and ids are UUIDs derived from the site's
    name and the date, so that no address that is not the site's reaches a reader.
    """
    base = site_url.rstrip("/") + "/" if site_url else ""

    def href(page: str) -> str:
        """The address of a site path ('reports/2024-04-19/'), absolute or from the feed at the root."""
        return base + page if base else page or "./"

    def ident(page: str) -> str:
        return base + page if base else uuid.uuid5(uuid.NAMESPACE_URL, f"litnotes:{site_name}:{page}").urn

    known = papers or {}
    read_on: dict[str, list[str]] = {}
    for p in sorted(known.values(), key=lambda p: p.label.lower()):
        if p.read:
            read_on.setdefault(p.read, []).append(p.id)
    updated = (reports[0].date if reports else "1970-01-01") + "T00:00:00Z"
    entries = []
    for r in reports:
        page = f"{REPORTS_DIR}/{r.date}/"
        ids = [i for i in dict.fromkeys([*r.papers, *read_on.get(r.date, ())]) if i in known]
        summary = _plain_text(r.summary)
        content = _paragraph_html(r.summary, r.path, href)
        if ids:
            items = "".join(f'<li><a href="{attr(href(f"papers/{i}/"))}">{_paper_label(known[i])}</a></li>'
                            for i in ids)
            content += f"<p>本期讨论的论文：</p><ul>{items}</ul>"
        entries.append(
            "  <entry>\n"
            f"    <title>{html_text(r.title)}</title>\n"
            f'    <link rel="alternate" type="text/html" href="{attr(href(page))}"/>\n'
            f"    <id>{html_text(ident(page))}</id>\n"
            f"    <updated>{html_text(r.date)}T00:00:00Z</updated>\n"
            f"    <summary>{html_text(summary or r.title)}</summary>\n"
            + (f'    <content type="html">{html_text(content)}</content>\n' if content else "")
            + "  </entry>\n")
    index = f"{REPORTS_DIR}/"
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom">\n'
            f"  <title>{html_text(site_name)} · 周报</title>\n"
            f'  <link rel="alternate" type="text/html" href="{attr(href(index))}"/>\n'
            f'  <link rel="self" type="application/atom+xml" href="{attr(href(FEED_PATH))}"/>\n'
            f"  <id>{html_text(ident(index))}</id>\n"
            f"  <updated>{html_text(updated)}</updated>\n"
            f"  <author><name>{html_text(site_name)}</name></author>\n"
            + "".join(entries) + "</feed>\n")


def _paper_label(p: Paper) -> str:
    """'DIST · Knowledge Distillation from A Stronger Teacher', as HTML text."""
    return html_text(f"{p.abbr} · {p.title}" if p.abbr else p.title)


_HREF = re.compile(r'href="([^"]*)"')


@lru_cache(maxsize=4096)
def _markdown_html(markdown_text: str) -> str:
    # A new Markdown instance per call costs more than the paragraph (~1 ms): once per text.
    return markdown.markdown(markdown_text, extensions=[CjkExtension()])


def _paragraph_html(markdown_text: str, page: str, href) -> str:
    """The paragraph as HTML, with links to other pages of the site rewritten for the feed."""
    if not markdown_text:
        return ""
    out = _markdown_html(markdown_text)

    def link(m: re.Match[str]) -> str:
        target = html.unescape(m.group(1))
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", target, re.I):
            return m.group(0)  # an address outside the site, an anchor, or site-absolute
        path, _, anchor = target.partition("#")
        doc = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
        if doc.endswith(".md"):
            doc = doc[:-3]
            doc = doc[: -len("index")] if doc == "index" or doc.endswith("/index") else doc + "/"
        return f'href="{attr(href(doc) + ("#" + anchor if anchor else ""))}"'

    return _HREF.sub(link, out)


def _plain_text(markdown_text: str) -> str:
    """The paragraph as one line of text for ``<summary>``."""
    if not markdown_text:
        return ""
    text = re.sub(r"<[^>]+>", "", _paragraph_html(markdown_text, "", lambda page: page))
    return " ".join(html.unescape(text).split())


def report_friday(today: _dt.date) -> _dt.date:
    """The date of this week's report: the Friday of ``today``'s week (Monday to Sunday).

    On Saturday and Sunday that is the Friday just past: the week being written up.
    """
    return today + _dt.timedelta(days=4 - today.weekday())


def report_week(day: _dt.date) -> tuple[_dt.date, _dt.date]:
    """The Monday and the Sunday of ``day``'s week: the papers read then belong to its report."""
    monday = day - _dt.timedelta(days=day.weekday())
    return monday, monday + _dt.timedelta(days=6)


def read_in_week(day: _dt.date, reads: Mapping[str, str]) -> list[str]:
    """Ids of the papers whose ``read:`` date (``reads``: id -> date) is in ``day``'s week, oldest read first."""
    monday, sunday = (d.isoformat() for d in report_week(day))
    return [pid for read, pid in sorted((read, pid) for pid, read in reads.items()
                                        if is_iso_date(read) and monday <= read <= sunday)]


def report_skeleton(day: _dt.date, reads: Mapping[str, str]) -> str:
    """The Markdown of a new weekly report for ``day``.

    The sections are those every report has had since 2024-04-19 (papers read, code practice,
    project progress, math).  ``reads`` maps paper ids to their ``read:`` dates; every paper read
    in ``day``'s week gets a ``::: paper`` line (oldest read first), which the build fills from
    its record.  The hints are HTML comments: they never show on the site.
    """
    date = day.isoformat()
    monday, sunday = report_week(day)
    week = read_in_week(day, reads)
    if week:
        papers = ["每篇论文的标题、会议与代码链接以及摘要笔记都来自 `papers/` 中对应的记录，"
                  "点击标题可查看完整的论文页面。", ""]
        for pid in week:
            papers += [f"::: paper {pid}", ""]
    else:
        papers = [(f"<!-- 没有记录的 read: 日期在 {monday.isoformat()} 至 {sunday.isoformat()} 之间。"
                   f"读完一篇论文，在它的记录中写上 read: {date}，再在这里加一行 ::: paper 加上它的 id。 -->"), ""]
    out = ["---", f"title: 周报 {date}", "---", "", f"# 周报 {date}", "",
           "<!-- 本周小结：读了哪些方向的论文，下一步打算做什么。 -->", "",
           "## 论文阅读", "", *papers, "---", "",
           "## 代码实践", "", "<!-- 本周读过或写过的代码；较长的整理到 docs/code/ 并在这里链接。 -->", "", "---", "",
           "## 项目进展", "", "<!-- 项目做到了哪一步，遇到了什么问题。 -->", "", "---", "",
           "## 数学", "", "<!-- 本周的推导；完整的推导整理到 docs/math/ 并在这里链接。 -->", ""]
    return "\n".join(out)
