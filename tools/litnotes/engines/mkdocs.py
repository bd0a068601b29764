"""The MkDocs adapter of the records (with ``mathplugin`` and ``watch``, the only code that knows MkDocs).

It loads the records, logs their problems (``--strict`` turns them into a
failed build), adds the rendered pages as in-memory files, expands directives
in hand-written pages and watches ``papers/`` under ``mkdocs serve`` (with native
file-system events, :mod:`litnotes.engines.watch`).  Under ``mkdocs serve`` the
preview never freezes: problems are listed on every page and records that are
not ready get draft pages (:mod:`litnotes.engines.preview`).  Before each rebuild
under ``mkdocs serve``, the pages of edited records and hand-written pages are
rendered quickly from the last rebuild's objects and shown first
(:meth:`LitnotesPlugin.quick`, :mod:`litnotes.engines.mkdocs_quick`).
"""

from __future__ import annotations

import contextlib
import functools
import html as htmllib
import logging
import posixpath
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from litnotes.engines import memory_site
from litnotes.engines.early import EarlyPages
from litnotes.engines.mkdocs_cache import ServeCache
from litnotes.engines.mkdocs_quick import Unusable, changes, quiet, render_page, stamps
from litnotes.engines.nav import index_sections, section_of
from litnotes.engines.preview import BuildLog, add_panel, draft_page, lenient, panel_html
from litnotes.engines.watch import use_native_events
from litnotes.records.load import parse_yaml, read_source
from litnotes.records.validate import load_knowledge_base, record_ids
from litnotes.site.directives import expand
from litnotes.site.graph import GRAPH_CACHE, Viz, VizError, find_viz
from litnotes.site.pages import paper_page, paper_path, render_site
from litnotes.site.reports import read_reports
from litnotes.site.search_index import INDEX_PATH, SearchIndexError, cached_index_json, dumps, stub

__all__ = ["LitnotesPlugin"]

log = logging.getLogger("mkdocs.plugins.litnotes")

_ASSETS = ("litnotes.css", "litnotes.js", "litnotes-preview.css", "reader.css")
#: litnotes' search worker: overrides/main.html points Material's search at it (not loaded by the pages).
SEARCH_WORKER = "assets/litnotes/search-worker.js"
_RECORD_BLOCK = re.compile(r'<div class="litnotes-md">\n.*?\n</div>', re.DOTALL)
# A relative destination: no scheme, not absolute, not only a fragment.
_RELATIVE = re.compile(r'\b(href|src)="(?![A-Za-z][A-Za-z0-9+.-]*:|/|#)([^"]+)"')
# A record file name that can be a page while it is still a draft (not yet a valid id, perhaps).
_DRAFT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class _Config(Config):
    papers = c.Type(str, default="papers")
    """Records folder, relative to the folder of mkdocs.yml."""
    edit_branch = c.Type(str, default="main")
    """Branch that the 'edit this record' links point at."""
    watcher = c.Choice(("native", "polling"), default="native")
    """How ``mkdocs serve`` notices edits: the platform's file-system events, or MkDocs's polling."""


@dataclass
class _Snapshot:
    """What the last rebuild without problems was made from, for the quick render of the next edit."""

    config: object
    files: Files
    nav: object
    env: object
    stamps: dict
    """The files that rebuild read (:func:`litnotes.engines.mkdocs_quick.stamps`)."""
    states: list[dict]
    """Each plugin's attributes at the end of that rebuild (a rebuild that stops midway changes them);
    litnotes' own include its records, reports and hand-written pages."""
    added: set[str] = field(default_factory=set)
    """Record files whose pages quick renders added to these objects."""


class _Superseded(BaseException):
    """A newer edit came while a rebuild read or wrote its pages: it stops, and the next one starts.

    Not an ``Exception``: MkDocs would log it as an error of the page being read.
    """


def _edit_base(config, docs: Path, root: Path, branch: str) -> str | None:
    """The address that repository paths are appended to for 'edit' links, if the site has one."""
    edit_uri = config.edit_uri or ""
    if edit_uri and config.repo_url and not edit_uri.startswith(("http://", "https://")):
        # As MkDocs reads it: relative to the repository, so the branch is named once.
        edit_uri = urljoin(config.repo_url.rstrip("/") + "/", edit_uri)
    if edit_uri.startswith(("http://", "https://")):
        # edit_uri names the docs folder; its parent is the repository root.
        docs_rel = docs.relative_to(root).as_posix() if docs.is_relative_to(root) else docs.name
        return urljoin(edit_uri, "../" * (docs_rel.count("/") + 1))
    if config.repo_url:
        return f"{config.repo_url.rstrip('/')}/edit/{branch}/"
    return None


class LitnotesPlugin(BasePlugin[_Config]):
    serving = False
    """True under ``mkdocs serve``: problems go to a panel on every page instead of failing the build."""
    _last_good: tuple | None = None
    _build_log: BuildLog | None = None
    _cache: ServeCache | None = None
    _early: EarlyPages | None = None
    """Under ``mkdocs serve``, hands changed pages to the server as soon as they are made."""
    _page_dests: frozenset[str] = frozenset()
    _canonical: tuple[str, ...] = ()
    _site_dir: Path | None = None
    """Under ``mkdocs serve``, the folder in memory the preview is built in (:mod:`litnotes.engines.memory_site`)."""
    _worker_page: str | None = None
    _worker_used = False
    _snap: _Snapshot | None = None
    """Under ``mkdocs serve``, the last rebuild without problems (:meth:`quick`); None once unusable."""
    _folders: tuple[Path, Path] | None = None
    """Under ``mkdocs serve``, the two folders the preview is built in turn: one is served, the other built."""
    _served: Path | None = None
    _complete: Path | None = None
    """The folder of the last rebuild that ended (served again when a rebuild stops midway)."""
    _server = None

    def on_startup(self, *, command: str, dirty: bool) -> None:
        # Defining on_startup also keeps this instance across serve's rebuilds (MkDocs >= 1.4),
        # so the last good pages survive a rebuild that cannot make new ones.
        self.serving = command == "serve"
        self._last_good: tuple | None = None
        self._build_log: BuildLog | None = None
        # Under serve only: per-page work whose inputs did not change is reused (litnotes.engines.mkdocs_cache).
        self._cache = ServeCache() if self.serving else None
        self._site_dir = None
        self._early = None
        self._page_dests = frozenset()
        self._canonical = ()
        self._snap = None
        self._folders = self._served = self._complete = self._server = None

    def on_config(self, config):
        self.root = Path(config.config_file_path).parent
        self.docs = Path(config.docs_dir)
        for name in _ASSETS:
            target = f"assets/litnotes/{name}"
            bucket = config.extra_css if name.endswith(".css") else config.extra_javascript
            if target not in bucket:
                bucket.append(target)
        # overrides/main.html points Material's search at litnotes' worker only when the plugin says where it is.
        config.extra["litnotes_search_worker"] = SEARCH_WORKER
        if self._folders is not None:
            config.site_dir = str(self._target())
        if self.serving:
            # A preview that never freezes (litnotes.engines.preview): no strict abort, a problem panel instead.
            lenient()
            self._build_log = BuildLog().__enter__()
        return config

    def _target(self) -> Path:
        """The folder the next rebuild writes: not the one being served."""
        assert self._folders is not None
        a, b = self._folders
        return b if self._served == a else a

    def _stamps(self, config) -> dict:
        """Every file a rebuild reads that an edit can change, for :meth:`quick`."""
        folders = [self.root / self.config.papers, self.docs]
        if config.theme.custom_dir:
            folders.append(Path(config.theme.custom_dir))
        return stamps(folders, [Path(config.config_file_path)])

    def _docs_rel(self) -> str:
        return self.docs.relative_to(self.root).as_posix() if self.docs.is_relative_to(self.root) else str(self.docs)

    def on_files(self, files: Files, config) -> Files:
        self._stop_if_superseded()
        # Before anything is read: an edit made while this rebuild reads is seen by the next quick render.
        self._read_stamps = self._stamps(config) if self.serving else {}
        docs_rel = self._docs_rel()
        edit_base = _edit_base(config, self.docs, self.root, self.config.edit_branch)
        try:
            self.kb, problems = load_knowledge_base(self.root, self.config.papers, docs_rel)
            self.reports = read_reports(self.docs)
            # Records with problems of their own: reported here, not again from each report naming them.
            self.broken = record_ids(self.root / self.config.papers) - self.kb.papers.keys()
            # Every hand-written page, as written: the paper pages list the pages that mention them.
            handwritten = {f.src_uri: f.content_string for f in files.documentation_pages()}
            pages = self._render(handwritten, edit_base=edit_base, site_url=config.site_url,
                                 site_name=config.site_name, directory_urls=config.use_directory_urls)
            self._handwritten = handwritten
            self._stop_if_superseded()
            if self.serving:
                pages.update(self._drafts(problems, pages))
                self._last_good = (self.kb, self.reports, self.broken, pages)
        except Exception as exc:
            if not self.serving or self._last_good is None:
                raise
            log.error(f"litnotes: the pages could not be generated ({type(exc).__name__}: {exc}); "
                      "the preview shows the last ones that could")
            (self.kb, self.reports, self.broken, pages), problems = self._last_good, []
        for problem in problems:
            log.warning(problem.text())
        self.edit_base = edit_base
        self.sources = {paper_path(p.id): p.path for p in self.kb.papers.values()}
        for path, content in pages.items():
            if files.get_file_from_path(path) is not None:
                log.warning(f"{docs_rel}/{path}: this page is generated from the records; "
                            "remove the hand-written file of the same name")
                continue
            files.append(File.generated(config, path, content=content))
        for name in _ASSETS:
            data = resources.files("litnotes").joinpath("assets", name).read_bytes()
            files.append(File.generated(config, f"assets/litnotes/{name}", content=data))
        worker = resources.files("litnotes").joinpath("assets", posixpath.basename(SEARCH_WORKER)).read_bytes()
        files.append(File.generated(config, SEARCH_WORKER, content=worker))
        if self.serving:
            dests = frozenset(f.dest_uri for f in files if f.is_documentation_page())
            if self._early is not None:
                self._early.begin(gone=self._page_dests - dests)
            self._page_dests = dests
        return files

    def _render(self, handwritten: dict[str, str], **options) -> dict[str, str]:
        """The generated pages, with lineage graphs when Graphviz (npm @viz-js/viz) is installed."""
        script = find_viz(self.root)
        if script is None:
            log.info("litnotes: lineage graphs are text only: @viz-js/viz is not installed (run `make setup`)")
        else:
            try:
                with Viz.shared(script, self.root / GRAPH_CACHE).drawing() as draw:
                    return render_site(self.kb, self.reports, handwritten=handwritten, draw=draw, **options)
            except VizError as e:
                log.warning(f"litnotes: lineage graphs are text only: {e}")
        return render_site(self.kb, self.reports, handwritten=handwritten, **options)

    @contextlib.contextmanager
    def _drawing(self) -> Iterator:
        """Graphviz's ``draw`` as :meth:`_render` had it (None: text only); a VizError makes the page unusable."""
        script = find_viz(self.root)
        if script is None:
            yield None
            return
        try:
            with Viz.shared(script, self.root / GRAPH_CACHE).drawing() as draw:
                yield draw
        except VizError as e:
            raise Unusable(f"lineage graphs: {e}") from e

    def on_pre_build(self, config) -> None:
        self._next_targets: set[str] | None = None
        self._site_dir_now = config.site_dir
        # The first page written says whether the theme starts litnotes' search worker (on_post_page).
        self._worker_page: str | None = None
        self._worker_used = False
        if self._cache is not None:
            self._cache.begin(config)

    def on_env(self, env, config, files):
        self._env, self._files = env, files
        if self._cache is not None:
            self._cache.hook_templates(env, config, self._nav)
            # The pages whose content changed are built first (smallest first), so the preview
            # can serve them before the rest (litnotes.engines.early); search data keeps the order.
            order = files.documentation_pages
            changed = self._cache.changed
            self._canonical = tuple(f.src_uri for f in order(inclusion=InclusionLevel.is_in_serve))

            def changed_first(**kwargs):
                pages = order(**kwargs)
                if "inclusion" not in kwargs:
                    return pages  # the theme's templates (the sitemap) list the pages in their own order
                # MkDocs's own request, for the pages it builds.
                return sorted(pages, key=lambda f: (f.src_uri not in changed, changed.get(f.src_uri, 0)))

            files.documentation_pages = changed_first
        return env

    def on_page_context(self, context, page, config, nav):
        self._stop_if_superseded()
        # The theme's files and assets are written before the first page. Pages are served early only
        # from a rebuild without problems: the problem panel is added to every page at its end.
        if self._early is not None and self._build_log is not None and not self._build_log.messages:
            self._serve_built(assets_only=True)
        return context

    def _serve_built(self, *, assets_only: bool, reload_again: bool = False) -> None:
        """The rebuild's folder is served from now on: its assets are written (or the rebuild is over)."""
        assert self._early is not None
        root = None
        if self._folders is not None:
            root = Path(self._site_dir_now)
            self._served = root
        if assets_only:
            self._early.assets_written(root)
        else:
            self._complete = root
            self._early.end(reload_again=reload_again, root=root)

    def _stop_if_superseded(self) -> None:
        """Stop this rebuild if a newer edit is waiting whose pages can be shown quickly,
        unless someone waits for a page only this rebuild would make."""
        server, early, snap = self._server, self._early, self._snap
        if server is None or early is None or snap is None or not server._want_rebuild:
            return
        if self._next_targets is None:
            self._next_targets = self._quick_targets(snap)
        targets = self._next_targets
        if targets and early.waiting_for() <= targets:
            raise _Superseded

    def _superseded(self) -> None:
        """After a rebuild stopped for a newer edit: its log is closed and the last complete site is served."""
        if self._build_log is not None:
            self._build_log.__exit__()
            self._build_log = None
        self._served = self._complete
        assert self._early is not None
        self._early.superseded(self._complete)
        log.info("litnotes: a newer edit came: this rebuild stops and the next one starts")

    @event_priority(-100)  # after every other plugin: what MkDocs writes
    def on_post_page(self, output: str, page, config) -> str:
        if self._worker_page is None:
            # Whether the theme starts litnotes' search worker (see _write_search_index).
            self._worker_page = page.file.src_uri
            self._worker_used = SEARCH_WORKER in output
        early = self._early
        if (early is not None and self._cache is not None and self._build_log is not None
                and not self._build_log.messages and output.strip()
                and (page.file.src_uri in self._cache.changed or early.shown_quickly(page.file.dest_uri))):
            early.hand_over(page.file.dest_uri, output.encode("utf-8", errors="xmlcharrefreplace"))
        return output

    def on_nav(self, nav, config, files):
        self._stop_if_superseded()
        self.sections = index_sections(nav.items)
        self._nav = nav
        return nav

    def on_pre_page(self, page, config, files):
        self._stop_if_superseded()
        # A page outside the nav joins its folder's section: the right tab is active, breadcrumbs lead back.
        if page.parent is None:
            page.parent = section_of(page.file.src_uri, self.sections)
        if self._cache is not None:
            self._cache.attach(page)
        return page

    def on_page_markdown(self, markdown: str, page, config, files) -> str:
        source = self.sources.get(page.file.src_uri) if page.file.generated_by else None
        if source and self.edit_base:
            # The edit button of a paper page opens its YAML record, not a docs/ file.
            page.edit_url = self.edit_base + source
        if ":::" not in markdown or page.file.generated_by:
            return markdown
        docs_rel = Path(config.docs_dir).name
        # MkDocs hands over the Markdown without its front matter: shift lines back.
        offset = max(page.file.content_string.count("\n") - markdown.count("\n"), 0)
        text, problems = expand(markdown, page.file.src_uri, self.kb, self.reports,
                                source=f"{docs_rel}/{page.file.src_uri}", offset=offset, broken_ids=self.broken)
        for problem in problems:
            log.warning(problem.text())
        return text

    def on_page_content(self, html: str, page, config, files) -> str:
        # Record Markdown reaches the page as a raw HTML block (litnotes.records.markdown), which
        # MkDocs does not rewrite: point its relative links at the built pages here.
        if 'class="litnotes-md"' not in html:
            return html
        folder = posixpath.dirname(page.file.src_uri)

        def resolve(m: re.Match[str]) -> str:
            value = htmllib.unescape(m.group(2))
            path, sep, fragment = value.partition("#")
            target = posixpath.normpath(posixpath.join(folder, path))
            found = files.get_file_from_path(target)
            if found is None:
                log.warning(f"{Path(config.docs_dir).name}/{page.file.src_uri}: a record's link '{value}' does not "
                            "reach a page or file of the site; fix it in the record (litnotes check shows where)")
                return m.group(0)
            url = get_relative_url(found.url, page.url) + (sep + fragment)
            return f'{m.group(1)}="{htmllib.escape(url)}"'

        return _RECORD_BLOCK.sub(lambda b: _RELATIVE.sub(resolve, b.group(0)), html)

    @event_priority(100)  # before the search plugin writes its data, and before litnotes' index reads it
    def _order_search(self, config) -> None:
        if self._cache is not None:
            self._cache.order_search(self._canonical)

    def _post_build(self, config) -> None:
        self._write_search_index(config)
        if self._cache is not None:
            self._cache.end()
            log.debug(f"litnotes: serve cache: {self._cache.hits} pages rendered before, "
                      f"{self._cache.misses} rendered; search entries: {self._cache.search_hits} "
                      f"reused, {self._cache.search_misses} made; theme HTML: {self._cache.html_hits} "
                      f"reused, {self._cache.html_misses} rendered")
        panel = ""
        if self._build_log is not None:
            self._build_log.__exit__()
            panel = panel_html(self._build_log.messages)
            add_panel(config.site_dir, panel)
            self._build_log = None
        if self._early is not None:
            self._serve_built(assets_only=False, reload_again=bool(panel))
            log.debug(f"litnotes: {self._early.handed} changed page(s) served before the rebuild ended")
            if self._early.differed:
                log.info(f"litnotes: {', '.join(self._early.differed)}: the page shown quickly was not the "
                         "rebuild's; browsers reload again")
        if self.serving:
            # The next edit's page can be rendered from this rebuild's objects if it made no problem.
            self._snap = None if panel else _Snapshot(
                config=config, files=self._files, nav=self._nav, env=self._env, stamps=self._read_stamps,
                states=[plugin.__dict__.copy() for plugin in config.plugins.values()])

    on_post_build = CombinedEvent(_order_search, _post_build)

    def _write_search_index(self, config) -> None:
        """The prebuilt index for litnotes' search worker, from the entries Material's search plugin made.

        Runs after the search plugin's own ``on_post_build`` (litnotes comes after ``search`` in
        mkdocs.yml), which wrote every entry to ``search/search_index.json``: that file becomes a
        stub with the config only, so the browser no longer downloads the entries twice.
        """
        search = config.plugins.get("material/search") or config.plugins.get("search")
        index = getattr(search, "search_index", None)
        if index is None or not getattr(search.config, "enabled", True) or self._worker_page is None:
            return
        if not self._worker_used:
            # Material's own worker still runs (a theme without litnotes' overrides/main.html, or a
            # Material whose config block changed): it needs every entry in search_index.json.
            log.info(f"litnotes: {self._worker_page} does not start litnotes' search worker ({SEARCH_WORKER}; "
                     "the 'config' block of overrides/main.html): search runs on Material's own worker")
            return
        try:
            text = cached_index_json(index.entries, index.config, self.root / ".cache" / "search")
        except SearchIndexError as exc:
            log.warning(f"litnotes: the search index cannot be built: {exc}")
            return
        site = Path(config.site_dir)
        (site / INDEX_PATH).parent.mkdir(parents=True, exist_ok=True)
        (site / INDEX_PATH).write_text(text, encoding="utf-8")
        (site / "search" / "search_index.json").write_text(dumps(stub(index.config)), encoding="utf-8")

    def on_build_error(self, error) -> None:
        if self._build_log is not None:
            self._build_log.__exit__()
            self._build_log = None
        if self._early is not None:
            self._early.end(reload_again=False)
        self._snap = None

    def _drafts(self, problems: list, pages: dict) -> dict[str, str]:
        """Preview pages for the records that have problems (a record just written by ``litnotes new``)."""
        by_path: dict[str, list] = {}
        for problem in problems:
            by_path.setdefault(problem.path, []).append(problem)
        folder = self.config.papers.strip("/")
        drafts = {}
        for path, mine in by_path.items():
            name = path[len(folder) + 1:] if path.startswith(folder + "/") else ""
            stem = name[:-len(".yaml")]
            if not name.endswith(".yaml") or not _DRAFT_ID.fullmatch(stem) or paper_path(stem) in pages:
                continue
            source = read_source(self.root / path, path, within=self.root)
            if source.problem and source.problem.rule in ("file-type", "file-outside", "read"):
                continue  # not a file that could become a record
            data, _ = parse_yaml(source)
            drafts[paper_path(stem)] = draft_page(stem, path, source.text, data, mine)
        return drafts

    def on_serve(self, server, config, builder):
        server.watch(str(self.root / self.config.papers))
        reason = use_native_events(server, polling=self.config.watcher == "polling")
        if reason:
            log.info(f"litnotes: mkdocs serve polls for changes: {reason}")
        self._early = EarlyPages(server)
        # Rebuilds write every page again: in memory that is a small part of a rebuild, on a disk a large one.
        # Two folders, built in turn: the last complete site stays served while the next one is written.
        where = "in memory"
        folder = memory_site.memory_folder()
        if folder is None:
            where, folder = "on disk", memory_site.memory_folder(base=Path(tempfile.gettempdir()))
        if folder is not None:
            try:
                a, b = folder / "a", folder / "b"
                shutil.copytree(config.site_dir, a)
                b.mkdir()
            except OSError as e:
                memory_site.remove(folder)
                log.info(f"litnotes: the preview is built in MkDocs's folder ({e})")
            else:
                self._site_dir, self._folders, self._served = folder, (a, b), a
                self._complete, self._server = a, server
                server.root = str(a)
                server.error_handler = functools.partial(_error_page, server)
                log.info(f"litnotes: the preview is built {where}, in {folder}")
                memory_site.stop_cleanly_on_sigterm()
        # Before each rebuild: the pages an edit changed, rendered quickly from the last rebuild's objects.
        rebuild = server.builder

        def builder(*args, **kwargs):
            self.quick()
            try:
                return rebuild(*args, **kwargs)
            except _Superseded:
                self._superseded()

        server.builder = builder
        return server

    # -- the quick render (litnotes.engines.mkdocs_quick) ---------------------------------------------

    def quick(self) -> None:
        """Show the pages of the records and hand-written pages edited since the last rebuild, before it runs again."""
        snap, early = self._snap, self._early
        if snap is None or early is None or self._folders is None:
            return  # without two folders the rebuild empties the one served: assets would be missing
        start = time.perf_counter()
        try:
            edits = self._edits(snap)
            if edits is None:
                return
            with quiet() as heard, _as_built(snap):
                pages, gone = self._quick_pages(snap, *edits)
            if heard.worst >= logging.WARNING:
                raise Unusable(f"it logged: {heard.first}")
        except Unusable as e:
            self._snap = None  # its objects may be half changed: the next good rebuild makes the next one
            log.debug(f"litnotes: no quick page: {e}")
            return
        except Exception as e:  # the rebuild that follows reports what is wrong with the files
            self._snap = None
            log.info(f"litnotes: no quick page ({type(e).__name__}: {e}); the rebuild shows the edit")
            return
        early.quick(pages, gone)
        shown = ", ".join(sorted(pages) + [f"{g} (removed)" for g in sorted(gone)])
        log.info(f"litnotes: {shown} shown after {time.perf_counter() - start:.2f} s; rebuilding the rest")

    def _edits(self, snap: _Snapshot) -> tuple[set[str], list[File]] | None:
        """What changed since the snapshot's rebuild read its files: record files, and hand-written pages.

        None if nothing did; :class:`Unusable` if anything else did (an asset, the
        configuration, the theme, a page added or removed).
        """
        now = self._stamps(snap.config)
        diff = changes(snap.stamps, now)
        papers_dir, docs = str(self.root / self.config.papers) + "/", str(self.docs) + "/"
        # What the rebuild reads: not hidden files, and of the records folder only its own .yaml files
        # (an editor's backup such as base2020.yaml~ is not read).
        edited = {p for p in diff.paths | {a for a in snap.added if a not in now}  # an added record removed again
                  if not posixpath.basename(p).startswith(".")
                  and (not p.startswith(papers_dir) or ("/" not in p[len(papers_dir):] and p.endswith(".yaml")))}
        if not edited:
            return None
        records = {p for p in edited if p.startswith(papers_dir) and not p[len(papers_dir):].startswith("_")}
        written = edited - records
        if any(not (p in diff.changed and p.startswith(docs) and p.endswith(".md")) for p in written):
            raise Unusable("more than records and hand-written pages changed")
        by_source = {f.abs_src_path: f for f in snap.files.documentation_pages() if f.abs_src_path}
        pages = []
        for path in sorted(written):
            file = by_source.get(path)
            if file is None or file.page is None:
                raise Unusable(f"{path} is not a page of the site")
            pages.append(file)
        return records, pages

    def _quick_targets(self, snap: _Snapshot) -> set[str]:
        """The pages (site paths) the quick render of the edits waiting would show (none if it cannot)."""
        try:
            edits = self._edits(snap)
        except Unusable:
            return set()
        if edits is None:
            return set()
        records, written = edits
        stems = {posixpath.basename(p)[:-len(".yaml")] for p in records}
        dest = "{}/index.html" if snap.config.use_directory_urls else "{}.html"
        return {f.dest_uri for f in written} | {dest.format(paper_path(s)[:-len(".md")]) for s in stems}

    def _quick_pages(self, snap: _Snapshot, records: set[str], written: list[File]
                     ) -> tuple[dict[str, bytes], set[str]]:
        """The edited pages as the rebuild will make them, and the pages it will no longer have.

        Runs with this plugin as it was after the snapshot's rebuild (:func:`_as_built`):
        ``self.kb``, ``self.reports`` and the hand-written pages are that rebuild's, and what
        this changes of them stays with the snapshot for the next quick render.
        """
        for file in written:
            self._handwritten[file.src_uri] = file.content_string
        if written:
            self.reports = read_reports(self.docs)
        made, gone = self._quick_records(snap, records) if records else ([], set())
        if self._cache is not None:
            self._cache.use_nav(snap.nav)
        config, files = snap.config, snap.files
        doc_files = [f for f in files if f.is_documentation_page() and InclusionLevel.is_in_serve(f.inclusion)]
        pages = {}
        for file in [*written, *made]:
            for plugin in config.plugins.values():
                forget = getattr(plugin, "forget_page", None)
                if forget is not None:
                    forget(file.page, config)
            html = render_page(file.page, config, files, doc_files, snap.nav, snap.env)
            pages[file.dest_uri] = html.encode("utf-8", errors="xmlcharrefreplace")
        return pages, gone

    def _quick_records(self, snap: _Snapshot, records: set[str]) -> tuple[list[File], set[str]]:
        """The paper pages of edited records, with their new Markdown, and the pages of removed ones."""
        kb, problems = load_knowledge_base(self.root, self.config.papers, self._docs_rel())
        if problems or record_ids(self.root / self.config.papers) - kb.papers.keys():
            raise Unusable("a record has problems")
        # The same index pages and tags, so that no other page (or the navigation) changes shape.
        if _shape(kb) != _shape(self.kb):
            raise Unusable("a year, venue or category page appears or disappears")
        tags = {t for p in self.kb.papers.values() for t in p.tags}
        stems = {posixpath.basename(p)[:-len(".yaml")] for p in records}
        if any(t not in tags for s in stems if s in kb.papers for t in kb.papers[s].tags):
            raise Unusable("a new tag")
        # A removed record that a page or another record names: their links break (a problem).
        removed = {s for s in stems if s not in kb.papers}
        if any(s in text for s in removed for text in self._handwritten.values()) or any(
                b in removed for p in kb.papers.values() for b in p.builds_on):
            raise Unusable("a removed record is named elsewhere")
        self.kb = kb
        config, files = snap.config, snap.files
        made: list[File] = []
        gone: set[str] = set()
        with self._drawing() as draw:
            for stem in sorted(stems):
                path = paper_path(stem)
                file = files.get_file_from_path(path)
                if stem not in kb.papers:
                    if file is not None:
                        gone.add(file.dest_uri)
                    continue
                text = paper_page(kb, stem, self.reports, edit_base=self.edit_base, handwritten=self._handwritten,
                                  draw=draw, directory_urls=config.use_directory_urls)
                if file is None:
                    config.plugins._current_plugin = "litnotes"  # as in on_files: the file's generated_by
                    try:
                        file = File.generated(config, path, content=text)
                    finally:
                        config.plugins._current_plugin = None
                    files.append(file)
                    Page(None, file, config)  # as MkDocs makes the pages outside the nav
                    self.sources[path] = kb.papers[stem].path
                    snap.added.add(str(self.root / kb.papers[stem].path))
                else:
                    file.content_string = text
                made.append(file)
        return made, gone

    def on_shutdown(self) -> None:
        memory_site.remove(self._site_dir)
        self._site_dir = None


@contextlib.contextmanager
def _as_built(snap: _Snapshot) -> Iterator[None]:
    """Every plugin as it was when the snapshot's rebuild ended, and back; what the quick render changes is kept.

    A rebuild that stopped midway (:class:`_Superseded`) has reset the plugins that live
    across rebuilds (MkDocs keeps those that define ``on_startup``).
    """
    plugins = list(snap.config.plugins.values())
    live = [plugin.__dict__.copy() for plugin in plugins]
    for plugin, state in zip(plugins, snap.states, strict=True):
        plugin.__dict__.clear()
        plugin.__dict__.update(state)
    try:
        yield
    finally:
        snap.states = [plugin.__dict__.copy() for plugin in plugins]
        for plugin, state in zip(plugins, live, strict=True):
            plugin.__dict__.clear()
            plugin.__dict__.update(state)


def _shape(kb) -> tuple:
    """What of the records decides which index pages the site has."""
    papers = kb.papers.values()
    return {p.year for p in papers}, {p.venue for p in papers}, set(kb.categories), set(kb.venues)


def _error_page(server, code: int) -> bytes | None:
    """The site's own 404 (or 500) page, from the folder being served, as ``mkdocs serve`` answers with it."""
    try:
        return (Path(server.root) / f"{code}.html").read_bytes() if code in (404, 500) else None
    except OSError:
        return None
