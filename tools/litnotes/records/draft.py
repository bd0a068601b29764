"""`litnotes new`: scaffold ``papers/<id>.yaml`` from flags or from a BibTeX entry.

The record it writes starts with the schema comment, keeps the original
BibTeX, and leaves ``summary: ""`` for the author to fill in; ``litnotes
check`` reports that placeholder (and any other gap) until it is filled.

BibTeX from official repositories is messy: ``@inproceedings`` with
``journal=``, all authors in one string, arXiv-only entries for conference
papers, titles of an earlier version.  Whatever cannot be mapped with
confidence is left as a placeholder and reported on stderr, never guessed
silently.  Flags always win over the BibTeX entry.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import sys
import textwrap
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litnotes import LitnotesError
from litnotes.records.load import Source, parse_yaml, read_source
from litnotes.problems import Problem

__all__ = [
    "SCHEMA_COMMENT",
    "Draft",
    "NewError",
    "add_arguments",
    "draft_from_bibtex",
    "render_record",
    "run_new",
    "write_new_file",
]

SCHEMA_COMMENT = "# yaml-language-server: $schema=../tools/litnotes/records/schema/paper.schema.json"
SUMMARY_TODO = 'summary: ""  # TODO: what the paper contributes (Markdown); write "summary: |" for several lines'

_ARXIV_ID = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?![\d])")
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.IGNORECASE)
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_JR = re.compile(r"^(jr|sr|i{1,3}|iv|v)\.?$", re.IGNORECASE)


class NewError(LitnotesError):
    """A reason `litnotes new` cannot write the record; ``code`` is the exit code (1, or 2 for usage)."""

    def __init__(self, message: str, code: int = 1, line: int | None = None) -> None:
        super().__init__(message)
        self.code, self.line = code, line


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

    def warn(self, message: str, line: int | None = None) -> None:
        self.warnings.append((line, message))


# --- BibTeX ------------------------------------------------------------------------------------------

def _parse_entries(text: str) -> tuple[list[Any], list[Any]]:
    import bibtexparser

    # bibtexparser logs its own parse failures; this command reports them itself, once.
    quiet = logging.getLogger("bibtexparser")
    level, quiet.level = quiet.level, logging.CRITICAL
    try:
        library = bibtexparser.parse_string(text)
    finally:
        quiet.level = level
    return library.entries, library.failed_blocks


def _latex(text: str) -> str:
    from pylatexenc.latex2text import LatexNodes2Text

    try:
        plain = LatexNodes2Text(strict_latex_spaces=True).latex_to_text(text)
    except Exception:  # noqa: BLE001 - pylatexenc gives up on odd input; the braces-stripped text still helps
        plain = text.replace("{", "").replace("}", "")
    return " ".join(plain.split())


def draft_from_bibtex(text: str, venues: dict[str, Any]) -> Draft:
    """A draft from the single BibTeX entry in ``text``; ``venues`` is the raw ``_venues.yaml`` mapping.

    Raises :class:`NewError` when ``text`` holds no entry or more than one.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    entries, failed = _parse_entries(text)
    if not entries:
        if failed:
            block = failed[0]
            reason = getattr(block.error, "abort_reason", "") or str(block.error) or "unbalanced braces or quotes"
            reason = " ".join(reason.split()).rstrip(".")
            raise NewError(f"the BibTeX entry could not be parsed: {reason}; check its braces, "
                           "quotes and commas", line=block.start_line + 1)
        raise NewError("no BibTeX entry found (an entry starts with '@', e.g. '@inproceedings{key,')")
    if len(entries) > 1:
        keys = ", ".join(e.key for e in entries)
        raise NewError(f"the BibTeX input holds {len(entries)} entries ({keys}); pass one entry at a time")
    entry = entries[0]
    raw = textwrap.dedent(entry.raw).strip().split("\n")
    draft = Draft(bibtex="\n".join(line.rstrip() for line in raw) + "\n")
    for block in failed:
        draft.warn("this part of the BibTeX input could not be parsed and was left out", block.start_line + 1)

    fields = {k.lower(): f for k, f in entry.fields_dict.items()}

    def value(name: str) -> str | None:
        f = fields.get(name)
        return f.value if f is not None and isinstance(f.value, str) and f.value.strip() else None

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
    if year and (m := re.search(r"\b(1[89]\d\d|2\d\d\d)\b", year)):
        draft.year = int(m.group(1))
    else:
        draft.warn(f"no usable year ({year!r}); fill in 'year'" if year else "the entry has no year; fill in 'year'",
                   line("year"))

    _arxiv(draft, fields, value, line)
    if (doi := value("doi")) is not None:
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi.strip(), flags=re.IGNORECASE)
        if _DOI.match(doi):
            draft.doi = doi
        else:
            draft.warn(f"doi '{doi}' is not a DOI (10.NNNN/...); left out", line("doi"))
    if (url := value("url")) is not None and not _ARXIV_URL.search(url):
        if url.startswith("https://"):
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
    from litnotes.records.validate import venue_names

    booktitle, journal = value("booktitle"), value("journal")
    source_field = "booktitle" if booktitle else "journal" if journal else None
    if kind == "inproceedings" and not booktitle and journal:
        draft.warn(f"@inproceedings entry with journal= instead of booktitle=; read '{_latex(journal)}' as the "
                   "venue", line("journal"))
    text = booktitle or journal or value("publisher") or value("howpublished")
    if not text:
        if draft.arxiv:
            draft.venue = "arxiv" if "arxiv" in venues else None
            _preprint_warning(draft, line("eprint"))
        else:
            draft.warn(f"@{kind} entry names no venue (no booktitle or journal); fill in 'venue'")
        return
    shown = _latex(text)
    names = {_norm(spelling): key for spelling, key in venue_names(venues).items()}
    target = _norm(shown)
    key = names.get(target)
    if key is None:
        hits: dict[str, int] = {}
        for spelling, candidate in names.items():
            if re.search(rf"(?<![\w]){re.escape(spelling)}(?![\w])", target):
                hits[candidate] = max(hits.get(candidate, 0), len(spelling))
        if len(hits) == 1:
            key = next(iter(hits))
        elif hits:
            draft.warn(f"{source_field} '{shown}' mentions several venues ({', '.join(sorted(hits))}); "
                       "fill in 'venue' yourself", line(source_field or "booktitle"))
            return
    if key is None:
        draft.warn(f"{source_field or 'venue'} '{shown}' is not a known venue; fill in 'venue' with a key of "
                   "papers/_venues.yaml, or add the venue (or this spelling as an alias) there",
                   line(source_field or "booktitle"))
        return
    draft.venue = key
    if "workshop" in target and "workshop" not in key:
        draft.warn(f"'{shown}' looks like a workshop of {key}; check the venue", line(source_field or "booktitle"))
    if venues.get(key, {}).get("kind") == "preprint":
        _preprint_warning(draft, line(source_field or "journal"))


def _preprint_warning(draft: Draft, line: int | None) -> None:
    draft.warn("the entry is an arXiv preprint; if the paper appeared at a conference or in a journal, pass "
               "--venue and --year of the published version and check the title and authors against it "
               "(preprint BibTeX often carries an earlier title)", line)


# --- names and ids -----------------------------------------------------------------------------------

def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def derive_id(draft: Draft) -> str:
    """The abbreviation, else the first author's family name, lowercased, followed by the year."""
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


def _q(text: str) -> str:
    # JSON strings are valid YAML double-quoted scalars once the few characters above are escaped too.
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _url(text: str) -> str:
    return text if re.fullmatch(r"https://[^\s'\"#,\[\]{}`|>&*!%@]+", text) and not text.endswith(":") else _q(text)


def render_record(draft: Draft, categories: dict[str, Any] | None = None) -> str:
    """The YAML text of the record: schema comment, fields in the usual order, placeholders marked TODO."""
    known = ", ".join(sorted(categories or {}))
    out = [SCHEMA_COMMENT]
    out.append(f"title: {_q(draft.title)}" if draft.title else 'title: ""  # TODO: the exact title as published')
    if draft.abbr:
        out.append(f"abbr: {_q(draft.abbr)}")
    if draft.authors:
        out += ["authors:"] + [f"  - {_q(a)}" for a in draft.authors]
    else:
        out.append("authors: []  # TODO: all authors in the paper's order, e.g. [First Last, First Last]")
    out.append(f"venue: {draft.venue}" if draft.venue else 'venue: ""  # TODO: a key of papers/_venues.yaml')
    out.append(f"year: {draft.year}" if draft.year else "year: null  # TODO: the year of publication")
    out.append(f"category: {draft.category}" if draft.category else
               f'category: ""  # TODO: one of: {known}' if known else 'category: ""  # TODO: a key of papers/_categories.yaml')
    if draft.arxiv:
        out.append(f"arxiv: {_q(draft.arxiv)}")
    if draft.doi:
        out.append(f"doi: {_q(draft.doi)}")
    if draft.url:
        out.append(f"url: {_url(draft.url)}")
    if draft.code:
        out.append(f"code: {_url(draft.code)}")
    out.append(SUMMARY_TODO)
    if draft.bibtex and (_BLOCK_UNSAFE.search(draft.bibtex.rstrip("\n")) or not draft.bibtex.endswith("\n")):
        out.append(f"bibtex: {_q(draft.bibtex)}")
    elif draft.bibtex:
        out.append("bibtex: |")
        out += [f"  {line}".rstrip() for line in draft.bibtex.rstrip("\n").split("\n")]
    return "\n".join(out) + "\n"


def _expected(draft: Draft) -> dict[str, Any]:
    """What :func:`render_record`'s text must read back as."""
    want: dict[str, Any] = {"title": draft.title or "", "authors": list(draft.authors), "venue": draft.venue or "",
                            "year": draft.year, "category": draft.category or "", "summary": ""}
    for name in ("abbr", "arxiv", "doi", "url", "code", "bibtex"):
        if getattr(draft, name):
            want[name] = getattr(draft, name)
    return want


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


# --- the command ----------------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `litnotes new`."""
    parser.description = ("Scaffold papers/<id>.yaml from flags or from one BibTeX entry. Flags win over the "
                          "BibTeX entry. The file is never overwritten; fill in its summary, then run litnotes check.")
    parser.add_argument("--bibtex", metavar="FILE", help="read one BibTeX entry from FILE ('-' for stdin)")
    parser.add_argument("--title", help="exact title as published")
    parser.add_argument("--author", action="append", metavar="NAME", dest="authors",
                        help="an author, 'First Last' or 'Last, First'; repeat in the paper's order")
    parser.add_argument("--venue", help="a key of papers/_venues.yaml (or a spelling listed there, e.g. NIPS)")
    parser.add_argument("--year", type=int, help="year of publication")
    parser.add_argument("--category", help="a key of papers/_categories.yaml")
    parser.add_argument("--arxiv", help="arXiv id, e.g. 2205.10536 (an arXiv URL or a version suffix is fine)")
    parser.add_argument("--doi", help="DOI, e.g. 10.1109/ICCV48922.2021.00801")
    parser.add_argument("--url", help="the paper's https:// page")
    parser.add_argument("--code", help="the official code repository (https://)")
    parser.add_argument("--abbr", help="short name of the method, e.g. DIST (also names the file)")
    parser.add_argument("--id", help="the record's id (file name without .yaml); derived when left out")


def run_new(args: argparse.Namespace) -> int:
    """Scaffold the record; 0 written, 1 not written (exists, duplicate, unusable BibTeX), 2 usage error."""
    try:
        return _run(args)
    except NewError as exc:
        where = f"{'<stdin>' if args.bibtex == '-' else args.bibtex}:{exc.line}" if exc.line else "litnotes new"
        print(f"{where}: error: {exc}", file=sys.stderr)
        return exc.code


def _run(args: argparse.Namespace) -> int:
    from litnotes.records.validate import ID_PATTERN, load_knowledge_base, load_taxonomy

    root = Path(args.root)
    papers_dir = root / args.papers
    if not papers_dir.is_dir():
        raise NewError(f"papers folder not found: {papers_dir}; run from the repository root or pass --root", 2)
    if not args.bibtex and not args.title:
        raise NewError("nothing to scaffold: pass --bibtex FILE, or --title with --author, --venue, --year and "
                       "--category", 2)
    if args.id is not None and not ID_PATTERN.match(args.id):
        raise NewError(f"--id '{args.id}' is not a valid id: use lowercase letters, digits and '-' "
                       f"(e.g. '{_slug(args.id) or 'dist2022'}')", 2)
    categories, _, cat_problems = load_taxonomy(papers_dir, args.papers, "categories")
    _, venues, venue_problems = load_taxonomy(papers_dir, args.papers, "venues")
    if cat_problems or venue_problems:
        _print_problems(cat_problems + venue_problems)
        raise NewError("fix the categories and venues files first")

    source_name = "<stdin>" if args.bibtex == "-" else args.bibtex
    if args.bibtex:
        draft = draft_from_bibtex(_read_bibtex(args.bibtex), venues)
    else:
        draft = Draft()
    _apply_flags(draft, args, venues, categories)

    record_id = args.id or derive_id(draft)
    if not draft.year and not args.id:
        draft.warn(f"no year, so the id '{record_id}' has none; pass --id to choose one")
    target = papers_dir / f"{record_id}.yaml"
    _refuse_duplicates(papers_dir, args.papers, record_id, draft)
    text = render_record(draft, categories)
    data, problem = parse_yaml(Source(str(target), text))
    if problem or data != _expected(draft):  # pragma: no cover - a bug here must not write a broken record
        raise NewError(f"internal error: the scaffolded record does not read back as written ({problem or data})")

    for line, message in draft.warnings:
        where = f"{source_name}:{line}" if line and args.bibtex else "litnotes new"
        print(f"{where}: warning: {message}", file=sys.stderr)
    try:
        write_new_file(target, text)
    except FileExistsError:
        raise NewError(f"{args.papers}/{record_id}.yaml already exists and is left as it is; pass --id to "
                       "choose another id, or edit that file") from None
    except OSError as exc:
        raise NewError(f"cannot write {args.papers}/{record_id}.yaml: {exc.strerror or exc}") from None

    print(f"wrote {args.papers}/{record_id}.yaml (id: {record_id})")
    if not draft.category and categories:
        print("categories (set 'category' to one of these keys):", file=sys.stderr)
        for key, cat in sorted(categories.items()):
            print(f"  {key}: {cat.title}", file=sys.stderr)
    _, problems = load_knowledge_base(root, args.papers, args.docs)
    mine = [p for p in problems if p.path == f"{args.papers}/{record_id}.yaml"]
    if mine:
        print("still to do (litnotes check reports these until they are fixed):", file=sys.stderr)
        _print_problems(mine)
    return 0


def _read_bibtex(name: str) -> str:
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise NewError(f"cannot read the BibTeX file {name}: {exc.strerror or exc}", 2) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NewError(f"{'stdin' if name == '-' else name} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at "
                       f"offset {exc.start}); save it as UTF-8") from None


def _apply_flags(draft: Draft, args: argparse.Namespace, venues: dict[str, Any], categories: dict[str, Any]) -> None:
    from litnotes.records.validate import venue_names

    if args.title:
        draft.title = " ".join(args.title.split())
    if args.authors:
        draft.authors = [_normal_author(a) for a in args.authors if a.strip()]
    if args.abbr:
        draft.abbr = args.abbr.strip()
    if args.year is not None:
        draft.year = args.year
    if args.venue:
        spellings = venue_names(venues)
        key = args.venue if args.venue in venues else spellings.get(args.venue.strip().casefold())
        if key is None:
            raise NewError(f"--venue '{args.venue}' is not a known venue; known: {', '.join(sorted(venues))} "
                           "(add it to papers/_venues.yaml first)", 2)
        draft.venue = key
        # The flag names the published venue: a preprint warning from the BibTeX no longer applies.
        draft.warnings = [(ln, msg) for ln, msg in draft.warnings if "arXiv preprint;" not in msg]
    if args.category:
        titles = {c.title: key for key, c in categories.items()}
        key = args.category if args.category in categories else titles.get(args.category.strip())
        if key is None:
            raise NewError(f"--category '{args.category}' is not a known category; known: "
                           f"{', '.join(sorted(categories))}", 2)
        draft.category = key
    if args.arxiv:
        m = _ARXIV_URL.search(args.arxiv) or _ARXIV_ID.search(args.arxiv)
        if m is None:
            raise NewError(f"--arxiv '{args.arxiv}' is not an arXiv id such as 2205.10536", 2)
        draft.arxiv = m.group(1)
    if args.doi:
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", args.doi.strip(), flags=re.IGNORECASE)
        if not _DOI.match(doi):
            raise NewError(f"--doi '{args.doi}' is not a DOI such as 10.1109/ICCV48922.2021.00801", 2)
        draft.doi = doi
    for name in ("url", "code"):
        value = getattr(args, name)
        if value:
            if not re.fullmatch(r"https://[^\s/]+\.\S+", value.strip()):
                raise NewError(f"--{name} '{value}' is not an https:// address", 2)
            setattr(draft, name, value.strip())


def _refuse_duplicates(papers_dir: Path, rel: str, record_id: str, draft: Draft) -> None:
    """A paper needs exactly one record: refuse a second one for the same id, arXiv id, DOI or title."""
    from litnotes.records.validate import normal_title

    for path in _records(papers_dir):
        other = f"{rel}/{path.name}"
        if path.stem == record_id:
            raise NewError(f"{other} already exists and is left as it is; pass --id to choose another id, or edit "
                           "that file")
        if path.stem.lower() == record_id.lower():
            raise NewError(f"{other} has the same id ignoring case; pass --id to choose another id")
        data, problem = parse_yaml(read_source(path, other))
        if problem or not isinstance(data, dict):
            continue
        same = [name for name, mine, theirs in (
            ("arXiv id", draft.arxiv, data.get("arxiv")),
            ("DOI", (draft.doi or "").lower() or None, str(data.get("doi") or "").lower() or None),
            ("title", normal_title(draft.title) if draft.title else None,
             normal_title(data["title"]) if isinstance(data.get("title"), str) else None),
        ) if mine and mine == theirs]
        if same:
            raise NewError(f"{other} already records this paper (same {' and '.join(same)}); a paper needs "
                           "exactly one record: edit that file instead")


def _records(papers_dir: Path) -> Iterator[Path]:
    return (p for p in sorted(papers_dir.glob("*.yaml")) if not p.name.startswith((".", "_")))


def _print_problems(problems: list[Problem]) -> None:
    for p in sorted(problems):
        print(p.text(), file=sys.stderr)
