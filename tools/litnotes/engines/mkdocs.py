"""The MkDocs adapter of the records (with ``mathplugin`` and ``watch``, the only code that knows MkDocs).

It loads the records, logs their problems (``--strict`` turns them into a
failed build), adds the rendered pages as in-memory files, expands directives
in hand-written pages and watches ``papers/`` under ``mkdocs serve`` (with native
file-system events, :mod:`litnotes.engines.watch`).  Under ``mkdocs serve`` the
preview never freezes: problems are listed on every page and records that are
not ready get draft pages (:mod:`litnotes.engines.preview`).
"""

from __future__ import annotations

import functools
import html as htmllib
import logging
import posixpath
import re
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.utils import get_relative_url

from litnotes.engines import memory_site
from litnotes.engines.early import EarlyPages
from litnotes.engines.mkdocs_cache import ServeCache
from litnotes.engines.nav import index_sections, section_of
from litnotes.engines.preview import BuildLog, add_panel, draft_page, lenient, panel_html
from litnotes.engines.watch import use_native_events
from litnotes.records.load import parse_yaml, read_source
from litnotes.records.validate import load_knowledge_base, record_ids
from litnotes.site.directives import expand
from litnotes.site.graph import GRAPH_CACHE, Viz, VizError, find_viz
from litnotes.site.pages import paper_path, render_site
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
        if self._site_dir is not None:
            config.site_dir = str(self._site_dir)
        if self.serving:
            # A preview that never freezes (litnotes.engines.preview): no strict abort, a problem panel instead.
            lenient()
            self._build_log = BuildLog().__enter__()
        return config

    def on_files(self, files: Files, config) -> Files:
        docs_rel = (self.docs.relative_to(self.root).as_posix() if self.docs.is_relative_to(self.root)
                    else str(self.docs))
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

    def on_pre_build(self, config) -> None:
        # The first page written says whether the theme starts litnotes' search worker (on_post_page).
        self._worker_page: str | None = None
        self._worker_used = False
        if self._cache is not None:
            self._cache.begin(config)

    def on_env(self, env, config, files):
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
        # The theme's files and assets are written before the first page. Pages are served early only
        # from a rebuild without problems: the problem panel is added to every page at its end.
        if self._early is not None and self._build_log is not None and not self._build_log.messages:
            self._early.assets_written()
        return context

    @event_priority(-100)  # after every other plugin: what MkDocs writes
    def on_post_page(self, output: str, page, config) -> str:
        if self._worker_page is None:
            # Whether the theme starts litnotes' search worker (see _write_search_index).
            self._worker_page = page.file.src_uri
            self._worker_used = SEARCH_WORKER in output
        if (self._early is not None and self._cache is not None and page.file.src_uri in self._cache.changed
                and self._build_log is not None and not self._build_log.messages and output.strip()):
            self._early.hand_over(page.file.dest_uri, output.encode("utf-8", errors="xmlcharrefreplace"))
        return output

    def on_nav(self, nav, config, files):
        self.sections = index_sections(nav.items)
        self._nav = nav
        return nav

    def on_pre_page(self, page, config, files):
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
            self._early.end(reload_again=bool(panel))
            log.debug(f"litnotes: {self._early.handed} changed page(s) served before the rebuild ended")

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
        folder = memory_site.memory_folder(copy_of=Path(config.site_dir))
        if folder is not None:
            self._site_dir = folder
            server.root = str(folder)
            server.error_handler = functools.partial(_error_page, folder)
            log.info(f"litnotes: the preview is built in memory, in {folder}")
            memory_site.stop_cleanly_on_sigterm()
        return server

    def on_shutdown(self) -> None:
        memory_site.remove(self._site_dir)
        self._site_dir = None


def _error_page(site_dir: Path, code: int) -> bytes | None:
    """The site's own 404 (or 500) page, as ``mkdocs serve`` answers with it."""
    try:
        return (site_dir / f"{code}.html").read_bytes() if code in (404, 500) else None
    except OSError:
        return None
