"""What ``mkdocs serve`` need not redo: the per-page work whose inputs did not change since the last rebuild.

MkDocs rebuilds the whole site on every edit, and at a thousand papers almost all of
that time goes to work that does not depend on the edit: converting each page's
Markdown to HTML, and Material's search plugin parsing each page's HTML (and
segmenting its Chinese with jieba).  Under ``mkdocs serve`` only, the litnotes plugin
keeps one :class:`ServeCache` for the life of the server (MkDocs keeps a plugin that
defines ``on_startup`` across rebuilds) and reuses, for each page:

* the result of ``Page.render`` (content, table of contents, title, anchors, links to
  anchors, and the log records it wrote) when the page's Markdown after every
  ``on_page_markdown``, its address and inclusion, the configuration, and every site
  file the page's links looked up (present or not, where it is served, whether it is
  excluded) are unchanged; every other plugin event runs on the reused result as before;
* the search entries of a page when everything the search plugin reads of it
  (address, HTML, table of contents, title, ``tags``/``search``/``title`` metadata)
  is unchanged;
* the theme's compiled templates (Jinja's bytecode, which Jinja itself checks against
  the template's source before using it);
* the theme's HTML for a page (the Jinja template, before ``on_post_page``) when the
  template files, the whole navigation (titles, addresses, metadata, order), and
  everything of the page and its template context the theme can read are unchanged;
  a context value that cannot be compared between builds makes the page render anew.

The result is the site a full build makes (``tests/test_serve_cache.py`` compares the
two byte for byte after edits); a plain ``mkdocs build`` never creates a cache.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2.bccache import Bucket, BytecodeCache
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink, TableOfContents
from mkdocs.utils import meta as page_meta

__all__ = ["ServeCache"]

_PAGES_LOG = logging.getLogger("mkdocs.structure.pages")


def _digest(text: str) -> bytes:
    # A digest, not the text: the cache then holds a thousand pages' keys in kilobytes.
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).digest()


def _where(file: File | None) -> tuple | None:
    """What a link to ``file`` becomes: missing, or its address and whether it is excluded."""
    return None if file is None else (file.url, file.inclusion)


class _Lookups:
    """The site's files as ``Page.render`` sees them, noting every path a link looked up."""

    def __init__(self, files: Files) -> None:
        self._files = files
        self.seen: dict[str, tuple | None] = {}

    def get_file_from_path(self, path: str) -> File | None:
        found = self._files.get_file_from_path(path)
        self.seen[path] = _where(found)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._files, name)


class _Capture(logging.Handler):
    """The log records one thread writes while it renders a page (the server's own lines are not its)."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.thread = threading.get_ident()
        self.records: list[logging.LogRecord] = []
        self._ids: set[int] = set()
        self._loggers = (logging.getLogger(), logging.getLogger("mkdocs"))

    def emit(self, record: logging.LogRecord) -> None:
        # The mkdocs logger does not propagate under the CLI, but may elsewhere: count a record once.
        if record.thread == self.thread and id(record) not in self._ids:
            self._ids.add(id(record))
            self.records.append(logging.makeLogRecord(record.__dict__))

    def __enter__(self) -> _Capture:
        for logger in self._loggers:
            logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for logger in self._loggers:
            logger.removeHandler(self)


def _replay(records: list[logging.LogRecord]) -> None:
    """Write a reused page's log records again, through the same loggers, as its render did."""
    for record in records:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(logging.makeLogRecord(record.__dict__))


@dataclass
class _Rendered:
    key: tuple
    lookups: dict[str, tuple | None]
    content: str
    toc: Any
    title: str | None
    anchors: set[str] | None
    links: dict[str, dict[str, str]] | None
    records: list[logging.LogRecord] = field(default_factory=list)


def _toc_key(toc: Any) -> tuple:
    return tuple((item.id, item.url, _toc_key(item.children)) for item in toc)


class _Bytecode(BytecodeCache):
    """Compiled templates kept in memory across rebuilds: MkDocs makes a new Jinja environment
    for each build, which would otherwise compile the theme's ~50 templates again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        # The bucket compares the stored source checksum with the template's own and
        # ignores bytecode compiled from another version of the file.
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


class ServeCache:
    """Per-page results of one ``mkdocs serve`` process, reused while their inputs are unchanged."""

    def __init__(self) -> None:
        self._config_key: tuple | None = None
        self._pages: dict[str, _Rendered] = {}
        self._search: dict[str, tuple[tuple, list[dict]]] = {}
        self._html: dict[str, tuple[tuple, str]] = {}
        self._nav_key: tuple = ()
        self._bytecode = _Bytecode()
        self._seen: set[str] = set()
        self.hits = self.misses = self.search_hits = self.search_misses = 0
        self.html_hits = self.html_misses = 0
        self.changed: dict[str, int] = {}
        """The pages whose Markdown was converted in this build (not reused), with the length of their Markdown."""
        self._index: Any = None
        self._entries: dict[str, list[dict]] = {}
        self._files: Files | None = None
        self._found: dict[str, tuple | None] = {}
        self._sources: dict[str, tuple[str, dict]] = {}
        self._read: set[str] = set()

    def begin(self, config: Any) -> None:
        """Before a build (``on_pre_build``): drop everything if the configuration changed; hook the search plugin."""
        key = _config_key(config)
        if key != self._config_key:
            self._pages.clear()
            self._search.clear()
            self._html.clear()
            self._config_key = key
        self._seen = set()
        self.hits = self.misses = self.search_hits = self.search_misses = 0
        self.html_hits = self.html_misses = 0
        self.changed = {}
        self._index, self._entries = None, {}
        self._files, self._found, self._read = None, {}, set()
        for plugin in config.plugins.values():
            index = getattr(plugin, "search_index", None)
            # Material's search plugin makes a new index in each on_config, so this hooks each build's own.
            if type(plugin).__module__ == "material.plugins.search.plugin" and index is not None:
                original = index.add_entry_from_context
                index.add_entry_from_context = functools.partial(self._index_page, index, original)
                self._index = index

    def attach(self, page: Page) -> None:
        """Before a page is read (``on_pre_page``): its source's header and its render go through the cache."""
        page.read_source = functools.partial(self._read_source, page)  # type: ignore[method-assign]
        page.render = functools.partial(self._render, page)  # type: ignore[method-assign]

    def _where(self, files: Files, path: str) -> tuple | None:
        # The site's files do not change while its pages are read: each path is looked up once per build.
        if files is not self._files:
            self._files, self._found = files, {}
        try:
            return self._found[path]
        except KeyError:
            found = self._found[path] = _where(files.get_file_from_path(path))
            return found

    # -- the page's source: its YAML header and Markdown ------------------------------------------

    def _read_source(self, page: Page, config: Any) -> None:
        # As Page.read_source, with the header parsed once per text (PyYAML's pure-Python loader
        # took ~0.25 s a rebuild for a thousand pages' headers).
        source = config.plugins.on_page_read_source(page=page, config=config)
        if source is None:
            try:
                source = page.file.content_string
            except (OSError, ValueError):
                return Page.read_source(page, config)  # MkDocs's own message, and error
        done = self._sources.get(source)
        if done is None:
            done = self._sources[source] = page_meta.get_data(source)
        self._read.add(source)
        page.markdown, page.meta = done[0], copy.deepcopy(done[1])
        return None

    def end(self) -> None:
        """After a build: forget pages the site no longer has."""
        for gone in self._pages.keys() - self._seen:
            del self._pages[gone]
        for gone in self._search.keys() - self._seen:
            del self._search[gone]
        for gone in self._html.keys() - self._seen:
            del self._html[gone]
        for gone in self._sources.keys() - self._read:
            del self._sources[gone]
        self._files, self._found = None, {}

    def hook_templates(self, env: Any, config: Any, nav: Any) -> None:
        """Once every page is read (``on_env``): page templates that ``_build_page`` asks for go through the cache."""
        self.use_nav(nav)
        env.bytecode_cache = self._bytecode
        get_template = env.get_template

        def cached(name: Any, parent: str | None = None, globals: Any = None) -> Any:
            template = get_template(name, parent, globals)
            # Only MkDocs's own request for a page's template (not an {% extends %}, which names a parent).
            if parent is None and globals is None and isinstance(name, str):
                return _CachedTemplate(self, name, template, config)
            return template

        env.get_template = cached

    def use_nav(self, nav: Any) -> None:
        """The navigation the pages rendered from now on are drawn with (part of their theme HTML's key)."""
        self._nav_key = _nav_key(nav.items)

    # -- Markdown to HTML ------------------------------------------------------------------------

    def _render(self, page: Page, config: Any, files: Files) -> None:
        assert page.markdown is not None
        src = page.file.src_uri
        self._seen.add(src)
        key = (page.file.url, page.file.inclusion, _digest(page.markdown),
               _PAGES_LOG.getEffectiveLevel() > logging.DEBUG)
        done = self._pages.get(src)
        if done is not None and done.key == key and all(
                self._where(files, path) == where for path, where in done.lookups.items()):
            self.hits += 1
            page.content = done.content
            page.toc = _copy_toc(done.toc)
            page._title_from_render = done.title
            page.present_anchor_ids = None if done.anchors is None else set(done.anchors)
            if done.links is not None:
                page.links_to_anchors = {files.get_file_from_path(uri): dict(links)
                                         for uri, links in done.links.items()}
            _replay(done.records)
            return
        self.misses += 1
        self.changed[src] = len(page.markdown)
        lookups = _Lookups(files)
        with _Capture() as captured:
            Page.render(page, config, lookups)  # type: ignore[arg-type]
        assert page.content is not None
        links = page.links_to_anchors
        self._pages[src] = _Rendered(
            key=key, lookups=lookups.seen, content=page.content, toc=_copy_toc(page.toc),
            title=page._title_from_render,
            # Copies: litnotes-math adds its equation anchors to the page's set afterwards.
            anchors=None if page.present_anchor_ids is None else set(page.present_anchor_ids),
            links=None if links is None else {f.src_uri: dict(v) for f, v in links.items()},
            records=captured.records)

    # -- the search plugin's entries -------------------------------------------------------------

    def _index_page(self, index: Any, original: Any, page: Page) -> None:
        meta = page.meta
        key = (page.url, _digest(page.content or ""), page.title, _toc_key(page.toc),
               repr((meta.get("search"), meta.get("tags"), meta.get("title"))))
        src = page.file.src_uri
        self._seen.add(src)
        done = self._search.get(src)
        if done is not None and done[0] == key:
            self.search_hits += 1
            entries = [_copy_entry(entry) for entry in done[1]]
            index.entries.extend(entries)
            self._entries[src] = entries
            return
        self.search_misses += 1
        start = len(index.entries)
        original(page)
        self._entries[src] = index.entries[start:]
        self._search[src] = (key, [_copy_entry(entry) for entry in index.entries[start:]])

    def order_search(self, pages: Sequence[str]) -> None:
        """Put the search entries in the order of ``pages`` (the order a full build indexes them in).

        The preview builds changed pages first; the search data must not depend on that.
        Entries that did not come through this cache leave the order as it is.
        """
        index = self._index
        if index is None:
            return
        ordered = [entry for src in pages for entry in self._entries.get(src, ())]
        if len(ordered) == len(index.entries) == sum(map(len, self._entries.values())):
            index.entries = ordered


    # -- the theme's HTML -------------------------------------------------------------------------

    def _render_template(self, name: str, template: Any, config: Any, context: Any) -> str:
        page = getattr(config, "_current_page", None)
        key = None if page is None or context.get("page") is not page else _context_key(context, page)
        if key is None:
            return template.render(context)
        key = (name, self._nav_key, key)
        src = page.file.src_uri
        self._seen.add(src)
        done = self._html.get(src)
        if done is not None and done[0] == key:
            self.html_hits += 1
            return done[1]
        self.html_misses += 1
        output = template.render(context)
        self._html[src] = (key, output)
        return output


class _CachedTemplate:
    """A page's Jinja template whose ``render`` answers from the cache when its inputs are unchanged."""

    def __init__(self, cache: ServeCache, name: str, template: Any, config: Any) -> None:
        self._cache, self._name, self._template, self._config = cache, name, template, config

    def render(self, *args: Any, **kwargs: Any) -> str:
        if kwargs or len(args) != 1 or not isinstance(args[0], dict):
            return self._template.render(*args, **kwargs)
        return self._cache._render_template(self._name, self._template, self._config, args[0])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._template, name)


class _Unkeyable(Exception):
    """A value whose identity between two builds cannot be told from what it shows."""


# Context entries MkDocs sets and the key covers otherwise: nav (the navigation key), config
# (the configuration key), pages (the site's files, which the navigation and the page's links
# cover), the page itself (below), build_date_utc (no theme template reads it; it changes every build).
_CONTEXT_COVERED = {"nav", "config", "pages", "page", "build_date_utc"}


def _value_key(value: Any, depth: int = 0) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if depth > 6:
        raise _Unkeyable
    if isinstance(value, (list, tuple)):
        return tuple(_value_key(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return tuple((repr(k), _value_key(v, depth + 1)) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(repr(_value_key(v, depth + 1)) for v in value))
    if type(value).__module__.startswith("material.plugins.tags"):
        # A tag (reference): what the theme shows of it is its name and where it links.
        return (type(value).__name__, value.name, getattr(value, "url", None))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise _Unkeyable


def _context_key(context: dict, page: Page) -> tuple | None:
    """Everything of the page and its context the theme can read, or None if something cannot be compared."""
    try:
        extra = tuple((k, _value_key(v)) for k, v in sorted(context.items()) if k not in _CONTEXT_COVERED)
        meta = _value_key(dict(page.meta))
    except _Unkeyable:
        return None
    return (page.file.src_uri, page.url, page.title, meta, _digest(page.content or ""), _toc_full(page.toc),
            page.edit_url, page.canonical_url, page.abs_url, page.update_date, page.is_homepage,
            _link(page.previous_page), _link(page.next_page),
            tuple(_link(a) for a in page.ancestors), extra)


def _link(item: Any) -> tuple | None:
    return None if item is None else (type(item).__name__, item.title, getattr(item, "url", None))


def _toc_full(toc: Any) -> tuple:
    return tuple((item.title, item.id, item.url, item.level, _toc_full(item.children)) for item in toc)


def _nav_key(items: Any) -> tuple:
    """The navigation as the theme draws it: kinds, titles, addresses, index pages, metadata, order."""
    out = []
    for item in items:
        try:
            meta = _value_key(dict(getattr(item, "meta", None) or {}))
        except _Unkeyable:
            meta = object()  # never equal: every page renders anew
        out.append((type(item).__name__, item.title, getattr(item, "url", None),
                    getattr(item, "is_index", None), meta, _nav_key(item.children or ())))
    return tuple(out)


def _copy_toc(toc: Any) -> Any:
    """A copy of a table of contents (MkDocs's classes, with any attribute set on them), ~10x faster than deepcopy."""
    if type(toc) is TableOfContents:
        new = TableOfContents([_copy_toc(item) for item in toc.items])
        new.__dict__.update({k: v for k, v in toc.__dict__.items() if k != "items"})
        return new
    if type(toc) is AnchorLink:
        new = AnchorLink.__new__(AnchorLink)
        new.__dict__.update(toc.__dict__)
        new.children = [_copy_toc(child) for child in toc.children]
        return new
    return copy.deepcopy(toc)


def _copy_entry(entry: dict) -> dict:
    return {k: list(v) if isinstance(v, list) else v for k, v in entry.items()}


def _config_key(config: Any) -> tuple:
    """What the configuration changes in a page's render: the config file, extensions, links, validation."""
    path = config.config_file_path
    text = Path(path).read_bytes() if path and Path(path).is_file() else b""
    return (path, hashlib.blake2b(text).digest(), repr(config.markdown_extensions), config.use_directory_urls,
            repr(config.validation), config.docs_dir, config.site_url, _theme_key(config))


def _theme_key(config: Any) -> tuple:
    """The theme's files (its templates and overrides), by name, size and modification time."""
    out = []
    for folder in config.theme.dirs:
        for path in sorted(Path(folder).rglob("*.html")):
            stat = path.stat()
            out.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(out)
