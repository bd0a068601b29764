"""Weekly reports: ``docs/reports/<YYYY-MM-DD>.md``, listed newest first and offered as an Atom feed."""

from __future__ import annotations

import html
import posixpath
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from xml.sax.saxutils import escape

import markdown

from litnotes.records.model import Paper
from litnotes.site.cjk import CjkExtension
from litnotes.records.validate import REPORTS_DIR, is_iso_date

__all__ = ["Report", "read_reports", "atom_feed", "FEED_PATH"]

#: Where the feed is, relative to the site's root.  At the root, not in reports/: Material's
#: script reads every ``<link rel="alternate">`` in a page's head as a translation of the
#: site and fetches ``sitemap.xml`` next to it; next to a feed in reports/ there is none (404
#: on every page), at the root there is the site's own.
FEED_PATH = "feed.xml"

_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)
_FRONT_TITLE = re.compile(r"\A---\n(?:.*\n)*?title:\s*(.+)\n(?:.*\n)*?---\n")
_FRONT_MATTER = re.compile(r"\A---\n(?:.*\n)*?---\n")
# A ``::: paper <id>`` line (litnotes.site.directives); a report names the papers it discusses so.
_PAPER_DIRECTIVE = re.compile(r"^::: *paper +(\S+) *$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
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
    fence = None
    for line in _FRONT_MATTER.sub("", text, count=1).split("\n"):
        if m := _FENCE.match(line):
            if fence is None:
                fence = m.group(1)[0] * 3
            elif line.strip().startswith(fence):
                fence = None
            blocks.append([])
            continue
        if fence is not None:
            continue
        if m := _PAPER_DIRECTIVE.match(line):
            ids.append(m.group(1))
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
            items = "".join(f'<li><a href="{html.escape(href(f"papers/{i}/"))}">{_paper_label(known[i])}</a></li>'
                            for i in ids)
            content += f"<p>本期讨论的论文：</p><ul>{items}</ul>"
        entries.append(
            "  <entry>\n"
            f"    <title>{escape(r.title)}</title>\n"
            f'    <link rel="alternate" type="text/html" href="{escape(href(page))}"/>\n'
            f"    <id>{escape(ident(page))}</id>\n"
            f"    <updated>{r.date}T00:00:00Z</updated>\n"
            f"    <summary>{escape(summary or r.title)}</summary>\n"
            + (f'    <content type="html">{escape(content)}</content>\n' if content else "")
            + "  </entry>\n")
    index = f"{REPORTS_DIR}/"
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom">\n'
            f"  <title>{escape(site_name)} · 周报</title>\n"
            f'  <link rel="alternate" type="text/html" href="{escape(href(index))}"/>\n'
            f'  <link rel="self" type="application/atom+xml" href="{escape(href(FEED_PATH))}"/>\n'
            f"  <id>{escape(ident(index))}</id>\n"
            f"  <updated>{updated}</updated>\n"
            f"  <author><name>{escape(site_name)}</name></author>\n"
            + "".join(entries) + "</feed>\n")


def _paper_label(p: Paper) -> str:
    """'DIST · Knowledge Distillation from A Stronger Teacher', as HTML text."""
    return html.escape(f"{p.abbr} · {p.title}" if p.abbr else p.title, quote=False)


_HREF = re.compile(r'href="([^"]*)"')


def _paragraph_html(markdown_text: str, page: str, href) -> str:
    """The paragraph as HTML, with links to other pages of the site rewritten for the feed."""
    if not markdown_text:
        return ""
    out = markdown.markdown(markdown_text, extensions=[CjkExtension()])

    def link(m: re.Match[str]) -> str:
        target = html.unescape(m.group(1))
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", target, re.I):
            return m.group(0)  # an address outside the site, an anchor, or site-absolute
        path, _, anchor = target.partition("#")
        doc = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
        if doc.endswith(".md"):
            doc = doc[:-3]
            doc = doc[: -len("index")] if doc == "index" or doc.endswith("/index") else doc + "/"
        return f'href="{html.escape(href(doc) + ("#" + anchor if anchor else ""))}"'

    return _HREF.sub(link, out)


def _plain_text(markdown_text: str) -> str:
    """The paragraph as one line of text for ``<summary>``."""
    if not markdown_text:
        return ""
    text = re.sub(r"<[^>]+>", "", _paragraph_html(markdown_text, "", lambda page: page))
    return " ".join(html.unescape(text).split())
