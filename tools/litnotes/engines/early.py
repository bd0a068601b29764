"""Under ``mkdocs serve``: a changed page is served as soon as its rebuild has made it, not when the whole site is done.

MkDocs answers no request while it rebuilds (``LiveReloadServer`` waits until the
build ends) and tells browsers to reload only at the end.  At a thousand papers the
build then spends most of its time on the ~1,350 pages an edit did not change.  The
litnotes plugin builds the pages whose content changed first (see
:meth:`litnotes.engines.mkdocs.LitnotesPlugin.on_env`) and hands each one, as MkDocs
writes it, to :class:`EarlyPages`, which:

* once the theme's files and the site's assets are written (before the first page),
  tells browsers to reload, as MkDocs does at the end;
* answers a request for a page made in this rebuild with that page at once, and a
  request for a page the edit removed with the site's 404 page;
* holds every other request for a page or for the search data until the rebuild has
  made it (or until the rebuild ends), so nothing half-built is ever served: assets
  are final by then and are served as usual.

A page is handed over only while the rebuild has logged no problem: a problem would
put the problem panel on every page at the end of the rebuild.  If one is logged
later, after pages were handed over, browsers are told to reload once more when the
rebuild ends.  The bytes are those MkDocs writes for the page; ``tests/test_serve.py``
compares them with the file the rebuild leaves.

Before a rebuild starts, the plugin may hand over pages it rendered quickly
(:mod:`litnotes.engines.mkdocs_quick`, :meth:`EarlyPages.quick`): browsers reload at
once, and their assets come from the folder being served, the last complete site
(the rebuild writes the other of the preview's two folders; the server changes to it
once the rebuild's assets are written).  Each quick page stands until the rebuild
hands over its own; one that differs (or that the rebuild does not hand over) makes
browsers reload again when the rebuild ends.  A rebuild stopped for a newer edit
(:meth:`EarlyPages.superseded`) leaves requests waiting for the next one.
"""

from __future__ import annotations

import functools
import posixpath
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["EarlyPages"]

def _held(rel: str) -> bool:
    """A file the rebuild writes only with the pages or after them (not an asset)."""
    return rel.endswith(".html") or rel.startswith("search/")


class EarlyPages:
    """The pages of the rebuild in progress that are final, and the requests waiting for them.

    Everything happens under the server's own condition (``_epoch_cond``), which MkDocs
    notifies when a rebuild ends: a request waits for exactly one thing, whichever comes first.
    """

    def __init__(self, server: Any) -> None:
        self._server = server
        self._cond: threading.Condition = server._epoch_cond
        self._building = False
        self._announced = False
        self._pages: dict[str, bytes] = {}
        self._gone: frozenset[str] = frozenset()
        self._quick: dict[str, bytes] = {}
        self.differed: list[str] = []
        """Pages shown quickly that the rebuild made otherwise (the last rebuild's; never, if all is well)."""
        self.handed = 0
        """Pages handed over in the last rebuild (for the log and the tests)."""
        self._waiting: Counter[str] = Counter()
        original: Callable = server._serve_request
        server._serve_request = functools.partial(self._serve, original)

    # -- the build's side ------------------------------------------------------------------------

    def quick(self, pages: dict[str, bytes], gone: Iterable[str]) -> None:
        """Before the rebuild starts: pages rendered quickly (``litnotes.engines.mkdocs_quick``) and pages removed.

        Browsers reload at once; the assets they ask for come from the folder served, the
        last complete site (the rebuild writes the other folder).
        """
        server = self._server
        with self._cond:
            self._building = self._announced = True
            self._pages, self._quick = dict(pages), dict(pages)
            self._gone = frozenset(gone)
            self.handed, self.differed = 0, []
            server._visible_epoch = server._wanted_epoch
            self._cond.notify_all()

    def superseded(self, root: Path | None) -> None:
        """The rebuild stopped midway for a newer edit: ``root`` (the last complete site) is served again.

        Requests for pages keep waiting, for the next rebuild's quick pages or its own.
        """
        with self._cond:
            if root is not None:
                self._server.root = str(root)
            self._pages.clear()
            self._quick.clear()
            self._cond.notify_all()

    def waiting_for(self) -> set[str]:
        """The pages (site paths) requests are waiting for."""
        with self._cond:
            return set(self._waiting)

    def shown_quickly(self, dest_uri: str) -> bool:
        return dest_uri in self._quick

    def begin(self, gone: Iterable[str]) -> None:
        """A rebuild has read its files: ``gone`` are the pages the previous build had and this one will not."""
        with self._cond:
            if self._quick:
                # The quick pages stand until the rebuild makes its own; browsers have reloaded already.
                self._gone = self._gone | frozenset(gone)
                return
            self._building, self._announced = True, False
            self._pages.clear()
            self._gone = frozenset(gone)
            self.handed, self.differed = 0, []

    def assets_written(self, root: Path | None = None) -> None:
        """The theme's files and the assets are final (in ``root``, served from now on): browsers may reload."""
        server = self._server
        with self._cond:
            if root is not None:
                server.root = str(root)
            if self._building and not self._announced:
                self._announced = True
                server._visible_epoch = server._wanted_epoch
                self._cond.notify_all()

    def hand_over(self, dest_uri: str, data: bytes) -> None:
        """A page of this rebuild, exactly as MkDocs writes it."""
        with self._cond:
            quick = self._quick.pop(dest_uri, None)
            if quick is not None and quick != data:
                self.differed.append(dest_uri)
            if self._building and self._announced:
                self._pages[dest_uri] = data
                self.handed += 1
                self._cond.notify_all()

    def end(self, *, reload_again: bool, root: Path | None = None) -> None:
        """The rebuild is over (or failed; ``root`` None keeps the folder served).

        ``reload_again`` if pages handed over lack what it added at the end.
        """
        server = self._server
        with self._cond:
            # Pages handed over lack what the rebuild added at its end, or a page shown quickly was
            # not the rebuild's (or the rebuild did not hand it over).
            if (reload_again and self.handed) or self.differed or self._quick:
                # MkDocs makes the wanted epoch visible when the build returns: browsers reload once more.
                # Its epochs are milliseconds of the monotonic clock (mkdocs.livereload._timestamp).
                server._wanted_epoch = max(round(time.monotonic() * 1000), server._wanted_epoch + 1)
            if root is not None:
                server.root = str(root)
            self._building = False
            self._pages.clear()
            self._quick.clear()
            self._gone = frozenset()
            self._cond.notify_all()

    # -- the server's side -----------------------------------------------------------------------

    def _relative(self, path: str) -> str | None:
        """The file a request asks for, relative to the site, as ``LiveReloadServer`` finds it."""
        mount = self._server.mount_path
        if not (path + "/").startswith(mount):
            return None
        rel = path[len(mount):]
        if path.endswith("/"):
            rel += "index.html"
        return posixpath.normpath("/" + rel).lstrip("/")

    def _ready(self, rel: str) -> bool:
        server = self._server
        if not self._building and server._visible_epoch == server._wanted_epoch:
            return True  # no rebuild in progress: the folder is complete
        return self._announced and (rel in self._pages or rel in self._gone)

    def _serve(self, original: Callable, environ: dict, start_response: Callable) -> Any:
        path = environ["PATH_INFO"].encode("latin-1").decode("utf-8", "ignore")
        rel = None if path.startswith("/livereload/") else self._relative(path)
        if rel is None or not _held(rel):
            return original(environ, start_response)  # assets: MkDocs waits until they are written
        with self._cond:
            if not self._ready(rel):
                self._waiting[rel] += 1
                try:
                    self._cond.wait_for(lambda: self._ready(rel))
                finally:
                    self._waiting[rel] -= 1
                    if not self._waiting[rel]:
                        del self._waiting[rel]
            page = self._pages.get(rel) if self._building else None
            gone = self._building and rel in self._gone
            epoch = self._server._visible_epoch
        if gone:
            return None  # the server answers with the site's 404 page, already written
        if page is None:
            return original(environ, start_response)
        if self._server._watched_paths:
            page = self._server._inject_js_into_html(page, epoch)
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(page)))])
        return [page]
