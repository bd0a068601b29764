r"""Record Markdown: the smaller Markdown language of a record's ``summary`` and ``notes``.

Hand-written pages under ``docs/`` get every Markdown extension of the site.  A
record is text a contributor hands in, so its Markdown is CommonMark with math
(``$…$``, ``$$…$$``) and nothing that can carry markup or behaviour:

- no raw HTML, no attribute lists (``{: …}``), no admonitions (``!!!``,
  ``???``), no directives (``:::``), no ``\label``/``\ref``/``\eqref``;
- every link destination (inline, angle-bracketed, reference-style, autolink)
  is ``https``, ``http``, ``mailto`` or a relative link inside the site, judged
  after entity and percent decoding with control characters and whitespace
  removed (browsers ignore a tab inside ``java\tscript:``);
- images only from the site itself (the site loads nothing from other hosts).

One parser, markdown-it-py, serves both sides: :func:`findings` tells
``litnotes check`` (and the build, which runs the same record rules) what is
not allowed and where; :func:`render` turns the same tokens into HTML in which
none of it is active, so a record that never went through ``check`` still
publishes nothing that runs.  Python-Markdown never sees record Markdown: the
page gets :func:`render`'s HTML as a raw block.
"""

from __future__ import annotations

import html
import posixpath
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from litnotes.text import is_wide

__all__ = ["SHOWN_IN", "Finding", "destination_problem", "findings", "math_segments", "render", "site_target",
           "text_lines"]

#: Schemes a link may use; anything else (javascript:, data:, vbscript:, file:, …) is refused.
LINK_SCHEMES = ("https", "http", "mailto")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# Attribute lists of Python-Markdown's attr_list, with or without the colon: '{: #id .cls key=value }'.
_ATTR_LIST = re.compile(r"\{[ \t]*:[^}\n]*\}?|\{[ \t]*[#.][A-Za-z_][^}\n]*\}|\{[^}\n]*?[A-Za-z_][\w-]*=[^}\n]*\}")
_ADMONITION = re.compile(r"^[ \t]*(?:!!!|\?\?\?\+?)(?=[ \t]|$)")
_DIRECTIVE = re.compile(r"^[ \t]*:::")
_LABEL = re.compile(r"\\(?:label|eqref|ref)\{[^{}\n]*\}?")
# Characters that can start a construct this module refuses; text without any is clean.
_MAYBE = re.compile(r"[<\[\]{}!?:\\&]")


@dataclass(frozen=True)
class Finding:
    """Something record Markdown may not contain, at 0-based (line, col) of the text."""

    line: int
    col: int
    construct: str  #: what it is, e.g. "raw HTML" or "a link to 'javascript:…'"
    fix: str  #: how to write it instead

    def message(self, field: str) -> str:
        """The problem message for the record field ``field``."""
        return f"'{field}' contains {self.construct}; {self.fix}"


# --- link destinations -------------------------------------------------------------------------------

def _normal(url: str) -> str:
    """A destination as a browser may read it: entities and percent-escapes decoded, no controls or spaces."""
    for _ in range(3):  # '&amp;#115;' is two layers deep; three rounds end any reasonable nesting
        decoded = unquote(html.unescape(url))
        if decoded == url:
            break
        url = decoded
    return "".join(ch for ch in url if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))


def destination_problem(url: str, *, image: bool = False, written: str | None = None) -> str | None:
    """Why a link (or with ``image``, an image) destination is not allowed in a record, or None.

    The answer names the construct as :class:`Finding` does, quoting
    ``written`` (the source, e.g. ``[a](java&#115;cript:…)``) or else ``url``;
    :func:`render` drops exactly the destinations for which this is not None.
    """
    normal = _normal(url).replace("\\", "/")
    shown = _shorten(written or url)
    m = _SCHEME.match(normal)
    if image:
        if m or normal.startswith("//"):
            return f"an image from another host ('{shown}')"
    elif m and m.group(1).lower() not in LINK_SCHEMES:
        return f"a link with the scheme '{m.group(1).lower()}:' ('{shown}')"
    elif m:
        return None
    if normal.startswith("//"):
        return f"a link to another host without a scheme ('{shown}')"
    if normal.startswith("/"):
        return f"an absolute link ('{shown}')"
    # A record is shown on pages one folder deep (papers/<id>/, reports/<date>/).
    path = normal.split("#", 1)[0].split("?", 1)[0]
    if path and posixpath.normpath(posixpath.join("papers", path)).startswith(".."):
        return f"a link out of the site ('{shown}')"
    return None


def _shorten(url: str) -> str:
    text = url.replace("\t", "\\t").replace("\n", "\\n")
    return text if len(text) <= 60 else text[:59] + "…"


def _target_problem(url: str, written: str, page_exists: Callable[[str], bool] | None) -> str | None:
    if _normal(url).startswith("#"):
        return f"a link to an anchor of the page itself ('{_shorten(written)}'), which differs on each page " \
               "the record is shown on"
    target = site_target(url)
    if target == "":
        return f"a relative link that leads to different pages on the paper page and in a report " \
               f"('{_shorten(written)}')"
    if page_exists is None or target is None or page_exists(target):
        return None
    return f"a link to a page or file that does not exist ('{_shorten(written)}', that is docs/{target})"


_SITE_FIX = ("write a relative link from the folder papers/ to a page or file of the site, e.g. "
             "[DIST](../papers/dist2022.md): the record is shown on its paper page and in weekly reports")
_LINK_FIX = ("a link may use https, http or mailto, or be a relative link inside the site such as "
             "[DIST](../papers/dist2022.md)")
_IMAGE_FIX = ("the site loads nothing from other hosts: save the image under docs/ and show it with a relative "
              "path, or link to it instead ([text](https://…))")


# --- the parser --------------------------------------------------------------------------------------

def _mark_positions(md: MarkdownIt) -> None:
    """Record in ``token.meta['pos']`` where each inline rule's tokens start in the inline source."""
    for rule in md.inline.ruler.get_all_rules():
        fn = md.inline.ruler.__rules__[md.inline.ruler.__find__(rule)].fn

        def wrapped(state: StateInline, silent: bool, _fn: Any = fn) -> bool:
            start, count = state.pos, len(state.tokens)
            ok = _fn(state, silent)
            if ok and not silent:
                for token in state.tokens[count:]:
                    if "pos" not in token.meta:
                        token.meta.update(pos=start, end=state.pos)
            return ok

        md.inline.ruler.at(rule, wrapped)


@cache
def _parser() -> MarkdownIt:
    # html: on so that raw HTML is seen (and refused) rather than silently kept as text;
    # every destination is accepted by the parser and judged by destination_problem.
    md = MarkdownIt("commonmark", {"html": True})
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True)
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    _mark_positions(md)
    md.add_render_rule("html_block", lambda self, tokens, idx, options, env: escapeHtml(tokens[idx].content))
    md.add_render_rule("html_inline", lambda self, tokens, idx, options, env: escapeHtml(tokens[idx].content))
    # A record's heading must not add a section to the page around it (the paper page's sections
    # are the same for every record): it is shown as a bold paragraph of its own.
    md.add_render_rule("heading_open",
                       lambda self, tokens, idx, options, env: '<p class="litnotes-md-heading"><strong>')
    md.add_render_rule("heading_close", lambda self, tokens, idx, options, env: "</strong></p>\n")
    md.add_render_rule("text", _render_text)
    md.add_render_rule("softbreak", _render_softbreak)
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("math_inline", lambda self, tokens, idx, options, env: _math(tokens[idx].content, False))
    md.add_render_rule("math_inline_double", lambda self, tokens, idx, options, env: _math(tokens[idx].content, True))
    md.add_render_rule("math_block", lambda self, tokens, idx, options, env: _math(tokens[idx].content, True) + "\n")
    return md


def _render_softbreak(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    # A line break between two Chinese characters is no space in Chinese (as site/cjk.py does for pages).
    before = tokens[idx - 1].content[-1:] if idx > 0 and tokens[idx - 1].type == "text" else ""
    after = tokens[idx + 1].content[:1] if idx + 1 < len(tokens) and tokens[idx + 1].type == "text" else ""
    return "" if before and after and is_wide(before) and is_wide(after) else "\n"


def _parse(text: str) -> tuple[list[Token], dict]:
    env: dict = {}
    return _parser().parse(text, env), env


# --- findings ----------------------------------------------------------------------------------------

_BREAK = re.compile(r"\r\n|\r|\n")


def text_lines(text: str) -> list[str]:
    """The lines of ``text`` as markdown-it counts them (CR, LF and CRLF end a line): what Finding.line indexes."""
    return _BREAK.split(text)


#: The folders of the pages a record is shown on: its paper page and the reports that include it.
SHOWN_IN = ("papers", "reports")


def site_target(url: str) -> str | None:
    """The docs-relative file a relative link of a record points at, or None for any other link.

    A record's Markdown is shown on pages one folder deep (:data:`SHOWN_IN`), so
    ``../papers/x.md`` is ``papers/x.md`` wherever it is shown; a link that
    reaches different files from those folders (``x.md``) is ``""``.
    """
    normal = _normal(url).replace("\\", "/")
    if _SCHEME.match(normal) or normal.startswith(("/", "#")):
        return None
    path = normal.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return None
    targets = {posixpath.normpath(posixpath.join(folder, path)) for folder in SHOWN_IN}
    return targets.pop() if len(targets) == 1 else ""


def findings(text: str, page_exists: Callable[[str], bool] | None = None) -> list[Finding]:
    """Everything in ``text`` that record Markdown does not allow, in order, located in ``text``.

    With ``page_exists`` (docs-relative path -> bool), a relative link must also
    reach the same existing page from every page the record is shown on.
    """
    if not _MAYBE.search(text):
        return []
    lines = text_lines(text)
    tokens, env = _parse(text)
    out: list[Finding] = []
    # A reference's problem is reported at its definition, not again at every use.
    refused = {ref["href"] for ref in env.get("references", {}).values() if destination_problem(ref["href"])}
    for token in tokens:
        block = token.map[0] if token.map else 0
        if token.type == "html_block":
            out.append(_at(lines, block, token.content.strip().split("\n")[0], "raw HTML ({})", _HTML_FIX))
        elif token.type == "math_block":
            out += _labels(lines, block, token.content)
        elif token.type == "inline" and token.children is not None:
            out += _inline(lines, token, refused, page_exists)
    for ref in env.get("references", {}).values():
        line = min((ref.get("map") or [0])[0], len(lines) - 1)
        problem, fix = destination_problem(ref["href"], written=lines[line].strip()), _LINK_FIX
        if not problem:
            problem, fix = _target_problem(ref["href"], lines[line].strip(), page_exists), _SITE_FIX
        if problem:
            out.append(Finding(line, _indent(lines[line]), problem.replace("a link", "a reference definition", 1), fix))
    return sorted(set(out), key=lambda f: (f.line, f.col))


_HTML_FIX = ("record Markdown cannot carry HTML: write Markdown instead (**bold**, [text](https://…)), put code "
             "in backticks, write '&lt;' for a literal '<' (or \\lt inside math)")
_ATTR_FIX = "attribute lists are for hand-written pages: remove it (styling belongs in the site's CSS)"
_ADMONITION_FIX = "admonitions are for hand-written pages: write the text as a plain paragraph"
_DIRECTIVE_FIX = ("directives are for hand-written pages under docs/: remove the line (to mention a paper, "
                  "link it: [DIST](../papers/dist2022.md))")
_LABEL_FIX = ("equation labels and references belong to the hand-written math pages (a summary is shown on "
              "several pages, each numbering on its own): remove it")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _at(lines: list[str], first: int, needle: str, construct: str, fix: str, start_col: int = 0) -> Finding:
    """A finding for ``needle``, found on line ``first`` or just below (else at the line's text).

    ``{}`` in ``construct`` is replaced by the quoted needle (not str.format: the text may hold braces).
    """
    for number in range(first, min(first + 50, len(lines))):
        col = lines[number].find(needle, start_col if number == first else 0) if needle else -1
        if col >= 0:
            return Finding(number, col, construct.replace("{}", f"'{_shorten(needle)}'", 1), fix)
    line = min(first, len(lines) - 1)
    return Finding(line, _indent(lines[line]), construct.replace("{}", f"'{_shorten(needle)}'", 1), fix)


def _labels(lines: list[str], first: int, tex: str) -> list[Finding]:
    return [_at(lines, first, m.group(0), "a label or reference ({})", _LABEL_FIX) for m in _LABEL.finditer(tex)]


def _source_position(lines: list[str], token: Token, pos: int) -> tuple[int, int]:
    """(line, col) in the text of offset ``pos`` in an inline token's content."""
    content = token.content
    k = content.count("\n", 0, pos)
    line_start = content.rfind("\n", 0, pos) + 1
    content_line = content[line_start:content.find("\n", line_start) if "\n" in content[line_start:] else None]
    number = min((token.map[0] if token.map else 0) + k, len(lines) - 1)
    stripped = content_line.lstrip(" \t")
    at = lines[number].find(stripped) if stripped else -1
    if at < 0:
        return number, _indent(lines[number])
    return number, at + (pos - line_start) - (len(content_line) - len(stripped))


def _inline(lines: list[str], token: Token, refused: set[str],
            page_exists: Callable[[str], bool] | None) -> list[Finding]:
    out: list[Finding] = []
    first = token.map[0] if token.map else 0
    for number, line in enumerate(token.content.split("\n")):
        where = min(first + number, len(lines) - 1)
        for pattern, construct, fix in ((_ADMONITION, "admonition syntax ({})", _ADMONITION_FIX),
                                        (_DIRECTIVE, "a directive line ({})", _DIRECTIVE_FIX)):
            if pattern.match(line):
                out.append(_at(lines, where, line.strip(), construct, fix))
    for child in _walk(token.children or []):
        pos = child.meta.get("pos")
        line, col = _source_position(lines, token, pos) if pos is not None else (first, _indent(lines[first]))
        if child.type == "html_inline":
            out.append(Finding(line, col, f"raw HTML ('{_shorten(child.content)}')", _HTML_FIX))
        elif child.type in ("link_open", "image"):
            image = child.type == "image"
            url = str(child.attrGet("src" if image else "href") or "")
            written = token.content[pos:child.meta["end"]] if pos is not None and "end" in child.meta else None
            problem, fix = destination_problem(url, image=image, written=written), _IMAGE_FIX if image else _LINK_FIX
            if not problem:
                problem, fix = _target_problem(url, written or url, page_exists), _SITE_FIX
            # A reference-style link ends with ']': its destination was reported at the definition.
            by_reference = child.meta.get("end") is not None and token.content[child.meta["end"] - 1] == "]"
            if problem and not (by_reference and url in refused):
                out.append(Finding(line, col, problem, fix))
        elif child.type in ("math_inline", "math_inline_double"):
            out += _labels(lines, line, child.content)
        elif child.type == "text":
            for m in _ATTR_LIST.finditer(child.content):
                out.append(_at(lines, line, m.group(0), "an attribute list ({})", _ATTR_FIX))
            for m in _LABEL.finditer(child.content):
                out.append(_at(lines, line, m.group(0), "a label or reference ({})", _LABEL_FIX))
            out += _loose_links(lines, line, child.content)
    return out


def _walk(tokens: list[Token]) -> list[Token]:
    out = []
    for t in tokens:
        out.append(t)
        if t.children:
            out += _walk(t.children)
    return out


# '](' that CommonMark did not take as a link (a space or tab in the destination), but
# that other Markdown engines, or a reader copying it, may.
_LOOSE_LINK = re.compile(r"\]\(")


def _loose_links(lines: list[str], first: int, text: str) -> list[Finding]:
    out = []
    for m in _LOOSE_LINK.finditer(text):
        rest = text[m.end():m.end() + 80]
        written = rest[:rest.index(")") + 1] if ")" in rest else rest
        scheme = _SCHEME.match(_normal(written))
        if scheme and scheme.group(1).lower() not in LINK_SCHEMES:
            problem = f"a link with the scheme '{scheme.group(1).lower()}:' ('{_shorten(m.group(0) + written)}')"
            out.append(_at(lines, first, m.group(0) + written, problem, _LINK_FIX))
    return out


def math_segments(text: str) -> list[tuple[int, int, str, bool]]:
    """(line, col, TeX, display) of every formula in ``text``, as :func:`render` hands it to KaTeX.

    ``litnotes check`` renders these with the build's KaTeX, so a formula KaTeX
    rejects fails the check as it fails the build.
    """
    if "$" not in text:
        return []
    lines = text_lines(text)
    tokens, _ = _parse(text)
    out = []
    for token in tokens:
        if token.type == "math_block" and token.map:
            out.append((token.map[0], _indent(lines[token.map[0]]), token.content.strip(), True))
        elif token.type == "inline":
            for child in _walk(token.children or []):
                if child.type in ("math_inline", "math_inline_double"):
                    pos = child.meta.get("pos")
                    line, col = _source_position(lines, token, pos) if pos is not None else (token.map[0], 0)
                    out.append((line, col, child.content.strip(), child.type == "math_inline_double"))
    return out


# --- rendering ---------------------------------------------------------------------------------------

def _render_text(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    # A backslash as an entity: the math pass looks for \ref{…} in the page's text.
    return escapeHtml(tokens[idx].content).replace("\\", "&#92;")


def _render_link_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    if destination_problem(str(token.attrGet("href") or "")):
        return "<a>"  # the link text stays, the destination goes
    return self.renderToken(tokens, idx, options, env)


def _render_image(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    if destination_problem(str(token.attrGet("src") or ""), image=True):
        return escapeHtml(self.renderInlineAsText(token.children or [], options, env))
    return self.image(tokens, idx, options, env)


def _math(tex: str, display: bool) -> str:
    # What pymdownx.arithmatex (generic mode) writes, so that litnotes-math renders it with KaTeX.
    if display:
        return f'<div class="arithmatex">\\[{escapeHtml(tex.strip())}\\]</div>'
    return f'<span class="arithmatex">\\({escapeHtml(tex)}\\)</span>'


# A summary is shown on its paper page and in a report, and `mkdocs serve` rebuilds everything on each edit.
@lru_cache(maxsize=8192)
def render(text: str) -> str:
    """Record Markdown as HTML in which nothing is active, wrapped as one raw HTML block.

    Raw HTML is shown as text, refused destinations lose their ``href``,
    images from other hosts become their alt text, and math comes out as
    ``pymdownx.arithmatex`` would write it.  Backticks and tildes are written as
    entities, so no line of the block can open a code fence in the page around it.
    """
    body = _parser().render(text).strip()
    body = body.replace("`", "&#96;").replace("~", "&#126;")
    return f'<div class="litnotes-md">\n{body}\n</div>' if body else ""
