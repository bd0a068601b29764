"""Under ``mkdocs serve``: the page of an edited record (or hand-written page) rendered before MkDocs rebuilds the site.

MkDocs reads and converts every page before it writes any, so at a thousand papers
even the changed page waits for the whole site's first half (seconds).  But the
page of one edited record depends on little: its record, the records it names and
that name it, the pages that mention it, and the theme's navigation.  Before each
rebuild the litnotes plugin (:meth:`litnotes.engines.mkdocs.LitnotesPlugin.quick`)
therefore looks for what changed since the last rebuild that ended without problems
(:func:`stamps`, :func:`changes`) and, when only records and the Markdown of existing
hand-written pages changed, renders those pages with the last rebuild's
configuration, files, navigation and Jinja environment, through every plugin's page
events as MkDocs would (:func:`render_page`).  The rebuild then runs as usual and
makes every page; each page rendered here is compared with the rebuild's own, and a
difference makes browsers reload again (``litnotes.engines.early``).

Anything the quick render logs (a warning would put the problem panel on every page)
means it is not used: the rebuild alone decides then.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mkdocs.commands.build import _populate_page, get_context

__all__ = ["Changes", "Unusable", "changes", "quiet", "render_page", "stamps"]

Stamp = tuple[int, int]


class Unusable(Exception):
    """The quick render cannot stand for the rebuild's page (the reason is the message)."""


def stamps(folders: Iterable[Path], files: Iterable[Path] = ()) -> dict[str, Stamp]:
    """Every file under ``folders`` (and each of ``files``), by path: its modification time and size."""
    out: dict[str, Stamp] = {}

    def walk(folder: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path)
                elif entry.is_file():
                    st = entry.stat()
                    out[entry.path] = (st.st_mtime_ns, st.st_size)
            except OSError:
                continue

    for folder in folders:
        walk(str(folder))
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            continue
        out[str(path)] = (st.st_mtime_ns, st.st_size)
    return out


@dataclass
class Changes:
    """What changed between two :func:`stamps`: changed, added and removed paths."""

    changed: set[str] = field(default_factory=set)
    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.removed)

    @property
    def paths(self) -> set[str]:
        return self.changed | self.added | self.removed


def changes(before: dict[str, Stamp], now: dict[str, Stamp]) -> Changes:
    return Changes(changed={p for p, s in now.items() if p in before and before[p] != s},
                   added=now.keys() - before.keys(), removed=before.keys() - now.keys())


class _Quiet(logging.Filter):
    """Drops the records this thread logs (the rebuild logs them again) and keeps the worst level."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()
        self.worst = logging.NOTSET
        self.first: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread:
            return True
        if record.levelno >= logging.WARNING and self.first is None:
            self.first = record.getMessage()
        self.worst = max(self.worst, record.levelno)
        return False


@contextmanager
def quiet() -> Iterator[_Quiet]:
    """Silence this thread's log records while the quick render runs; the filter tells the worst one seen."""
    f = _Quiet()
    handlers = {h for name in ("", "mkdocs") for h in logging.getLogger(name).handlers}
    for h in handlers:
        h.addFilter(f)
    try:
        yield f
    finally:
        for h in handlers:
            h.removeFilter(f)


def render_page(page: Any, config: Any, files: Any, doc_files: Any, nav: Any, env: Any) -> str:
    """The HTML MkDocs 1.6 writes for ``page`` (``_populate_page`` then ``_build_page``, without the write).

    The last rebuild's objects stand for this one's: the caller makes sure nothing
    they hold changed apart from what it passes in (the page's source).
    """
    _populate_page(page, config, files)
    config._current_page = page
    try:
        page.active = True
        context = get_context(nav, doc_files, config, page)
        template = env.get_template(page.meta.get("template", "main.html"))
        context = config.plugins.on_page_context(context, page=page, config=config, nav=nav)
        output = template.render(context)
        output = config.plugins.on_post_page(output, page=page, config=config)
    finally:
        page.active = False
        config._current_page = None
    if not output.strip():
        raise Unusable(f"{page.file.src_uri} renders empty")
    return output
