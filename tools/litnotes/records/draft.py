"""Drafting a record for `litnotes new`: from a BibTeX entry, from flags, or (with
:mod:`litnotes.records.sources`) from an identifier.  Pure: the command line is :mod:`litnotes.cli.new`.

The record it writes starts with the schema comment, keeps the original
BibTeX, and leaves ``summary: ""`` for the author to fill in; ``litnotes
check`` reports that placeholder (and any other gap) until it is filled.

BibTeX from official repositories is messy: ``@inproceedings`` with
``journal=``, all authors in one string, arXiv-only entries for conference
papers, titles of an earlier version.  Whatever cannot be mapped with
confidence is left as a placeholder and reported on stderr, never guessed
silently.  Flags always win over the BibTeX entry.  The text is checked with
the same validator as ``litnotes check`` before it is written
(:func:`render_valid`): a value the validator rejects becomes a placeholder
with a note, never an invalid value.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import textwrap
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litnotes import LitnotesError
from litnotes.problems import Problem
from litnotes.records.load import Source, parse_yaml

__all__ = [
    "FIELDS",
    "SCHEMA_COMMENT",
    "Draft",
    "DraftError",
    "derive_id",
    "draft_from_bibtex",
    "expected_data",
    "match_venue",
    "render_record",
    "render_valid",
    "replace_file",
    "title_abbr",
    "update_record",
    "write_new_file",
]

SCHEMA_COMMENT = "# yaml-language-server: $schema=../tools/litnotes/records/schema/paper.schema.json"
SUMMARY_TODO = 'summary: ""  # TODO: what the paper contributes (Markdown); write "summary: |" for several lines'

_ARXIV_ID = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?![\d])")
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.IGNORECASE)
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_JR = re.compile(r"^(jr|sr|i{1,3}|iv|v)\.?$", re.IGNORECASE)


class DraftError(LitnotesError):
    """The input cannot become a record at all (no BibTeX entry, several); ``line`` locates it when known.

    ``field`` names the field when the value the user gave for it explicitly would not pass ``check``.
    """

    def __init__(self, message: str, line: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.line, self.field = line, field


@dataclass
class Draft:
    """The fields of a record being scaffolded; ``warnings`` say what could not be mapped."""

    title: str | None = None
    abbr: str | None = None
    authors: list[str] = field(default_factory=list)
    venue: str | None = None
    year: int | None = None
    category: str | None = None
    arxiv: str | None = None
    doi: str | None = None
    url: str | None = None
    code: str | None = None
    bibtex: str | None = None
    warnings: list[tuple[int | None, str]] = field(default_factory=list)
    # The source's name of a venue that papers/_venues.yaml does not know: shown in the TODO.
    venue_todo: str | None = None
    # What a preprint's source says about publication (arXiv journal_ref, comment).
    notes_for_venue: list[str] = field(default_factory=list)

    def warn(self, message: str, line: int | None = None) -> None:
        self.warnings.append((line, message))


# --- BibTeX ------------------------------------------------------------------------------------------

def _parse_entries(text: str) -> tuple[list[Any], list[Any], list[Any]]:
    import bibtexparser

    # bibtexparser logs its own parse failures; this command reports them itself, once.
    quiet = logging.getLogger("bibtexparser")
    level, quiet.level = quiet.level, logging.CRITICAL
    try:
        # No middlewares: values stay as written ('"a" # b'), so that concatenation and
        # @string macros are resolved here, or reported, instead of kept as literal text.
        library = bibtexparser.parse_string(text, parse_stack=[])
    finally:
        quiet.level = level
    return library.entries, library.failed_blocks, library.strings


_MONTHS = {m[:3].lower(): m for m in ("January", "February", "March", "April", "May", "June", "July", "August",
                                      "September", "October", "November", "December")}


def _resolve(raw: str, macros: dict[str, str]) -> str:
    """A BibTeX value as written (``{..}``, ``"..."``, a number, a macro, joined by ``#``) as its text.

    Raises ValueError naming an undefined macro or a value that cannot be read.
    """
    parts, i, raw = [], 0, raw.strip()
    while i < len(raw):
        c = raw[i]
        if c in "{\"":
            close, depth, j = ("}" if c == "{" else '"'), 0, i
            while j < len(raw):
                ch = raw[j]
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                if (c == "{" and depth == 0) or (c == '"' and j > i and ch == '"' and depth == 0):
                    break
                j += 1
            if j >= len(raw):
                raise ValueError(f"unbalanced {close!r}")
            parts.append(raw[i + 1:j])
            i = j + 1
        else:
            m = re.match(r"[^\s#{}\"]+", raw[i:])
            if m is None:
                raise ValueError(f"cannot read {raw[i:]!r}")
            word = m.group(0)
            if word.isdigit():
                parts.append(word)
            elif word.lower() in macros:
                parts.append(macros[word.lower()])
            elif word.lower() in _MONTHS:
                parts.append(_MONTHS[word.lower()])
            else:
                raise ValueError(f"@string macro '{word}' is not defined in the input; define it with "
                                 f"@string{{{word} = \"...\"}} or write the text")
            i += len(word)
        rest = raw[i:].lstrip()
        if not rest:
            break
        if not rest.startswith("#"):
            raise ValueError(f"expected '#' between the parts of the value, got {rest[:10]!r}")
        i = len(raw) - len(rest) + 1
        while i < len(raw) and raw[i].isspace():
            i += 1
    return "".join(parts)


# Control characters other than tab and line breaks: not text, and not allowed in a record.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _latex(text: str) -> str:
    from pylatexenc.latex2text import LatexNodes2Text

    try:
        plain = LatexNodes2Text(strict_latex_spaces=True).latex_to_text(text)
    except Exception:
        plain = text.replace("{", "").replace("}", "")
    return " ".join(plain.split())


def draft_from_bibtex(text: str, venues: dict[str, Any]) -> Draft:
    """A draft from the single BibTeX entry in ``text``; ``venues`` is the raw ``_venues.yaml`` mapping.

    Raises :class:`NewError` when ``text`` holds no entry or more than one.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    control = [(text.count("\n", 0, m.start()) + 1, m.group(0)) for m in _CONTROL_CHARS.finditer(text)]
    text = _CONTROL_CHARS.sub("", text)
    entries, failed, strings = _parse_entries(text)
    if not entries:
        if failed:
            block = failed[0]
            reason = getattr(block.error, "abort_reason", "") or str(block.error) or "unbalanced braces or quotes"
            reason = " ".join(reason.split()).rstrip(".")
            raise DraftError(f"the BibTeX entry could not be parsed: {reason}; check its braces, "
                           "quotes and commas", line=block.start_line + 1)
        raise DraftError("no BibTeX entry found (an entry starts with '@', e.g. '@inproceedings{key,')")
    if len(entries) > 1:
        keys = ", ".join(e.key for e in entries)
        raise DraftError(f"the BibTeX input holds {len(entries)} entries ({keys}); pass one entry at a time")
    entry = entries[0]
    raw = textwrap.dedent(entry.raw).strip().split("\n")
    draft = Draft(bibtex="\n".join(line.rstrip() for line in raw) + "\n")
    for block in failed:
        draft.warn("this part of the BibTeX input could not be parsed and was left out", block.start_line + 1)
    for line_no, char in control[:1]:
        draft.warn(f"the input contains the control character U+{ord(char):04X} ({len(control)} in all); "
                   "removed", line_no)

    macros: dict[str, str] = {}
    for string in strings:
        try:
            macros[string.key.lower()] = _resolve(string.value, macros)
        except ValueError as exc:
            draft.warn(f"@string {string.key} could not be read ({exc}); left out", string.start_line + 1)
    fields = {k.lower(): f for k, f in entry.fields_dict.items()}
    values: dict[str, str] = {}
    for name, f in fields.items():
        if not isinstance(f.value, str):
            continue
        try:
            values[name] = _resolve(f.value, macros)
        except ValueError as exc:
            draft.warn(f"field '{name}' could not be read: {exc}; left out", f.start_line + 1)
            if name in ("booktitle", "journal"):
                draft.venue_todo = " ".join(f.value.split())

    def value(name: str) -> str | None:
        text = values.get(name)
        return text if text is not None and text.strip() else None

    def line(name: str) -> int:
        f = fields.get(name)
        return (f.start_line if f is not None else entry.start_line) + 1

    if (title := value("title")) is not None:
        draft.title = _latex(title)
        if _looks_lowercased(draft.title):
            draft.warn(f"the title looks lowercased ('{draft.title}'), as Google Scholar exports it; "
                       "check the capitalisation against the paper", line("title"))
    else:
        draft.warn("the entry has no title; fill in 'title'", entry.start_line + 1)

    if (authors := value("author")) is not None:
        draft.authors = _authors(authors, draft, line("author"))
    else:
        draft.warn("the entry has no author field; fill in 'authors'", entry.start_line + 1)

    year = value("year")
    # The whole value must be a year: one picked out of prose ('accepted 2021, published 2022') is a guess.
    if year and (m := re.fullmatch(r"\s*(1[89]\d\d|2\d\d\d)\s*", year)):
        draft.year = int(m.group(1))
    else:
        draft.warn(f"year '{' '.join(year.split())}' is not a year such as 2022; fill in 'year'" if year
                   else "the entry has no year; fill in 'year'", line("year"))

    _arxiv(draft, fields, value, line)
    if (doi := value("doi")) is not None:
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi.strip(), flags=re.IGNORECASE)
        if _DOI.match(doi):
            draft.doi = doi
        else:
            draft.warn(f"doi '{doi}' is not a DOI (10.NNNN/...); left out", line("doi"))
    if (url := value("url")) is not None and not _ARXIV_URL.search(url):
        if url.strip().startswith("https://"):
            draft.url = url.strip()
        else:
            draft.warn(f"url '{url}' is not an https:// address; left out (add the https:// page yourself)",
                       line("url"))
    _venue(draft, entry.entry_type.lower(), value, line, venues)
    return draft


def _looks_lowercased(title: str) -> bool:
    """Sentence case where the paper's title is in Title Case: most longer words after the first are lowercase."""
    words = [w for w in re.split(r"[\s:/-]+", title) if w.isalpha()][1:]
    long = [w for w in words if len(w) >= 4]
    return len(long) >= 3 and sum(w.islower() for w in long) >= 0.75 * len(long)


def _authors(raw: str, draft: Draft, line: int) -> list[str]:
    from bibtexparser.middlewares.names import split_multiple_persons_names

    names = [n for n in split_multiple_persons_names(raw) if n.strip()]
    if names and names[-1].strip().lower() == "others":
        names.pop()
        draft.warn("the author list ends with 'and others': it is incomplete; add the missing authors", line)
    if len(names) == 1 and _comma_list(names[0]):
        parts = [p.strip() for p in names[0].split(",") if p.strip()]
        draft.warn(f"the authors are separated by commas, not 'and' ('{' '.join(names[0].split())}'); read them as "
                   f"{len(parts)} authors written 'First Last' — check them", line)
        return [_latex(p) for p in parts]
    out = []
    for name in names:
        try:
            out.append(_first_last(name))
        except ValueError:
            draft.warn(f"could not read the author name '{' '.join(name.split())}'; kept as written", line)
            out.append(_latex(name))
    if any(not name for name in out):
        draft.warn(f"{out.count('')} author name(s) read as empty text (e.g. from '{{\\relax}}'); left out — "
                   "check the author list", line)
        out = [name for name in out if name]
    if len(out) == 1 and len(out[0].split()) >= 5:
        draft.warn(f"one author with {len(out[0].split())} words ('{out[0]}'); if these are several people, "
                   "separate them with 'and'", line)
    return out


def _comma_list(name: str) -> bool:
    """True for 'A B, C D, E F': several 'First Last' names in one string, not 'Last, First' or 'Last, Jr, First'."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) >= 3:
        return not (len(parts) == 3 and _JR.match(parts[1]))
    return len(parts) == 2 and all(len(p.split()) >= 2 for p in parts)


def _first_last(name: str) -> str:
    """'Last, First', 'Last, Jr, First' or 'First von Last' as 'First von Last Jr'."""
    from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts

    try:
        parts = parse_single_name_into_parts(name, strict=False)
    except InvalidNameError as exc:
        raise ValueError(str(exc)) from None
    words = [*parts.first, *parts.von, *parts.last, *parts.jr]
    if not words:
        raise ValueError(name)
    return _latex(" ".join(words))


def _arxiv(draft: Draft, fields: dict[str, Any], value: Any, line: Any) -> None:
    """The arXiv id from eprint (when it is an arXiv eprint), a URL field, or an 'arXiv:' mention."""
    found: list[tuple[str, str]] = []
    eprint = value("eprint")
    prefix = (value("archiveprefix") or value("eprinttype") or "").lower()
    if eprint and (prefix in ("", "arxiv") or "arxiv" in eprint.lower()) and (m := _ARXIV_ID.search(eprint)):
        found.append(("eprint", m.group(1)))
    for name in ("url", "pdf", "link", "howpublished", "note", "journal", "volume"):
        text = value(name)
        if not text:
            continue
        m = _ARXIV_URL.search(text)
        if m is None and ("arxiv" in text.lower() or "corr" in text.lower()):
            m = _ARXIV_ID.search(text)
        if m:
            found.append((name, m.group(1)))
    ids = {i for _, i in found}
    if not found:
        return
    draft.arxiv = found[0][1]
    if len(ids) > 1:
        where = ", ".join(f"{name}: {i}" for name, i in found)
        draft.warn(f"the entry names different arXiv ids ({where}); used {draft.arxiv} from {found[0][0]} — "
                   "check it", line(found[0][0]))


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("{", "").replace("}", "")
    text = re.sub(r"\s*(--|[–—])\s*", " - ", text)
    return " ".join(text.casefold().split())


def _venue(draft: Draft, kind: str, value: Any, line: Any, venues: dict[str, Any]) -> None:
    booktitle, journal = value("booktitle"), value("journal")
    source_field = "booktitle" if booktitle else "journal" if journal else None
    if kind == "inproceedings" and not booktitle and journal:
        draft.warn(f"@inproceedings entry with journal= instead of booktitle=; read '{_latex(journal)}' as the "
                   "venue", line("journal"))
    text = booktitle or journal or value("publisher") or value("howpublished")
    if not text and draft.venue_todo:  # the venue field is there but could not be read: already reported
        return
    if not text:
        if draft.arxiv:
            draft.venue = "arxiv" if "arxiv" in venues else None
            _preprint_warning(draft, line("eprint"))
        else:
            draft.warn(f"@{kind} entry names no venue (no booktitle or journal); fill in 'venue'")
        return
    shown = _latex(text)
    key, hits = match_venue(shown, venues)
    target = _norm(shown)
    if key is None and hits:
        draft.warn(f"{source_field} '{shown}' mentions several venues ({', '.join(hits)}); "
                   "fill in 'venue' yourself", line(source_field or "booktitle"))
        draft.venue_todo = shown
        return
    if key is None:
        draft.venue_todo = shown
        draft.warn(f"{source_field or 'venue'} '{shown}' is not a known venue; fill in 'venue' with a key of "
                   "papers/_venues.yaml, or add the venue (or this spelling as an alias) there",
                   line(source_field or "booktitle"))
        return
    draft.venue = key
    if "workshop" in target and "workshop" not in key:
        draft.warn(f"'{shown}' looks like a workshop of {key}; check the venue", line(source_field or "booktitle"))
    if venues.get(key, {}).get("kind") == "preprint":
        _preprint_warning(draft, line(source_field or "journal"))


def match_venue(text: str, venues: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The key of ``papers/_venues.yaml`` that ``text`` names (a spelling, or one spelling inside it).

    Returns ``(key, [])``, ``(None, [several keys])`` when it mentions more than one, or ``(None, [])``.
    """
    from litnotes.records.validate import venue_names

    names = {_norm(spelling): key for spelling, key in venue_names(venues).items()}
    target = _norm(text)
    if target in names:
        return names[target], []
    hits = {candidate for spelling, candidate in names.items()
            if re.search(rf"(?<![\w]){re.escape(spelling)}(?![\w])", target)}
    if len(hits) == 1:
        return hits.pop(), []
    return None, sorted(hits)


def _preprint_warning(draft: Draft, line: int | None) -> None:
    draft.warn("the entry is an arXiv preprint; if the paper appeared at a conference or in a journal, pass "
               "--venue and --year of the published version and check the title and authors against it "
               "(preprint BibTeX often carries an earlier title)", line)


# --- names and ids -----------------------------------------------------------------------------------

_TITLE_ABBR = re.compile(r"^([A-Za-z][A-Za-z0-9]*(?:[-+][A-Za-z0-9]+)*)\s*:\s+\S")


def title_abbr(title: str) -> str | None:
    """The method's short name when the title starts with one: 'DIST: …' -> 'DIST' ('Distilling: …' has none)."""
    m = _TITLE_ABBR.match(title)
    if m is None:
        return None
    word = m.group(1)
    return word if 2 <= len(word) <= 24 and sum(c.isupper() for c in word) >= 2 else None


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def derive_id(draft: Draft) -> str:
    """The README's convention: the method's short name and the year, else the first author's family name."""
    base = _slug(draft.abbr or "")
    if not base and draft.authors:
        base = _slug(_family_name(draft.authors[0]))
    return f"{base or 'paper'}{draft.year or ''}"


def _family_name(author: str) -> str:
    words = author.split()
    while len(words) > 1 and _JR.match(words[-1]):
        words.pop()
    return words[-1] if words else ""


def _normal_author(name: str) -> str:
    return _first_last(name) if "," in name else " ".join(name.split())


# --- the record -------------------------------------------------------------------------------------

# Characters YAML does not allow raw, or reads as line breaks; JSON leaves them unescaped.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff]")
# What a literal block (|) cannot keep as it is.
_BLOCK_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]|[ \t]\n|[ \t]$|^\\s")
# The fields `new` fills, in the order a record lists them.
FIELDS = ("title", "abbr", "authors", "venue", "year", "category", "arxiv", "doi", "url", "code")
_TODO = "  # TODO"


def _q(text: str) -> str:
    # JSON strings are valid YAML double-quoted scalars once the few characters above are escaped too.
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _url(text: str) -> str:
    return text if re.fullmatch(r"https://[^\s'\"#,\[\]{}`|>&*!%@]+", text) and not text.endswith(":") else _q(text)


def _field_lines(name: str, draft: Draft, categories: dict[str, Any] | None) -> list[str]:
    """The lines of one field; a placeholder marked TODO where a required field has no value."""
    value = getattr(draft, name)
    if name == "title":
        return [f"title: {_q(value)}" if value else f'title: ""{_TODO}: the exact title as published']
    if name == "authors":
        if value:
            return ["authors:"] + [f"  - {_q(a)}" for a in value]
        return [f"authors: []{_TODO}: all authors in the paper's order, e.g. [First Last, First Last]"]
    if name == "venue":
        if value:
            return [f"venue: {value}"]
        if draft.venue_todo:
            # A comment ends at a line break: the raw name keeps printable characters only.
            raw = "".join(c for c in " ".join(draft.venue_todo.split()) if c.isprintable())
            return [(f'venue: ""{_TODO}: "{raw}" is not in papers/_venues.yaml; use a key of it, or add this '
                     "spelling to that venue's aliases")]
        return [f'venue: ""{_TODO}: a key of papers/_venues.yaml']
    if name == "year":
        return [f"year: {value}" if value else f"year: null{_TODO}: the year of publication"]
    if name == "category":
        known = ", ".join(sorted(categories or {}))
        return [f"category: {value}" if value else f'category: ""{_TODO}: one of: {known}' if known
                else f'category: ""{_TODO}: a key of papers/_categories.yaml']
    if not value:
        return []
    return [f"{name}: {_url(value) if name in ('url', 'code') else _q(value)}"]


def render_record(draft: Draft, categories: dict[str, Any] | None = None) -> str:
    """The YAML text of the record: schema comment, fields in the usual order, placeholders marked TODO."""
    out = [SCHEMA_COMMENT]
    for name in FIELDS:
        out += _field_lines(name, draft, categories)
    out.append(SUMMARY_TODO)
    if draft.bibtex and (_BLOCK_UNSAFE.search(draft.bibtex.rstrip("\n")) or not draft.bibtex.endswith("\n")):
        out.append(f"bibtex: {_q(draft.bibtex)}")
    elif draft.bibtex:
        out.append("bibtex: |")
        out += [f"  {line}".rstrip() for line in draft.bibtex.rstrip("\n").split("\n")]
    return "\n".join(out) + "\n"


def expected_data(draft: Draft) -> dict[str, Any]:
    """What :func:`render_record`'s text must read back as."""
    want: dict[str, Any] = {"title": draft.title or "", "authors": list(draft.authors), "venue": draft.venue or "",
                            "year": draft.year, "category": draft.category or "", "summary": ""}
    for name in ("abbr", "arxiv", "doi", "url", "code", "bibtex"):
        if getattr(draft, name):
            want[name] = getattr(draft, name)
    return want


def render_valid(draft: Draft, categories: dict[str, Any] | None, validate: Callable[[str], list[Problem]],
                 explicit: frozenset[str] = frozenset()) -> tuple[str, list[Problem]]:
    """The record's text, checked by ``validate`` (the checker's rules); what it rejects becomes a placeholder.

    Returns the text and the problems left, which are all on placeholder lines (TODOs the author fills in).
    A mapped value the checker rejects is taken out of ``draft`` with a warning, never written; one of the
    ``explicit`` fields (the user typed it) raises :class:`DraftError` instead, so it is not silently lost.
    """
    for _ in range(len(FIELDS) + 8):
        text = render_record(draft, categories)
        data, problem = parse_yaml(Source("record", text))
        if problem or data != expected_data(draft):  # pragma: no cover - a bug here must not write a broken record
            raise DraftError(f"internal error: the drafted record does not read back as written ({problem or data})")
        problems = validate(text)
        lines = text.split("\n")
        wrong = [p for p in problems if 0 < p.line <= len(lines) and _TODO not in lines[p.line - 1]]
        if not wrong:
            return text, problems
        for p in wrong[:1]:  # one at a time: taking a value out moves the lines after it
            name = _field_of(lines, p.line - 1)
            if name in explicit:
                raise DraftError(f"--{name.rstrip('s') if name == 'authors' else name} gives a value litnotes check "
                                 f"would reject: {p.message}", field=name)
            if not _drop(draft, lines, p):
                raise DraftError(f"internal error: the drafted record has a problem that is not a field's value "
                                 f"({p.text()})")
    raise DraftError("internal error: the drafted record could not be made valid")  # pragma: no cover


def _key_line(lines: list[str], index: int) -> int | None:
    return next((i for i in range(index, -1, -1) if re.match(r"[a-z_]+:", lines[i])), None)


def _field_of(lines: list[str], index: int) -> str | None:
    key_line = _key_line(lines, index)
    return None if key_line is None else lines[key_line].split(":", 1)[0]


def _drop(draft: Draft, lines: list[str], problem: Problem) -> bool:
    """Take the value that ``problem`` is about out of ``draft``; False when it names no field."""
    index = problem.line - 1
    key_line = _key_line(lines, index)
    if key_line is None:
        return False
    name = lines[key_line].split(":", 1)[0]
    message = problem.message.rstrip(".")
    if name == "authors" and index > key_line:
        position = index - key_line - 1
        if 0 <= position < len(draft.authors):
            removed = draft.authors.pop(position)
            draft.warn(f"author {position + 1} ('{removed}') is not a usable name ({message}); left out — "
                       "check the author list")
            return True
        return False
    if name not in FIELDS and name != "bibtex":
        return False
    value = getattr(draft, name)
    if name == "authors":
        draft.authors = []
    elif name == "venue":
        draft.venue_todo, draft.venue = draft.venue_todo or value, None
    else:
        setattr(draft, name, None)
    kept = "left as a TODO" if name in ("title", "authors", "venue", "year", "category") else "left out"
    shown = " ".join(str(value).split()) if not isinstance(value, list) else ", ".join(value)
    draft.warn(f"{name} {shown[:80]!r} would not pass litnotes check ({message}); {kept}")
    return True


# --- writing ------------------------------------------------------------------------------------------

def write_new_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, never replacing an existing file (FileExistsError)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")  # a dot file: the checker skips it
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # appears complete or not at all, and fails if the name is taken
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: still never replace a file
            with open(path, "x", encoding="utf-8", newline="\n") as f:
                f.write(text)
    finally:
        tmp.unlink(missing_ok=True)


def replace_file(path: Path, old_bytes: bytes, text: str) -> None:
    """Replace ``path`` by ``text`` atomically, only if it still holds ``old_bytes`` (else FileExistsError)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if path.read_bytes() != old_bytes:  # edited meanwhile: the author's version wins
            raise FileExistsError(str(path))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def update_record(text: str, data: dict[str, Any], draft: Draft, venues: dict[str, Any],
                  categories: dict[str, Any] | None = None) -> tuple[str, list[str]]:
    """``text`` (a record that reads as ``data``) with the fields it lacks filled from ``draft``.

    A field counts as missing when it is absent or empty (a placeholder); a preprint venue (and its year)
    gives way to a published one.  Nothing else changes: not the summary, notes, comments or other fields.
    Returns the new text and the names of the fields filled.
    """
    def kind(key: Any) -> str | None:
        entry = venues.get(key) if isinstance(key, str) else None
        return entry.get("kind") if isinstance(entry, dict) else None

    published_now = bool(draft.venue) and kind(draft.venue) != "preprint" and kind(data.get("venue")) == "preprint"
    wanted = []
    for name in FIELDS:
        if name == "category" or not getattr(draft, name):
            continue
        current = data.get(name)
        replaces_preprint = published_now and name in ("venue", "year") and current != getattr(draft, name)
        if current in (None, "", []) or replaces_preprint:
            wanted.append(name)
    lines = text.split("\n")
    filled = []
    for name in wanted:
        new_lines = _field_lines(name, draft, categories)
        at = next((i for i, line in enumerate(lines) if re.match(rf"{name}\s*:", line)), None)
        if at is not None:
            following = lines[at + 1] if at + 1 < len(lines) else ""
            if following.startswith((" ", "\t", "-")):  # a value over several lines is the author's: keep it
                continue
            lines[at:at + 1] = new_lines
        else:
            before = next((i for i, line in enumerate(lines) if re.match(r"(summary|notes|bibtex)\s*:", line)), None)
            if before is None:
                before = len(lines) - 1 if lines and lines[-1] == "" else len(lines)
            lines[before:before] = new_lines
        filled.append(name)
    new_text = "\n".join(lines)
    after, problem = parse_yaml(Source("record", new_text))
    if problem or not isinstance(after, dict) or \
            {k: v for k, v in after.items() if k not in filled} != {k: v for k, v in data.items() if k not in filled} \
            or any(after.get(name) != getattr(draft, name) for name in filled):
        raise DraftError("the record could not be updated without changing what it says; fill in "
                         f"{', '.join(filled) or 'the fields'} by hand")
    return new_text, filled
