r"""Math at build time: KaTeX renders every formula; labels and references on top.

KaTeX comes from npm (``node_modules/katex/dist``) and runs in an embedded V8
(mini-racer), started once per process and only when a formula is not in the
cache: no process per formula, no math JavaScript in the browser.  Nothing
here knows about MkDocs:

- :class:`RenderCache` renders a formula once and keeps the HTML in memory and
  in one JSON file on disk, keyed by the formula and its display mode.
- :func:`render_page_math` takes a page's HTML as ``pymdownx.arithmatex``
  (``generic: true``) leaves it, renders each formula, numbers ``\label``-ed
  equations and the definition/theorem blocks, and reports what it defines and
  every problem, located in the page's Markdown source.
- :func:`resolve_refs` turns ``\eqref``/``\ref`` placeholders into links once
  every page's labels are known, because a reference may point forward or to
  another page.
"""

from __future__ import annotations

import atexit
import bisect
import difflib
import hashlib
import html as htmllib
import json
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litnotes import LitnotesError
from litnotes.diskcache import TextCache
from litnotes.problems import Problem

__all__ = [
    "BLOCK_KINDS",
    "DEFAULT_MACROS",
    "KATEX_DIST",
    "Katex",
    "KatexError",
    "KatexNotInstalled",
    "PageMath",
    "RenderCache",
    "Target",
    "find_katex",
    "katex_css",
    "merge_targets",
    "render_cache",
    "render_page_math",
    "resolve_refs",
]

DEFAULT_MACROS: dict[str, str] = {r"\R": r"\mathbb{R}"}
KATEX_DIST = "node_modules/katex/dist"

# Admonition types that are numbered: (Chinese name, id prefix).
BLOCK_KINDS: dict[str, tuple[str, str]] = {
    "definition": ("定义", "def"),
    "theorem": ("定理", "thm"),
    "lemma": ("引理", "lem"),
    "proposition": ("命题", "prop"),
    "corollary": ("推论", "cor"),
}
_PROOF_TITLE = "证明"

# Bumped when the options below (or what :func:`_tag_beside` and :func:`_end_marked` make of
# the output) change,
# so stale disk caches are ignored.
_OPTIONS_VERSION = 4
_RENDER_JS = r"""
var console = {log: function () {}, warn: function () {}, error: function () {}};
function litnotesRender(tex, displayMode, macros) {
  try {
    return JSON.stringify({html: katex.renderToString(tex, {
      displayMode: displayMode,
      throwOnError: true,
      // "error" also rejects raw CJK text in math, which KaTeX cannot lay out; \text{...} is fine.
      strict: "error",
      output: "htmlAndMathml",
      macros: JSON.parse(macros)
    })});
  } catch (e) {
    return JSON.stringify({error: String((e && e.message) || e)});
  }
}
"""


class KatexError(LitnotesError):
    """KaTeX rejected a formula; the message is KaTeX's own."""


class KatexNotInstalled(LitnotesError):
    """KaTeX's ``dist`` folder is missing: ``make setup`` has not run."""


def find_katex(root: Path, dist: str | Path = KATEX_DIST) -> Path:
    """Return KaTeX's ``dist`` folder under ``root``, or raise :class:`KatexNotInstalled`."""
    folder = Path(root) / dist
    if not (folder / "katex.min.js").is_file() or not (folder / "katex.min.css").is_file():
        raise KatexNotInstalled(
            f"{folder / 'katex.min.js'}: not found; KaTeX is installed from npm by package-lock.json: "
            f"run `make setup` (or `npm ci`) in {Path(root).resolve()}"
        )
    return folder


class Katex:
    """KaTeX in an embedded V8; :meth:`render` is ``katex.renderToString``.

    V8 starts on the first render, so a build whose formulas are all cached
    never starts it; once started, it is closed at exit.
    """

    def __init__(self, dist: Path) -> None:
        self._script = Path(dist) / "katex.min.js"
        #: Names this build of KaTeX in cache keys without starting V8.
        self.digest = hashlib.sha256(self._script.read_bytes()).hexdigest()[:16]
        self._ctx: Any = None
        self.renders = 0

    def render(self, tex: str, display: bool, macros: Mapping[str, str]) -> str:
        """Return KaTeX's HTML for ``tex``; raise :class:`KatexError` with KaTeX's message.

        A display formula's equation number comes after KaTeX's box (:func:`_tag_beside`);
        an inline formula's last piece is marked (:func:`_end_marked`).
        """
        self.renders += 1
        # KaTeX stores \gdef definitions in the macros object, so each call gets a fresh one.
        out = json.loads(self._context().call("litnotesRender", tex, display, json.dumps(dict(macros))))
        if "error" in out:
            raise KatexError(out["error"])
        return _tag_beside(out["html"]) if display else _end_marked(out["html"])

    @property
    def started(self) -> bool:
        """Whether V8 is running (it starts on the first render)."""
        return self._ctx is not None

    def close(self) -> None:
        """Stop V8.  Registered with atexit, so V8 stops before the interpreter's teardown.

        mini-racer's own clean-up in ``__del__`` ignores ordering problems at
        teardown and recommends closing deterministically.
        """
        ctx, self._ctx = self._ctx, None
        if ctx is not None:
            ctx.close()

    def _context(self) -> Any:
        if self._ctx is None:
            from py_mini_racer import MiniRacer

            ctx = MiniRacer()
            ctx.eval(self._script.read_text(encoding="utf-8"))
            ctx.eval(_RENDER_JS)
            self._ctx = ctx
            atexit.register(self.close)
        return self._ctx


# KaTeX ends a display formula with its equation number, the last child of .katex-html,
# then closes .katex-html, .katex and .katex-display.
_TAG_OPEN = '<span class="katex-tag">'
_DISPLAY_END = "</span></span></span>"


def _tag_beside(html: str) -> str:
    """Move a display formula's equation number out of KaTeX's box, to sit beside it.

    KaTeX positions the number absolutely over the right end of the formula, so
    on a phone a formula wider than the screen runs under its number.  Beside
    it, the formula scrolls in its own box (``math.css``) while the number stays
    in view.  The MathML keeps the number for screen readers, so the moved copy
    is hidden from them like the rest of KaTeX's HTML.  Output of another shape
    is returned unchanged.
    """
    start = html.rfind(_TAG_OPEN)
    if start < 0 or not html.endswith(_DISPLAY_END):
        return html
    tag = html[start:-len(_DISPLAY_END)]
    if tag.count("<span") != tag.count("</span>"):
        return html  # not the formula's last child after all
    return f'{html[:start]}{_DISPLAY_END}<span class="katex math-tag" aria-hidden="true">{tag}</span>'


_BASE_OPEN = '<span class="katex-base">'
_INLINE_END = "</span></span>"  # closes .katex-html and .katex


def _end_marked(html: str) -> str:
    """Move an inline formula's last piece out of ``.katex-html``, into ``span.katex-end``.

    A browser may break a line between the pieces of a formula and after it; a
    Chinese full stop after a formula then may start the next line.  Chromium
    decides about the break after the formula by the boxes it closes there, so
    the last piece gets a box of its own, outside ``.katex-html``, which
    ``reader.css`` keeps from wrapping when Chinese punctuation follows (see
    :mod:`litnotes.site.cjk`), while the rest of the formula can still break.
    Like the rest of KaTeX's HTML it is hidden from screen readers, which read
    the MathML.  Output of another shape is returned unchanged.
    """
    start = html.rfind(_BASE_OPEN)
    if start < 0 or not html.endswith(_INLINE_END):
        return html
    last = html[start:-len(_INLINE_END)]
    if last.count("<span") != last.count("</span>"):
        return html
    return f'{html[:start]}</span><span class="katex-end" aria-hidden="true">{last}</span></span>'


_ENGINES: dict[Path, Katex] = {}
_CACHES: dict[tuple[Path, str, Path | None], RenderCache] = {}


def _engine(dist: Path) -> Katex:
    key = Path(dist).resolve()
    if key not in _ENGINES:
        _ENGINES[key] = Katex(key)
    return _ENGINES[key]


@dataclass
class RenderCache:
    """Rendered HTML by (formula, display mode), in memory and in ``directory/<fingerprint>.json``.

    The fingerprint covers KaTeX's build (a hash of ``katex.min.js``) and the
    macros, so a change of either starts a fresh cache.  Errors are not cached.
    """

    engine: Katex
    macros: Mapping[str, str]
    directory: Path | None = None
    hits: int = 0
    misses: int = 0
    _store: TextCache = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._store = TextCache(self.path)

    @property
    def fingerprint(self) -> str:
        data = json.dumps([self.engine.digest, sorted(self.macros.items()), _OPTIONS_VERSION])
        return hashlib.sha256(data.encode()).hexdigest()[:16]

    @property
    def path(self) -> Path | None:
        return None if self.directory is None else self.directory / f"katex-{self.fingerprint}.json"

    def begin_build(self) -> None:
        """Start counting a new build (``mkdocs serve`` reuses the cache across builds)."""
        self.hits = self.misses = 0
        self._store.begin_build()

    def render(self, tex: str, display: bool) -> str:
        """Return the HTML for ``tex``, rendering it only if no cache has it."""
        key = ("D" if display else "I") + tex
        html = self._store.get(key)
        if html is not None:
            self.hits += 1
            return html
        html = self.engine.render(tex, display, self.macros)
        self.misses += 1
        self._store.put(key, html)
        return html

    def save(self, prune: bool = True) -> None:
        """Write the disk cache; with ``prune``, keep only the formulas this build used."""
        self._store.save(prune)


def render_cache(dist: Path, macros: Mapping[str, str], directory: Path | None) -> RenderCache:
    """Return the process-wide cache for this KaTeX, macros and cache folder."""
    engine = _engine(dist)
    macros = dict(macros)
    probe = RenderCache(engine, macros, directory)
    key = (Path(dist).resolve(), probe.fingerprint, directory)
    return _CACHES.setdefault(key, probe)


_FONT_FALLBACKS = re.compile(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)')
_FONT_URL = re.compile(r"url\((fonts/[^)]+)\)")


def katex_css(dist: Path) -> tuple[str, list[str]]:
    """Return KaTeX's CSS with only the woff2 fonts, and those fonts' paths relative to the CSS."""
    css = (Path(dist) / "katex.min.css").read_text(encoding="utf-8")
    css = _FONT_FALLBACKS.sub("", css)
    return css, sorted(set(_FONT_URL.findall(css)))


# --- Pages: formulas, labels, numbered blocks ---------------------------------------------


@dataclass(frozen=True)
class Target:
    r"""Something a ``\label`` names: a numbered equation or a definition/theorem block."""

    name: str
    kind: str  #: ``"equation"`` or a key of :data:`BLOCK_KINDS`
    number: int
    anchor: str  #: the HTML id, e.g. ``eq-jensen``
    path: str  #: the Markdown file that defines it, as shown in messages
    line: int
    caption: str  #: plain text, e.g. ``式 (2)`` or ``定理 1（Jensen 不等式）``
    page_title: str = ""  #: shown with the caption when the reference is on another page


@dataclass
class PageMath:
    """What :func:`render_page_math` made of one page."""

    html: str
    targets: list[Target] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)  #: every id added, labelled or not
    problems: list[Problem] = field(default_factory=list)
    formulas: int = 0


_KIND_ALT = "|".join(BLOCK_KINDS) + "|proof"
_BLOCK = re.compile(
    rf'<div class="admonition (?P<akind>{_KIND_ALT})(?P<aextra>(?: [^"]*)?)">'
    r'(?:\s*<p class="admonition-title">(?P<atitle>.*?)</p>)?'
    rf'|<details class="(?P<dkind>{_KIND_ALT})(?P<dextra>(?: [^"]*)?)"(?P<open> open(?:="open")?)?>'
    r"\s*<summary>(?P<dtitle>.*?)</summary>",
    re.DOTALL,
)
_SEGMENT = re.compile(
    r"(?P<skip><!--.*?-->|<pre\b.*?</pre>|<code\b.*?</code>|<script\b.*?</script>|<style\b.*?</style>)"
    r'|<(?P<tag>span|div) class="arithmatex">(?P<math>.*?)</(?P=tag)>'
    r"|\\(?P<cmd>eqref|ref)\{(?P<name>[^{}<>]*)\}",
    re.DOTALL,
)
_LABEL = re.compile(r"\\label\{([^{}]*)\}")
_TAG = re.compile(r"\\tag\*?\{")
_NAME = re.compile(r"[\w.:-]+")
_TAGS = re.compile(r"<[^>]+>")
_PLACEHOLDER = re.compile(
    r'<a class="math-ref" data-ref="(?P<name>[^"]*)" data-cmd="(?P<cmd>eqref|ref)" '
    r'data-at="(?P<line>\d+):(?P<col>\d+)">.*?</a>',
    re.DOTALL,
)


class _Locator:
    """Finds snippets of a page's Markdown in document order, as (line, column), 1-based."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._starts: list[int] | None = None  # line starts, found on the first hit (most pages have none)
        self._cursor = 0

    def find(self, *candidates: str) -> tuple[int, int]:
        """Locate the first candidate found after the previous hit (else anywhere); (0, 0) if none."""
        for cand in candidates:
            if not cand:
                continue
            at = self.source.find(cand, self._cursor)
            if at < 0:
                at = self.source.find(cand)
            if at >= 0:
                self._cursor = at + len(cand)
                if self._starts is None:
                    self._starts = [0] + [m.end() for m in re.finditer("\n", self.source)]
                line = bisect.bisect_right(self._starts, at)
                return line, at - self._starts[line - 1] + 1
        return 0, 0


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


def _plain(title_html: str) -> str:
    text = htmllib.unescape(_TAGS.sub("", title_html))
    return re.sub(r"\\[()\[\]]", "", text).strip()


def _problem(path: str, at: tuple[int, int], message: str, rule: str) -> Problem:
    return Problem(path, at[0], at[1], message, rule)


def render_page_math(
    html: str,
    source: str,
    path: str,
    render: Callable[[str, bool], str],
    page_title: str = "",
) -> PageMath:
    r"""Render one page's math and number its labelled equations and theorem-like blocks.

    ``html`` is the page as Markdown rendered it (``pymdownx.arithmatex`` in
    generic mode); ``source`` is the page's Markdown, used only to locate
    problems; ``path`` names the page in messages; ``render(tex, display)``
    returns KaTeX's HTML or raises :class:`KatexError`.  ``\eqref``/``\ref`` in
    prose become placeholders for :func:`resolve_refs`.
    """
    out = PageMath(html)
    # Substring tests are far quicker than the patterns, and most pages (a paper, a report) match none.
    if '<div class="admonition ' in html or "<details " in html:
        _number_blocks(out, source, path, page_title)
    if 'class="arithmatex"' in html or "ref{" in html:
        _render_segments(out, source, path, render, page_title)
    return out


def _number_blocks(out: PageMath, source: str, path: str, page_title: str) -> None:
    counters = dict.fromkeys(BLOCK_KINDS, 0)
    proofs = 0
    labels = _Locator(source)

    def block(m: re.Match[str]) -> str:
        nonlocal proofs
        admonition = m.group("akind") is not None
        kind = m.group("akind") or m.group("dkind")
        title = (m.group("atitle") if admonition else m.group("dtitle")) or ""
        names = _LABEL.findall(title)
        title = _LABEL.sub("", title).strip()
        if title == kind.capitalize():  # Python-Markdown's default title for the type
            title = ""
        name = names[0] if names else None
        if len(names) > 1:
            at = labels.find(f"\\label{{{names[1]}}}")
            out.problems.append(_problem(path, at, f"a {kind} block takes one \\label, found {len(names)}", "label"))
        if name is not None and not _NAME.fullmatch(name):
            at = labels.find(f"\\label{{{name}}}")
            out.problems.append(_problem(path, at, _bad_name(name), "label"))
            name = None
        if kind == "proof":
            proofs += 1
            anchor = f"proof-{name}" if name else f"proof-{proofs}"
            heading = title or _PROOF_TITLE
        else:
            zh, prefix = BLOCK_KINDS[kind]
            counters[kind] += 1
            number = counters[kind]
            anchor = f"{prefix}-{name}" if name else f"{prefix}-{number}"
            heading = f"{zh} {number}" + (f"（{title}）" if title else "")
            if name:
                at = labels.find(f"\\label{{{name}}}")
                out.targets.append(Target(name, kind, number, anchor, path, at[0], _plain(heading), page_title))
        out.anchors.append(anchor)
        if admonition:
            return (
                f'<div class="admonition {kind}{m.group("aextra")}" id="{anchor}">\n'
                f'<p class="admonition-title">{heading}</p>'
            )
        return (
            f'<details class="{kind}{m.group("dextra")}" id="{anchor}"{m.group("open") or ""}>\n'
            f"<summary>{heading}</summary>"
        )

    out.html = _BLOCK.sub(block, out.html)


def _bad_name(name: str) -> str:
    return (f"label name '{name}' must be letters, digits, '_', '-', '.' or ':' (no spaces), "
            "e.g. \\label{jensen-finite}")


def _render_segments(
    out: PageMath, source: str, path: str, render: Callable[[str, bool], str], page_title: str
) -> None:
    where = _Locator(source)
    equations = 0

    def segment(m: re.Match[str]) -> str:
        nonlocal equations
        if m.group("skip"):
            return m.group(0)
        if m.group("cmd"):
            cmd, name = m.group("cmd"), m.group("name")
            line, col = where.find(f"\\{cmd}{{{name}}}")
            return (
                f'<a class="math-ref" data-ref="{htmllib.escape(name)}" data-cmd="{cmd}" '
                f'data-at="{line}:{col}">\\{cmd}{{{htmllib.escape(name, quote=False)}}}</a>'
            )
        out.formulas += 1
        display = m.group("tag") == "div"
        tex = htmllib.unescape(m.group("math"))
        opener, closer = ("\\[", "\\]") if display else ("\\(", "\\)")
        if tex.startswith(opener) and tex.endswith(closer):
            tex = tex[2:-2]
        at = (
            where.find(tex.strip(), _first_line(tex))
            if display
            else where.find(f"${tex}$", f"\\({tex}\\)", tex)
        )
        names = _LABEL.findall(tex)
        anchor = None
        if names:
            tex = _LABEL.sub("", tex)
            message = None
            if not display:
                message = f"\\label{{{names[0]}}} in inline math: only display math ($$ … $$) is numbered"
            elif len(names) > 1:
                message = (
                    f"one \\label per display formula, found {len(names)} "
                    f"({', '.join(names)}); split the formula"
                )
            elif _TAG.search(tex):
                message = f"\\label{{{names[0]}}} and \\tag in one formula: drop the \\tag, the label numbers it"
            elif not _NAME.fullmatch(names[0]):
                message = _bad_name(names[0])
            if message:
                out.problems.append(_problem(path, at, message, "label"))
            else:
                equations += 1
                anchor = f"eq-{names[0]}"
                tex = f"{tex.rstrip()} \\tag{{{equations}}}"
                caption = f"式 ({equations})"
                out.targets.append(Target(names[0], "equation", equations, anchor, path, at[0], caption, page_title))
                out.anchors.append(anchor)
        try:
            rendered = render(tex.strip(), display)
        except KatexError as e:
            out.problems.append(_problem(path, at, str(e), "katex"))
            rendered = f'<code class="math-error" title="{htmllib.escape(str(e))}">{htmllib.escape(tex.strip())}</code>'
        if not display:
            return rendered
        id_attr = f' id="{anchor}"' if anchor else ""
        return f'<div class="math-display"{id_attr}>{rendered}</div>'

    out.html = _SEGMENT.sub(segment, out.html)


def merge_targets(known: MutableMapping[str, Target], new: Iterable[Target]) -> list[Problem]:
    """Add ``new`` targets to the site-wide ``known`` ones; a name used twice is a problem."""
    problems = []
    for t in new:
        first = known.get(t.name)
        if first is not None:
            problems.append(
                Problem(
                    t.path, t.line, 0,
                    f"\\label{{{t.name}}} is already defined at {first.path}:{first.line}; labels are site-wide",
                    "label",
                )
            )
            continue
        known[t.name] = t
    return problems


def resolve_refs(
    html: str,
    path: str,
    targets: Mapping[str, Target],
    href: Callable[[Target], str],
) -> tuple[str, list[Problem]]:
    r"""Replace the page's ``\eqref``/``\ref`` placeholders with links to their targets.

    ``\eqref{x}`` reads "(n)", ``\ref{x}`` reads "n"; ``href(target)`` gives the
    link from this page.  An unknown name is a problem located at the reference.
    """
    problems: list[Problem] = []

    def link(m: re.Match[str]) -> str:
        name, cmd = htmllib.unescape(m.group("name")), m.group("cmd")
        target = targets.get(name)
        if target is None:
            hint = difflib.get_close_matches(name, list(targets), n=1)
            message = f"\\{cmd}{{{name}}}: no \\label{{{name}}} on any page" + (
                f"; did you mean '{hint[0]}'?" if hint else ""
            )
            problems.append(Problem(path, int(m.group("line")), int(m.group("col")), message, "ref"))
            return '<span class="math-ref math-ref-missing">(??)</span>'
        text = f"({target.number})" if cmd == "eqref" else str(target.number)
        url = href(target)
        # Numbers restart on each page: a reference to another page names that page.
        same_page = url.startswith("#") or not target.page_title
        title = target.caption if same_page else f"{target.page_title} · {target.caption}"
        return f'<a class="math-ref" href="{htmllib.escape(url)}" title="{htmllib.escape(title)}">{text}</a>'

    return _PLACEHOLDER.sub(link, html), problems
