r"""``litnotes.engines.mdx``: build-time math as a Python-Markdown extension.

Zensical runs every extension listed under ``markdown_extensions`` but no
MkDocs plugin, so the per-page part of ``litnotes-math`` lives here: after
Markdown has rendered a page (``pymdownx.arithmatex`` in generic mode), each
formula is rendered by KaTeX (:func:`litnotes.math.katex.render_page_math`),
labelled equations and theorem-like blocks are numbered, and
``\eqref``/``\ref`` become links (:func:`litnotes.math.katex.resolve_refs`).

A reference may point to another page, which this page's Markdown cannot see:
the site-wide labels come from ``labels``, a JSON file that
:func:`litnotes.engines.zensical.prepare` writes after reading every page.
The page being rendered is known from Zensical's rendering context; the
option ``page_path`` names it for other callers (tests, scripts).  MkDocs keeps
its ``litnotes-math`` plugin, which runs the same functions of
:mod:`litnotes.math.katex` in its page events.

Problems are printed to stderr, located ``FILE:LINE:COL`` (``report: false``
turns that off).  The strict check is ``prepare``'s, which runs the same
functions over every page before Zensical starts and reports them located in
the files as written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from litnotes.math.katex import (
    DEFAULT_MACROS,
    KATEX_DIST,
    RenderCache,
    Target,
    render_cache,
    render_page_math,
    resolve_refs,
)
from litnotes.site.escape import rel

__all__ = ["MathExtension", "makeExtension", "read_labels"]

_SOURCE_KEY = "litnotes_source"
_shown: set[str] = set()  # problems already printed: Zensical renders a page several times


def read_labels(path: str | Path) -> dict[str, tuple[Target, str]]:
    """The site-wide labels file: label name → (target, docs-relative path of its page)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {name: (Target(**entry["target"]), entry["page"]) for name, entry in data.items()}


_LABELS: dict[str, tuple[float, dict[str, tuple[Target, str]]]] = {}


def _labels(path: str) -> dict[str, tuple[Target, str]]:
    # Read again only when prepare has rewritten the file (zensical serve keeps this process).
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        return {}
    cached = _LABELS.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, read_labels(path))
        _LABELS[path] = cached
    return cached[1]


class _KeepSource(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        # Problems are located in the page's Markdown, as the MkDocs plugin does.
        setattr(self.md, _SOURCE_KEY, "\n".join(lines))
        return lines


class _RenderMath(Postprocessor):
    def __init__(self, md: Markdown, ext: MathExtension) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, text: str) -> str:
        page, title = self.ext.current_page(self.md)
        path = self.ext.getConfig("docs_prefix") + page
        cache = self.ext.cache()
        result = render_page_math(text, getattr(self.md, _SOURCE_KEY, ""), path, cache.render, title)
        problems = list(result.problems)
        if cache.misses:
            cache.save(prune=False)
        html = result.html
        if 'class="math-ref"' in html:
            labels = _labels(self.ext.getConfig("labels")) if self.ext.getConfig("labels") else {}
            targets = {name: t for name, (t, _) in labels.items()}
            pages = {t.path: p for t, p in labels.values()}
            for t in result.targets:  # this page's own labels win: they are what the reader sees
                targets[t.name] = t
                pages[t.path] = page

            def href(target: Target) -> str:
                # A link to the Markdown file, as an author writes it: the engine turns it into the
                # page's address (Zensical rewrites every relative link that way) and checks the anchor.
                there = pages.get(target.path, page)
                return f"{'' if there == page else rel(there, page)}#{target.anchor}"

            html, more = resolve_refs(html, path, targets, href)
            problems += more
        for problem in sorted(problems) if self.ext.getConfig("report") else ():
            line = problem.text()
            if line not in _shown:
                _shown.add(line)
                print(line, file=sys.stderr)
        return html


class MathExtension(Extension):
    """KaTeX at build time, numbered labels and theorem blocks, cross-page references."""

    def __init__(self, **kwargs: Any) -> None:
        self.config = {
            "katex_dist": [KATEX_DIST, "KaTeX's dist folder (from npm), absolute or relative to the working folder"],
            "cache_dir": ["", "folder of the KaTeX disk cache ('' for none)"],
            "macros": [{}, "extra KaTeX macros, added to litnotes' defaults"],
            "labels": ["", "the site-wide labels file written by litnotes.engines.zensical.prepare"],
            "docs_prefix": ["docs/", "put before a page's docs-relative path in messages"],
            "page_path": ["", "docs-relative path of the page, when no engine says which page it is"],
            "report": [True, "print problems to stderr (off when another step reports them)"],
        }
        super().__init__(**kwargs)
        self._cache: RenderCache | None = None

    def cache(self) -> RenderCache:
        """The process-wide KaTeX cache for these options (V8 starts only on a miss)."""
        if self._cache is None:
            cache_dir = self.getConfig("cache_dir")
            self._cache = render_cache(
                Path(self.getConfig("katex_dist")),
                {**DEFAULT_MACROS, **self.getConfig("macros")},
                Path(cache_dir) if cache_dir else None,
            )
        return self._cache

    def current_page(self, md: Markdown) -> tuple[str, str]:
        """(docs-relative path, title) of the page ``md`` is rendering."""
        for processor in md.preprocessors:
            page = getattr(processor, "page", None)  # Zensical's rendering context
            if processor.__class__.__name__ == "ContextPreprocessor" and page is not None:
                return page.path, page.title or ""
        return self.getConfig("page_path"), ""

    def extendMarkdown(self, md: Markdown) -> None:
        md.registerExtension(self)
        md.preprocessors.register(_KeepSource(md), "litnotes_source", 1000)
        # Last of all, on the page's finished HTML: after raw HTML and arithmatex's stash are restored.
        md.postprocessors.register(_RenderMath(md, self), "litnotes_math", -100)


def makeExtension(**kwargs: Any) -> MathExtension:
    """Entry point for ``markdown_extensions: [litnotes.engines.mdx]``."""
    return MathExtension(**kwargs)
