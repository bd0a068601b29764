"""The one place where values from records become page text: one function per context.

A value reaches a page in one of these contexts, and each has its function here:

==================  ===============================  ==========================================
context             function                         what it guarantees
==================  ===============================  ==========================================
page header         :func:`front_matter`             YAML written by a YAML emitter; one line
Markdown text       :func:`plain` (``text``)         no Markdown or HTML syntax survives
link destination    :func:`link`, :func:`url`        parsed, ``https`` with a host, %-encoded
HTML attribute      :func:`attr`                     quotes and ``<&>`` escaped
HTML text           :func:`html_text`                ``<&>`` escaped
attr_list value     :func:`attr_value`               cannot end the quote or the ``{ }`` block
Graphviz DOT        :func:`dot_string`               a quoted string nothing inside can end
code block          :func:`code_block`               a fence longer than any backtick run
BibTeX text         :func:`bibtex_text`              balanced braces, LaTeX specials escaped
BibTeX verbatim     :func:`bibtex_verbatim`          no brace, backslash or space at all
record Markdown     :func:`markdown_safe`            rendered with check's record rules, inert
==================  ===============================  ==========================================

In the spirit of markupsafe: a :class:`Markdown` value is trusted Markdown, any
other ``str`` is text.  :func:`plain` leaves a :class:`Markdown` value alone and
escapes anything else, so escaping twice is harmless and a fragment built here
can be passed on without being escaped again.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit

import yaml

from litnotes.records.markdown import render as render_record_markdown

__all__ = [
    "URL_UNSAFE",
    "Markdown",
    "attr",
    "attr_value",
    "bibtex_latex",
    "bibtex_text",
    "bibtex_verbatim",
    "code_block",
    "dot_string",
    "front_matter",
    "html_text",
    "link",
    "markdown_safe",
    "page_link",
    "plain",
    "rel",
    "text",
    "url",
]


class Markdown(str):
    """A string that is already Markdown: built by this module from escaped parts, or from trusted templates."""

    __slots__ = ()


# --- Markdown text ---------------------------------------------------------------------------------

# Every ASCII punctuation character that Python-Markdown (with the tables extension) lets a
# backslash escape, and that starts inline syntax: emphasis, code, links, attribute lists, tables.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|{}])")
# At the start of a value, these would start a block (list, heading rule) where a value opens a line.
_BLOCK_START = re.compile(r"^([-+.>=~:]|\d+[.)])")
_WHITESPACE = re.compile(r"\s+")
# Control characters have no place in a page; Python-Markdown also uses STX/ETX to mark its stash of raw
# HTML, so a value holding them could pull another block's HTML into its own place.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_controls(value: str) -> str:
    return _CONTROLS.sub("", value)


@lru_cache(maxsize=65536, typed=True)  # typed: Markdown("x") is returned as is, "x" is escaped
def plain(value: str) -> Markdown:
    """Plain text (a title, an author, a name) as Markdown that shows exactly that text.

    HTML is escaped, every Markdown special character is backslash-escaped and line
    breaks become spaces, so the text cannot end a table cell, a heading or a
    paragraph, open a link, an attribute list or a tag.
    """
    if isinstance(value, Markdown):
        return value
    one_line = _WHITESPACE.sub(" ", _no_controls(str(value))).strip()
    escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False))
    # '-' or '1.' at the very start could start a list where a value begins a line; ':' a definition.
    escaped = _BLOCK_START.sub(lambda m: f"&#{ord(m.group(0)[0])};{m.group(0)[1:]}", escaped)
    return Markdown(escaped)


text = plain


def markdown_safe(value: str) -> Markdown:
    """Markdown from a record (summary, notes), the one way such Markdown enters a page.

    :mod:`litnotes.records.markdown` renders it, as an inert raw HTML block, with the
    same parser and rules that ``litnotes check`` applies, so a record that never went
    through the checker still cannot put markup, scripts or outside resources on a page.
    """
    return Markdown(render_record_markdown(_no_controls(value)))


# --- link destinations ----------------------------------------------------------------------------

# Characters a URL may carry unencoded that are also harmless in a Markdown link destination and
# an HTML attribute.  Parentheses, quotes, brackets, '<>', backslash, backtick, braces and
# whitespace are not among them: in a page they are always percent-encoded.
_URL_SAFE = "/:@!$&*+,;=-._~%"
_QUERY_SAFE = _URL_SAFE + "?"
URL_UNSAFE = frozenset(' "<>\\^`{|}')
"""Characters no URL may hold unencoded (RFC 3986); ``litnotes check`` rejects them in ``url`` and ``code``."""
_HOST = re.compile(r"[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*\.?", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")
_ENTITY_AMP = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def url(value: str, schemes: Sequence[str] = ("https",)) -> str | None:
    """``value`` as an address safe in any page context, or ``None`` when it is not one.

    The address is parsed; its scheme must be one of ``schemes`` (only ``https``
    unless a caller says otherwise) and it must have a host name.  Everything but
    the scheme and host is percent-encoded where a character could end a Markdown
    link or an HTML attribute (an existing ``%xx`` is kept).
    """
    if not isinstance(value, str) or _CONTROL.search(value.strip()):
        return None
    try:
        parts = urlsplit(value.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in schemes or not host or not _HOST.fullmatch(host) or parts.username is not None:
        return None
    netloc = host + (f":{port}" if port is not None else "")
    safe = urlunsplit((parts.scheme.lower(), netloc, quote(parts.path, safe=_URL_SAFE),
                       quote(parts.query, safe=_QUERY_SAFE), quote(parts.fragment, safe=_QUERY_SAFE)))
    # '&#106;' would reach the HTML as a character reference and be decoded by the browser.
    return _ENTITY_AMP.sub("%26", safe)


def link(label: str, address: str | None, schemes: Sequence[str] = ("https",), *,
         icon: Markdown | None = None) -> Markdown:
    """A Markdown link to an outside address; just the label when the address is not a safe one.

    ``icon`` is trusted Markdown (an icon shortcode such as ``:material-github:``) put before the label.
    """
    safe = url(address, schemes) if address else None
    shown = plain(label)
    if icon is not None:
        if not isinstance(icon, Markdown):
            raise TypeError("icon must be Markdown built by the caller, not a record value")
        shown = Markdown(f"{icon} {shown}")
    return Markdown(f"[{shown}]({safe})") if safe else shown


def rel(target: str, page: str) -> str:
    """A link from docs-relative ``page`` to docs-relative ``target`` (both .md paths), percent-encoded."""
    # posixpath.relpath makes both paths absolute first (os.getcwd() each time); a build
    # calls this ~20 times per paper, and normalised docs-relative paths need only the
    # common prefix.  Anything else takes the general route.
    start, parts = page.split("/")[:-1], target.split("/")
    if _ODD_PART.intersection(start) or _ODD_PART.intersection(parts):
        return quote(posixpath.relpath(target, posixpath.dirname(page) or "."), safe="/.-_~")
    i = 0
    while i < len(start) and i < len(parts) and start[i] == parts[i]:
        i += 1
    return quote("/".join([".."] * (len(start) - i) + parts[i:]) or ".", safe="/.-_~")


_ODD_PART = frozenset({"", ".", ".."})


@lru_cache(maxsize=65536, typed=True)
def page_link(label: str, target: str, page: str) -> Markdown:
    """A Markdown link from docs-relative ``page`` to the site's page ``target``."""
    return Markdown(f"[{plain(label)}]({rel(target, page)})")


# --- HTML -----------------------------------------------------------------------------------------

def attr(value: object) -> str:
    """A value for a double- or single-quoted HTML (or SVG, XML) attribute."""
    return html.escape(str(value), quote=True)


def attr_value(text: str) -> str:
    """A value for a double-quoted attr_list attribute (``{ data-x="…" }``): it cannot end the quote or the block."""
    return html.escape(text, quote=True).replace("}", "&#125;").replace("\n", " ")


def dot_string(text: str) -> str:
    """A quoted Graphviz DOT string (an id, a label, a URL): its quote and escapes cannot be ended or started."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("\r", " ") + '"'


def html_text(value: object) -> str:
    """A value as HTML (or SVG, XML) element text."""
    return html.escape(str(value), quote=False)


# --- page header ----------------------------------------------------------------------------------

def front_matter(fields: Mapping[str, object]) -> str:
    """A page's YAML header, written by the YAML emitter (never by pasting strings).

    String values are one line (a page title has no line breaks) and HTML-escaped:
    the theme puts the header's ``title`` into the HTML as it is.
    """
    # Even libyaml's emitter costs ~0.05 ms a header (PyYAML's pure-Python one ~0.3 ms): a preview that
    # prepares the site after every edit reuses the header of an unchanged page, keyed by its exact fields.
    key = json.dumps(fields, ensure_ascii=False, default=repr)
    return _front_matter(key, fields)


def _clean_header_value(value: object) -> object:
    if isinstance(value, str):
        return html.escape(_WHITESPACE.sub(" ", _no_controls(value)).strip(), quote=True)
    if isinstance(value, (list, tuple)):
        return [_clean_header_value(v) for v in value]
    return value


_HEADERS: dict[str, str] = {}
# libyaml's emitter writes the same bytes as PyYAML's pure-Python one (tests/test_escape.py compares them
# over arbitrary headers), ~5 times faster, except for these characters: it escapes NEL (U+0085) as "\N"
# and every character beyond the BMP as "\UXXXXXXXX" where PyYAML writes it as it is; and for keys
# other than plain field names.
_PURE_ONLY = re.compile("[\x85\ud800-\udfff\U00010000-\U0010ffff]")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
_FAST_DUMPER = getattr(yaml, "CSafeDumper", None)


def _yaml_dump(data: object, fast: bool = True) -> str:
    """YAML for a header, byte for byte as ``yaml.SafeDumper`` writes it; libyaml's emitter where that holds."""
    if fast and _FAST_DUMPER is not None and not _has_pure_only(data):
        # libyaml takes an int width; a negative one means no limit, like PyYAML's infinite width.
        return yaml.dump(data, Dumper=_FAST_DUMPER, allow_unicode=True, sort_keys=False, width=-1,
                         default_flow_style=False)
    return yaml.dump(data, Dumper=yaml.SafeDumper, allow_unicode=True, sort_keys=False, width=float("inf"),
                     default_flow_style=False)


def _has_pure_only(data: object) -> bool:
    if isinstance(data, str):
        return _PURE_ONLY.search(data) is not None
    if isinstance(data, Mapping):
        # The keys are the header's field names; PyYAML writes an empty or a long key as a complex key ("? ").
        return any(not (isinstance(k, str) and _FIELD_NAME.match(k)) or _has_pure_only(v) for k, v in data.items())
    if isinstance(data, (list, tuple)):
        return any(_has_pure_only(v) for v in data)
    return False


def _front_matter(key: str, fields: Mapping[str, object]) -> str:
    if (found := _HEADERS.get(key)) is not None:
        return found
    body = _yaml_dump({k: _clean_header_value(v) for k, v in fields.items()})
    if len(_HEADERS) > 65536:
        _HEADERS.clear()
    header = _HEADERS[key] = f"---\n{body}---\n"
    return header


# --- code block -----------------------------------------------------------------------------------

_BACKTICKS = re.compile(r"`+")


def code_block(content: str, language: str = "") -> Markdown:
    """``content`` shown verbatim in a fenced block that nothing inside can close.

    The fence is one backtick longer than the longest run of backticks in the
    content (and at least three), so no line of the content is a closing fence.
    """
    content = _no_controls(content)
    longest = max((len(m) for m in _BACKTICKS.findall(content)), default=0)
    fence = "`" * max(3, longest + 1)
    lang = language if re.fullmatch(r"[a-z]*", language) else ""
    return Markdown(f"{fence}{lang}\n{content.rstrip(chr(10))}\n{fence}")


# --- BibTeX ---------------------------------------------------------------------------------------

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}",
    "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_LATEX_RE = re.compile(r"[\\{}&%$#_~^]")


def bibtex_text(value: str) -> str:
    """Plain text (a title, an author) as the inside of a braced BibTeX value.

    LaTeX specials are escaped, braces as ``\\textbraceleft{}``: BibTeX counts
    every brace, escaped or not, so the only braces in the result are balanced
    pairs and the value cannot close its field.
    """
    one_line = _WHITESPACE.sub(" ", _no_controls(value)).strip()
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group(0)], one_line)


def bibtex_latex(value: str) -> str:
    """A value taken from a record's own ``bibtex`` field: kept as LaTeX if balanced, else escaped as text."""
    one_line = _WHITESPACE.sub(" ", _no_controls(value)).strip()
    depth = 0
    for ch in one_line:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            break
    # BibTeX counts every brace, but some readers (bibtexparser, for one) take '\\{' as an escaped one: only
    # what both read the same way is kept as written.
    ambiguous = re.search(r"\\[{}]", one_line) or one_line.endswith("\\")
    return one_line if depth == 0 and not ambiguous else bibtex_text(one_line)


def bibtex_verbatim(value: str) -> str:
    """A URL, DOI or identifier as a BibTeX value: braces, backslashes and whitespace percent-encoded."""
    return quote(value.strip(), safe=_VERBATIM_SAFE)


# Printable ASCII but braces, backslash and the double quote; "%" stays, so an encoded value is kept as it is.
_VERBATIM_SAFE = "".join(chr(c) for c in range(0x21, 0x7f) if chr(c) not in '{}\\"%') + "%"
