"""The ``litnotes-math`` MkDocs plugin: a thin adapter over :mod:`litnotes.math.katex`.

It renders each page's math in ``on_page_content`` (collecting labels), links
``\\eqref``/``\\ref`` in ``on_post_page`` (MkDocs renders every page's content
before the first ``on_post_page``), and ships KaTeX's CSS and woff2 fonts from
``node_modules`` into the site.  Problems are logged as warnings, located
``FILE:LINE:COL:``, so ``mkdocs build --strict`` fails on them.
"""

from __future__ import annotations

import functools
import html as htmllib
import logging
import os
import re
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from litnotes.math.katex import (
    DEFAULT_MACROS,
    KATEX_DIST,
    KatexNotInstalled,
    RenderCache,
    Target,
    find_katex,
    katex_css,
    merge_targets,
    render_cache,
    render_page_math,
    resolve_refs,
)
from litnotes.problems import Problem

__all__ = ["MathPlugin"]

# No prefix: the message starts with its location, like a compiler's.
log = logging.getLogger("mkdocs.plugins.litnotes.math")

_ASSETS = Path(__file__).parent.parent / "assets"
_KATEX_URI = "assets/katex"
_OWN_CSS = "assets/math/math.css"
# Where a formula's KaTeX HTML goes once the search plugin has indexed the page.
_PENDING = re.compile(r'<span class="litnotes-math-pending" data-i="(\d+)">[^<]*</span>')


class _MathConfig(Config):
    macros = c.Type(dict, default={})
    """Extra KaTeX macros, added to :data:`litnotes.katex.DEFAULT_MACROS` (``\\R``)."""
    katex_dist = c.Type(str, default=KATEX_DIST)
    """KaTeX's ``dist`` folder, relative to the folder of ``mkdocs.yml``."""
    cache_dir = c.Optional(c.Type(str))
    """Disk cache folder relative to ``mkdocs.yml``'s folder; default ``.cache/katex``."""
    disk_cache = c.Type(bool, default=True)


class MathPlugin(BasePlugin[_MathConfig]):
    """Build-time KaTeX with equation labels, references and numbered theorem blocks."""

    def __init__(self) -> None:
        self._dirty = False
        self._cache: RenderCache | None = None
        self._dist = Path()
        self._root = Path()
        self._targets: dict[str, Target] = {}
        self._urls: dict[str, str] = {}
        self._formulas = 0
        self._pending: dict[str, list[str]] = {}

    # Defining on_startup keeps this instance alive across `mkdocs serve` rebuilds.
    def on_startup(self, *, command: str, dirty: bool) -> None:
        self._dirty = dirty

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self._root = Path(config.config_file_path or ".").resolve().parent
        try:
            self._dist = find_katex(self._root, self.config.katex_dist)
        except KatexNotInstalled as e:
            raise PluginError(str(e)) from None
        _require_arithmatex(config)
        cache_dir = None
        if self.config.disk_cache:
            cache_dir = self._root / (self.config.cache_dir or ".cache/katex")
        self._cache = render_cache(self._dist, {**DEFAULT_MACROS, **self.config.macros}, cache_dir)
        for css in (f"{_KATEX_URI}/katex.min.css", _OWN_CSS):
            if css not in config.extra_css:
                config.extra_css.append(css)
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        self._targets = {}
        self._urls = {}
        self._formulas = 0
        self._pending = {}
        assert self._cache is not None
        self._cache.begin_build()

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        css, fonts = katex_css(self._dist)
        files.append(File.generated(config, f"{_KATEX_URI}/katex.min.css", content=css))
        for font in fonts:
            files.append(File.generated(config, f"{_KATEX_URI}/{font}", abs_src_path=str(self._dist / font)))
        files.append(File.generated(config, _OWN_CSS, abs_src_path=str(_ASSETS / "math.css")))
        return files

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        assert self._cache is not None
        path = self._display_path(page, config)
        cache, rendered = self._cache, []

        def render(tex: str, display: bool) -> str:
            # KaTeX's HTML (spans for every glyph, plus MathML) goes in only in on_page_context,
            # after the search plugin has indexed the page: parsing it made the search plugin
            # the slowest part of the build, and filled the index with each formula three times.
            # The index gets the TeX source instead, as with KaTeX in the browser.
            rendered.append(cache.render(tex, display))
            return f'<span class="litnotes-math-pending" data-i="{len(rendered) - 1}">{htmllib.escape(tex)}</span>'

        result = render_page_math(html, page.file.content_string, path, render, page.title or "")
        if rendered:
            self._pending[page.file.src_uri] = rendered
        self._formulas += result.formulas
        problems = result.problems + merge_targets(self._targets, result.targets)
        for problem in sorted(problems):
            log.warning(_text(problem))
        self._urls[path] = page.url
        if page.present_anchor_ids is not None:
            # Lets Markdown links to #eq-… pass MkDocs' anchor validation.
            page.present_anchor_ids.update(result.anchors)
        return result.html

    @event_priority(-100)  # after the search plugin (priority 0) has indexed page.content
    def on_page_context(self, context, *, page: Page, config: MkDocsConfig, nav):
        rendered = self._pending.pop(page.file.src_uri, None)
        if rendered:
            page.content = _PENDING.sub(lambda m: rendered[int(m.group(1))], page.content or "")
        return context

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        if 'class="math-ref"' not in output:
            return output

        def href(target: Target) -> str:
            url = self._urls[target.path]
            rel = "" if url == page.url else get_relative_url(url, page.url)
            if rel and (url == "" or url.endswith("/")) and not rel.endswith("/"):
                rel += "/"  # get_relative_url("", "a/b/") is "../.."
            return f"{rel}#{target.anchor}"

        html, problems = resolve_refs(output, self._display_path(page, config), self._targets, href)
        for problem in problems:
            log.warning(_text(problem))
        return html

    def forget_page(self, page: Page, config: MkDocsConfig) -> None:
        """The page is about to be rendered again outside a build (litnotes' quick render): drop what it added."""
        path = self._display_path(page, config)
        self._targets = {name: t for name, t in self._targets.items() if t.path != path}
        self._pending.pop(page.file.src_uri, None)

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        assert self._cache is not None
        # A --dirty build sees only some pages: keep the other pages' formulas.
        self._cache.save(prune=not self._dirty)
        log.info(
            f"litnotes-math: {self._formulas} formulas, {self._cache.misses} rendered by KaTeX, "
            f"{self._cache.hits} from cache"
        )

    def _display_path(self, page: Page, config: MkDocsConfig) -> str:
        src = page.file.abs_src_path or os.path.join(config.docs_dir, page.file.src_path)
        return _relative(src, str(self._root))


@functools.cache
def _relative(path: str, root: str) -> str:
    # Asked for every page twice per build; os.path.relpath calls os.getcwd() each time.
    return Path(os.path.relpath(path, root)).as_posix()


def _require_arithmatex(config: MkDocsConfig) -> None:
    name = "pymdownx.arithmatex"
    if name not in config.markdown_extensions:
        config.markdown_extensions.append(name)
        config.mdx_configs[name] = {"generic": True}
    elif not config.mdx_configs.get(name, {}).get("generic"):
        raise PluginError(
            f"litnotes-math: markdown_extensions: {name} needs `generic: true` "
            "(litnotes renders the math at build time; MathJax mode would leave it to the browser)"
        )


def _text(p: Problem) -> str:
    where = p.path + (f":{p.line}" if p.line else "") + (f":{p.col}" if p.line and p.col else "")
    return f"{where}: {p.message}"
