"""Weekly reports: ``docs/reports/<YYYY-MM-DD>.md``, listed newest first and offered as an Atom feed."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from litnotes.records.validate import REPORTS_DIR, is_iso_date
from litnotes.site.escape import attr, html_text

__all__ = ["Report", "atom_feed", "read_in_week", "read_reports", "report_friday", "report_skeleton", "report_week"]

_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)
_FRONT_TITLE = re.compile(r"\A---\n(?:.*\n)*?title:\s*(.+)\n(?:.*\n)*?---\n")


@dataclass(frozen=True)
class Report:
    date: str
    title: str

    @property
    def path(self) -> str:
        """The page, relative to docs/."""
        return f"{REPORTS_DIR}/{self.date}.md"


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
        out.append(Report(path.stem, title))
    return sorted(out, key=lambda r: r.date, reverse=True)


def atom_feed(reports: list[Report], site_url: str, site_name: str) -> str:
    """An Atom 1.0 feed of the reports; links are absolute, built from ``site_url``."""
    base = site_url.rstrip("/") + "/" if site_url else ""
    updated = (reports[0].date if reports else "1970-01-01") + "T00:00:00Z"
    entries = []
    for r in reports:
        url = f"{base}{REPORTS_DIR}/{r.date}/"
        entries.append(
            "  <entry>\n"
            f"    <title>{html_text(r.title)}</title>\n"
            f'    <link href="{attr(url)}"/>\n'
            f"    <id>{html_text(url)}</id>\n"
            f"    <updated>{html_text(r.date)}T00:00:00Z</updated>\n"
            f"    <summary>{html_text(r.date)} 周报</summary>\n"
            "  </entry>\n")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom">\n'
            f"  <title>{html_text(site_name)} · 周报</title>\n"
            f'  <link href="{attr(base)}{REPORTS_DIR}/"/>\n'
            f'  <link rel="self" href="{attr(base)}{REPORTS_DIR}/feed.xml"/>\n'
            f"  <id>{html_text(base)}{REPORTS_DIR}/</id>\n"
            f"  <updated>{html_text(updated)}</updated>\n"
            f"  <author><name>{html_text(site_name)}</name></author>\n"
            + "".join(entries) + "</feed>\n")


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
        papers = ["每篇论文的标题、会议与代码链接以及摘要笔记都来自 `papers/` 中对应的记录，点击标题可查看完整的论文页面。", ""]
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
