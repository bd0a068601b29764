"""The lineage of ``builds_on`` as a graph, drawn at build time.

:func:`lineage_dot` writes Graphviz DOT for a set of papers (one paper's
neighbourhood, or the whole knowledge base); :class:`Viz` lays it out with
Graphviz compiled to WebAssembly (npm ``@viz-js/viz``) in the embedded V8 the
build already runs KaTeX in (mini-racer), and :func:`clean_svg` makes the SVG
fit inside a page.  The result needs no script and makes no request; every
node is a link to its paper's page.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import posixpath
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from litnotes import LitnotesError
from litnotes.diskcache import TextCache
from litnotes.records.model import KnowledgeBase, Paper
from litnotes.site.escape import attr, dot_string, html_text

__all__ = [
    "CATEGORY_LIMIT",
    "GRAPH_CACHE",
    "VIZ_SCRIPT",
    "Viz",
    "VizError",
    "category_lineages",
    "clean_svg",
    "find_viz",
    "lineage_dot",
    "neighbourhood",
    "own_node",
    "page_url",
    "relative_url",
]

VIZ_SCRIPT = "node_modules/@viz-js/viz/dist/viz-global.js"
#: Drawings kept between builds, relative to the project's root (beside KaTeX's ``.cache/katex``).
GRAPH_CACHE = ".cache/graphviz"
# Bumped when what a cached drawing is made of changes beyond the script and the prelude below.
_DRAW_VERSION = 1
#: At most this many papers in the category graph of a paper without relations of its own.
CATEGORY_LIMIT = 20

# mini-racer is a bare V8: no `location` (Emscripten asks it for the script's
# address, unused since the WebAssembly is inlined) and no TextDecoder (Graphviz
# hands back UTF-8 bytes). A small UTF-8 decoder is all it needs.
_PRELUDE = r"""
var location = {href: "file:///viz-global.js"};
function TextDecoder() {}
TextDecoder.prototype.decode = function (bytes) {
  var out = [], i = 0, n = bytes ? bytes.length : 0;
  while (i < n) {
    var b = bytes[i++], cp;
    if (b < 0x80) cp = b;
    else if (b < 0xe0) cp = ((b & 0x1f) << 6) | (bytes[i++] & 0x3f);
    else if (b < 0xf0) cp = ((b & 0x0f) << 12) | ((bytes[i++] & 0x3f) << 6) | (bytes[i++] & 0x3f);
    else cp = ((b & 0x07) << 18) | ((bytes[i++] & 0x3f) << 12) | ((bytes[i++] & 0x3f) << 6) | (bytes[i++] & 0x3f);
    out.push(String.fromCodePoint(cp));
  }
  return out.join("");
};
var litnotesViz = null, litnotesVizError = null;
Viz.instance().then(function (v) { litnotesViz = v; }, function (e) { litnotesVizError = String(e); });
function litnotesDraw(dot) {
  var r = litnotesViz.render(dot, {format: "svg"});
  if (r.status !== "success") {
    return JSON.stringify({error: r.errors.map(function (e) { return e.message; }).join("; ")});
  }
  return JSON.stringify({svg: r.output});
}
"""


class VizError(LitnotesError):
    """Graphviz could not be started or rejected a graph."""


def find_viz(start: Path) -> Path | None:
    """``@viz-js/viz``'s script in ``node_modules`` of ``start`` or of the nearest folder above it (as Node looks)."""
    for folder in (Path(start).resolve(), *Path(start).resolve().parents):
        script = folder / VIZ_SCRIPT
        if script.is_file():
            return script
    return None


class Viz:
    """Graphviz in an embedded V8; :meth:`render` turns DOT into SVG.

    Each SVG is kept by its DOT, in memory and, with ``cache_dir``, on disk in
    ``cache_dir/graphviz-<digest>.json`` (:class:`litnotes.diskcache.TextCache`),
    ``digest`` naming the Graphviz build and the drawing code.  A build whose
    graphs are all cached never starts V8: at 1,000 papers drawing the 335
    graphs took 1.4–2.4 s of every build.
    """

    def __init__(self, script: Path, cache_dir: Path | None = None) -> None:
        self._script = Path(script)
        self._ctx: Any = None
        #: Names this Graphviz (its script holds the WebAssembly) and the drawing code, without starting V8.
        self.digest = hashlib.sha256(self._script.read_bytes() + _PRELUDE.encode()
                                     + str(_DRAW_VERSION).encode()).hexdigest()[:16]
        self._cache = TextCache(None if cache_dir is None else Path(cache_dir) / f"graphviz-{self.digest}.json")
        #: Graphs drawn by Graphviz (not taken from a cache) in this process.
        self.draws = 0

    @classmethod
    def shared(cls, script: Path, cache_dir: Path | None = None) -> Viz:
        """One instance per script and cache folder for the process, so rebuilds reuse V8 and the drawn graphs."""
        key = (Path(script).resolve(), None if cache_dir is None else Path(cache_dir).resolve())
        if key not in _SHARED:
            _SHARED[key] = cls(*key)
        return _SHARED[key]

    @contextmanager
    def drawing(self) -> Iterator[Callable[[str], str]]:
        """:meth:`render` for one build; the disk cache is then saved with only the graphs this build used.

        A build that stops half-way (a :class:`VizError`) keeps every cached graph.
        """
        self._cache.begin_build()
        try:
            yield self.render
        except BaseException:
            self._cache.save(prune=False)
            raise
        self._cache.save()

    def _start(self) -> Any:
        from py_mini_racer import MiniRacer

        ctx = MiniRacer()
        ctx.eval(self._script.read_text(encoding="utf-8"))
        ctx.eval(_PRELUDE)
        # Viz.instance() compiles the WebAssembly asynchronously; V8's event loop runs it.
        deadline = time.monotonic() + 30
        while not ctx.eval("litnotesViz !== null || litnotesVizError !== null"):
            if time.monotonic() > deadline:
                raise VizError(f"{self._script}: Graphviz did not start within 30 s")
            time.sleep(0.005)
        error = ctx.eval("litnotesVizError")
        if error:
            raise VizError(f"{self._script}: Graphviz did not start: {error}")
        atexit.register(ctx.close)
        return ctx

    def render(self, dot: str) -> str:
        """The SVG of a DOT graph, as Graphviz writes it; :class:`VizError` with Graphviz's message."""
        svg = self._cache.get(dot)
        if svg is not None:
            return svg
        if self._ctx is None:
            self._ctx = self._start()
        result = json.loads(self._ctx.call("litnotesDraw", dot))
        self.draws += 1
        if "error" in result:
            raise VizError(f"Graphviz: {result['error']}")
        self._cache.put(dot, result["svg"])
        return result["svg"]


_SHARED: dict[tuple[Path, Path | None], Viz] = {}


def page_url(src: str, directory_urls: bool = True) -> str:
    """The site address (relative to the site root) of a docs-relative ``.md`` page, as MkDocs builds it."""
    stem = src[:-3] if src.endswith(".md") else src
    head, name = posixpath.split(stem)
    if name == "index":
        return f"{head}/" if head else ""
    return f"{stem}/" if directory_urls else f"{stem}.html"


def relative_url(target: str, page: str, directory_urls: bool = True) -> str:
    """A link from the built page of ``page`` to the built page of ``target`` (both docs-relative ``.md``)."""
    url = page_url(page, directory_urls)
    here = url[:-1] if url.endswith("/") else posixpath.dirname(url)
    there = page_url(target, directory_urls)
    out = posixpath.relpath(there or ".", here or ".")
    return out + "/" if (there.endswith("/") or not there) and not out.endswith("/") else out


def neighbourhood(kb: KnowledgeBase, paper_id: str, depth: int = 2) -> set[str]:
    """The paper, what it builds on and what builds on it, up to ``depth`` steps each way.

    Bounded on purpose: a long chain of records would otherwise put the whole
    chain on every page of it, and the build would grow as its square.
    """
    seen = {paper_id}
    for step in (lambda i: kb.papers[i].builds_on if i in kb.papers else (),
                 lambda i: kb.built_on_by.get(i, ())):
        frontier = {paper_id}
        for _ in range(depth):
            frontier = {n for i in frontier for n in step(i) if n in kb.papers} - seen
            seen |= frontier
    return seen


def category_lineages(kb: KnowledgeBase, limit: int = CATEGORY_LIMIT) -> dict[str, tuple[frozenset[str], int]]:
    """Per category: the papers in a ``builds_on`` relation inside it (at most ``limit``), and how many were left out.

    This is what the page of a paper without relations shows to say where it
    sits.  Only relations between two papers of the category count: an edge to
    another category would need its other end, and a lone node says nothing.
    The choice does not depend on the paper, so every paper of a category can
    share one drawing.  Over the limit, the papers with the most relations in
    the category stay (then the newest), which keeps its main lines.  One pass
    over the records for all categories.
    """
    degree: dict[str, Counter[str]] = {}
    for p in kb.papers.values():
        for b in p.builds_on:
            base = kb.papers.get(b)
            if base is not None and b != p.id and base.category == p.category:
                count = degree.setdefault(p.category, Counter())
                count[p.id] += 1
                count[b] += 1
    out = {}
    for key, count in degree.items():
        ranked = sorted(count, key=lambda i: (-count[i], -kb.papers[i].year, kb.papers[i].label.lower(), i))
        out[key] = (frozenset(ranked[:limit]), max(0, len(ranked) - limit))
    return out


def lineage_dot(kb: KnowledgeBase, ids: Iterable[str], href: Callable[[str], str], *,
                current: str | None = None, clusters: bool = False) -> str:
    """Graphviz DOT of ``ids`` and the ``builds_on`` edges between them (older paper → newer).

    ``href(paper_id)`` is the node's link; ``current`` is drawn bold; with
    ``clusters`` the papers are grouped by category.
    """
    chosen = sorted((kb.papers[i] for i in set(ids) if i in kb.papers), key=lambda p: (p.year, p.label.lower(), p.id))
    lines = [f"digraph {dot_string('lineage')} {{",
             # No graph tooltip: Graphviz would wrap the graph and each cluster in an <a> without a link.
             '  graph [rankdir=LR, bgcolor="transparent", fontname="sans-serif", fontsize=11, '
             'nodesep=0.2, ranksep=0.35];',
             '  node [shape=box, style="rounded", fontname="sans-serif", fontsize=11, height=0.3, '
             'margin="0.12,0.04", class="litnotes-graph-node"];',
             "  edge [arrowsize=0.6];"]

    def node(p: Any) -> str:
        extra = ', style="rounded,bold", class="litnotes-graph-node litnotes-graph-current"' if p.id == current else ""
        return (f"  {dot_string(p.id)} [label={dot_string(p.label)}, URL={dot_string(href(p.id))}, "
                f"tooltip={dot_string(f'{p.title} ({p.year})')}{extra}];")

    if clusters:
        for key, cat in kb.categories.items():
            members = [p for p in chosen if p.category == key]
            if members:
                lines.append(f"  subgraph {dot_string('cluster_' + key)} {{")
                lines.append(f'    graph [label={dot_string(cat.title)}, style="rounded,dashed", color="gray60"];')
                lines += ["  " + node(p) for p in members]
                lines.append("  }")
        lines += [node(p) for p in chosen if p.category not in kb.categories]
    else:
        lines += [node(p) for p in chosen]
    present = {p.id for p in chosen}
    for p in chosen:
        for base in p.builds_on:
            if base in present:
                lines.append(f"  {dot_string(base)} -> {dot_string(p.id)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def own_node(p: Paper, href: str) -> str:
    """A paper as a node outside a drawing: an HTML link shaped like the graph's bold current node.

    It stands beside its category's graph on the page of a paper without
    relations; being no part of the drawing, it needs no drawing per page.
    """
    return (f'<a class="litnotes-graph-own" href="{attr(href)}" title="{attr(f"{p.title} ({p.year})")}">'
            f"{html_text(p.label)}</a>")


_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SIZE = re.compile(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"')


def clean_svg(svg: str, label: str) -> str:
    """Graphviz's SVG as inline HTML: no XML prolog or comments, scales down to the column, named for screen readers."""
    svg = _COMMENT.sub("", _PROLOG.sub("", svg, count=1))
    svg = _SIZE.sub(lambda m: f'<svg class="litnotes-graph-svg" role="img" aria-label="{attr(label)}" '
                              f'width="{m.group(1)}pt" height="{m.group(2)}pt" '
                              f'style="max-width: 100%; height: auto"', svg, count=1)
    # A blank line would end the raw HTML block in Markdown.
    return "\n".join(line for line in svg.splitlines() if line.strip())

