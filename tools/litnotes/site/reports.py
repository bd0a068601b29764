"""Weekly reports: ``docs/reports/<YYYY-MM-DD>.md``, listed newest first and offered as an Atom feed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from litnotes.records.validate import REPORTS_DIR, is_iso_date
from litnotes.site.escape import attr, html_text

__all__ = ["Report", "read_reports", "atom_feed"]

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
