"""``mkdocs serve`` as a preview that never freezes: problems are shown on the pages, not fatal.

``mkdocs.yml`` sets ``strict: true`` so that ``mkdocs build`` and CI fail on any
problem.  Under ``mkdocs serve`` that same strictness freezes the preview: a
rebuild with one warning is aborted and the server stops answering until the
next good rebuild, and MkDocs even counts its own server's ``"GET /x" code 404``
log lines as warnings of the rebuild running meanwhile.  So under ``serve``
only, the litnotes plugin:

* takes MkDocs's strict-mode warning counter off for the rebuild
  (:func:`lenient`), so a rebuild is never aborted;
* collects every warning the rebuild logs (:class:`BuildLog`; the server's
  request lines are not the build's) and puts them in a panel at the top of
  every page (:func:`panel_html`, :func:`add_panel`);
* builds a draft page for a record that cannot be published yet, such as the
  one ``litnotes new`` just wrote, listing its ``# TODO`` placeholders and its
  problems (:func:`draft_page`).

Every value shown comes from files being edited, so all of it is escaped
here as text: a draft page never passes an unchecked value to the renderer.
``litnotes check`` and ``mkdocs build`` are untouched and stay strict.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

from mkdocs.utils import CountHandler

from litnotes.problems import Problem

__all__ = ["PANEL_CLASS", "BuildLog", "add_panel", "draft_page", "lenient", "panel_html", "todos"]

PANEL_CLASS = "litnotes-problems"
"""The class of the problem panel (styled by ``assets/litnotes-preview.css``)."""

_MKDOCS = logging.getLogger("mkdocs")
# The live-reload server logs each request; a 404 for a stale asset is not the build's problem.
_SERVER_LOGGERS = ("mkdocs.livereload",)


def lenient() -> int:
    """Stop MkDocs counting this build's warnings for strict mode; returns how many counters were removed.

    ``mkdocs.commands.build.build`` adds a ``CountHandler`` to the ``mkdocs``
    logger before any plugin event when ``strict`` is set and raises ``Abort``
    at the end if it counted anything; there is no setting for this under
    ``serve``, so the handler is taken off (the build removes it itself at the end).
    """
    counters = [h for h in _MKDOCS.handlers if isinstance(h, CountHandler)]
    for handler in counters:
        _MKDOCS.removeHandler(handler)
    return len(counters)


class BuildLog(logging.Handler):
    """Collects the warnings and errors of one build, in order and without repeats."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: dict[str, None] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(_SERVER_LOGGERS):
            return
        try:
            message = record.getMessage().strip()
        except Exception:  # a bad log call must not break the build
            return
        if message:
            self.messages[message] = None

    def __enter__(self) -> Self:
        _MKDOCS.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _MKDOCS.removeHandler(self)


# One pass, so that no entity is escaped twice: HTML's specials, and what Markdown, its extensions
# (emoji :shortcodes:, attribute lists {: }) or the math plugin ($, \) would read in a heading.
_INERT = {ord(c): f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]$:!#|~"} | {ord("\n"): "&#10;", ord("\r"): None}


def _text(value: Any) -> str:
    """Any value as inert text inside HTML inside Markdown: no tag, no Markdown, no math, no line break."""
    return str(value).translate(_INERT)


# "papers/x.yaml:8:10: error: message" -> location, rest
_LOCATED = re.compile(r"^(?P<where>[^\s:][^:\n]*:\d+:\d+): (?:(?:error|warning): )?(?P<message>.*)$", re.DOTALL)


def _panel_order(message: str) -> tuple:
    """Messages without a place first, then by file, line, column: the same panel in whatever order pages are built."""
    m = _LOCATED.match(message)
    if not m:
        return (0, message)
    path, line, col = m.group("where").rsplit(":", 2)
    return (1, path, int(line), int(col), message)


def panel_html(messages: Iterable[str]) -> str:
    """The problem panel: one item per message, ``FILE:LINE:COL`` first, in the order of :func:`_panel_order`;
    empty when there is nothing to show."""
    items = []
    for message in sorted(messages, key=_panel_order):
        m = _LOCATED.match(message)
        if m:
            items.append(f"<li><code>{_text(m.group('where'))}</code> {_text(m.group('message'))}</li>")
        else:
            items.append(f"<li>{_text(message)}</li>")
    if not items:
        return ""
    return (f'<div class="{PANEL_CLASS}" role="alert"><p class="{PANEL_CLASS}__title">预览发现 {len(items)} 个问题'
            "（<code>litnotes check</code> 与 <code>mkdocs build --strict</code> 会因此失败；修正后本提示自动消失）："
            f"</p><ul>{''.join(items)}</ul></div>")


_BODY = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)


def add_panel(site_dir: Path | str, panel: str) -> int:
    """Put ``panel`` right after ``<body>`` in every HTML page under ``site_dir``; returns how many pages."""
    if not panel:
        return 0
    data = panel.encode("utf-8")
    count = 0
    for folder, _, names in os.walk(site_dir):
        for name in names:
            if not name.endswith(".html"):
                continue
            path = Path(folder, name)
            page = path.read_bytes()
            m = _BODY.search(page)
            if m:
                path.write_bytes(page[:m.end()] + data + page[m.end():])
                count += 1
    return count


_TODO = re.compile(r"#\s*TODO\b:?\s*(?P<what>.*)$")


def todos(text: str) -> list[tuple[int, str]]:
    """(line, what) of every ``# TODO`` placeholder, as ``litnotes new`` writes them."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        m = _TODO.search(line)
        if m:
            out.append((number, m.group("what").strip() or line.strip()))
    return out


_FIELDS = (("title", "标题"), ("abbr", "简称"), ("authors", "作者"), ("venue", "会议/期刊"), ("year", "年份"),
           ("category", "分类"), ("arxiv", "arXiv"), ("doi", "DOI"), ("url", "论文页面"), ("code", "官方代码"),
           ("tags", "标签"))


def draft_page(stem: str, path: str, text: str, data: Any, problems: Iterable[Problem]) -> str:
    """The preview's page for a record that is not ready: its TODOs and problems, then its fields as text.

    ``data`` is the parsed record (or None when it could not be parsed).
    Nothing is rendered as Markdown or linked: the values have not passed the checks.
    """
    fields = data if isinstance(data, dict) else {}
    # Not the record's title: MkDocs and the theme turn a heading back into text for <title>, unescaped.
    parts = [f"# 草稿：{_text(stem)}", ""]
    notes = [f"<li><code>{_text(path)}:{line}</code> TODO: {_text(what)}</li>" for line, what in todos(text)]
    notes += [f"<li><code>{_text(f'{p.path}:{p.line}:{p.col}')}</code> {_text(p.message)}</li>" for p in problems]
    parts.append(f'<div class="litnotes-draft" role="note"><p><strong>草稿</strong>：<code>{_text(path)}</code> '
                 "还不能发布，填好下面各项后这里显示正式页面。</p>"
                 f"<ul>{''.join(notes)}</ul></div>")
    parts.append("")
    rows = []
    for name, label in _FIELDS:
        value = fields.get(name)
        if value in (None, "", []):
            continue
        shown = "、".join(map(str, value)) if isinstance(value, list) else value
        rows.append(f"<tr><th>{label}</th><td>{_text(shown)}</td></tr>")
    if rows:
        parts += [f'<table class="litnotes-draft-fields">{"".join(rows)}</table>', ""]
    for name, label in (("summary", "摘要"), ("notes", "笔记")):
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            parts += [f"<h2>{label}</h2>", "", f'<pre class="litnotes-draft-text">{_text(value.strip())}</pre>', ""]
    return "\n".join(parts)
