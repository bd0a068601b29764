"""``litnotes new``: add ``papers/<id>.yaml`` from an identifier, a BibTeX entry or flags.

The drafting is :mod:`litnotes.records.draft` (BibTeX, flags, rendering) and
:mod:`litnotes.records.sources` (arXiv, DOI, OpenReview, dblp); this module
reads the arguments, applies the one duplicate rule of the checker, prints
what could not be mapped, and writes.  The record is checked with the
checker's own rules before it is written, and no file is ever overwritten
(``--update`` fills the missing fields of an existing record and keeps the rest).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from litnotes.cli.errors import CommandError
from litnotes.problems import format_problems
from litnotes.records.draft import (
    Draft,
    DraftError,
    derive_id,
    draft_from_bibtex,
    expected_data,
    render_valid,
    replace_file,
    title_abbr,
    update_record,
    write_new_file,
)

__all__ = ["CACHE_DIR", "add_arguments", "run"]

CACHE_DIR = ".cache/new"  # answers of the sources, relative to the root
_ARXIV_ID = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?![\d])")
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.IGNORECASE)
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_LABELS = {"arxiv": "arXiv id", "doi": "DOI", "title": "title"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `litnotes new`."""
    parser.description = (
        "Add papers/<id>.yaml from an identifier (arXiv id, DOI or OpenReview forum URL), from one BibTeX entry, "
        "or from flags. Flags win over what a source says. The file is never overwritten; fill in its summary, "
        "then run litnotes check.")
    parser.add_argument("identifier", nargs="?", metavar="IDENTIFIER",
                        help="2205.10536, arXiv:2205.10536v2, an arxiv.org/abs|pdf URL, a DOI (10.…) or doi.org URL, "
                             "or an openreview.net/forum?id=… URL")
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
    parser.add_argument("--update", action="store_true",
                        help="when a record of this paper exists (e.g. its preprint), fill in its missing fields; "
                             "the summary and everything else written there are kept")
    parser.add_argument("--dry-run", action="store_true", help="print the record instead of writing it")
    parser.add_argument("--offline", action="store_true",
                        help=f"use only answers cached under {CACHE_DIR}/ by an earlier run; no network")
    parser.add_argument("--refresh", action="store_true",
                        help="ask the sources again instead of using cached answers (e.g. a preprint published since)")
    parser.add_argument("--timeout", type=float, default=20.0, metavar="SECONDS",
                        help="time limit of one request to a source (default: 20)")


def run(args: argparse.Namespace) -> int:
    """Write the record; 0 written (or updated, or printed), 1 not written, 2 usage error."""
    from litnotes.records.validate import ID_PATTERN, load_taxonomy, validate_record

    root = Path(args.root)
    papers_dir = root / args.papers
    if not papers_dir.is_dir():
        raise CommandError(f"papers folder not found: {papers_dir}; run from the repository root or pass --root", 2)
    if not (args.identifier or args.bibtex or args.title):
        raise CommandError("nothing to scaffold: pass an identifier (arXiv id, DOI, OpenReview URL), --bibtex FILE, "
                           "or --title with --author, --venue, --year and --category", 2)
    if args.identifier and args.bibtex:
        raise CommandError("pass an identifier or --bibtex, not both", 2)
    if args.id is not None and not ID_PATTERN.match(args.id):
        raise CommandError(f"--id '{args.id}' is not a valid id: use lowercase letters, digits and '-' "
                           f"(e.g. '{_slug(args.id) or 'dist2022'}')", 2)
    categories, _, cat_problems = load_taxonomy(papers_dir, args.papers, "categories")
    _, venues, venue_problems = load_taxonomy(papers_dir, args.papers, "venues")
    if cat_problems or venue_problems:
        print(format_problems(cat_problems + venue_problems), file=sys.stderr)
        raise CommandError("fix the categories and venues files first")

    source_name = "<stdin>" if args.bibtex == "-" else args.bibtex
    if args.identifier:
        draft = _draft_from_identifier(args, root, venues)
    elif args.bibtex:
        try:
            draft = draft_from_bibtex(_read_bibtex(args.bibtex), venues)
        except DraftError as exc:
            raise CommandError(str(exc), where=f"{source_name}:{exc.line}" if exc.line else None) from None
    else:
        draft = Draft()
    _apply_flags(draft, args, venues, categories)
    if draft.title and not draft.abbr:
        draft.abbr = title_abbr(draft.title)

    record_id = args.id or derive_id(draft)
    if not draft.year and not args.id:
        draft.warn(f"no year, so the id '{record_id}' has none; pass --id to choose one")
    existing = _same_paper(papers_dir, args.papers, record_id, draft, venues, args.identifier, args.update)
    if existing is not None:
        record_id = existing[0].stem
    # What the user typed is theirs: a flag the checker would reject is an error, not a silent TODO.
    explicit = frozenset(name for name in ("title", "authors", "abbr", "url", "code") if getattr(args, name))
    try:
        text, todo = render_valid(draft, categories,
                                  lambda t: validate_record(root, args.papers, args.docs, record_id, t), explicit)
    except DraftError as exc:
        raise CommandError(str(exc), 2 if exc.field else 1) from None
    for line, message in draft.warnings:
        where = f"{source_name}:{line}" if line and args.bibtex else "litnotes new"
        print(f"{where}: warning: {message}", file=sys.stderr)
    if existing is not None:
        return _update(args, existing, draft, venues, categories)
    if not draft.abbr and not args.id and draft.authors:
        print(f"litnotes new: note: the id '{record_id}' is the first author's family name and the year; the "
              "README's convention is the method's short name and the year: pass --abbr NAME (or --id)",
              file=sys.stderr)

    target = papers_dir / f"{record_id}.yaml"
    if args.dry_run:
        sys.stdout.write(text)
        print(f"dry run: {args.papers}/{record_id}.yaml not written", file=sys.stderr)
        return 0
    try:
        write_new_file(target, text)
    except FileExistsError:
        raise CommandError(f"{args.papers}/{record_id}.yaml already exists and is left as it is; pass --id to "
                           "choose another id, or edit that file") from None
    except OSError as exc:
        raise CommandError(f"cannot write {args.papers}/{record_id}.yaml: {exc.strerror or exc}") from None

    print(f"wrote {args.papers}/{record_id}.yaml (id: {record_id})")
    if not draft.category and categories:
        print("categories (set 'category' to one of these keys):", file=sys.stderr)
        for key, cat in sorted(categories.items()):
            print(f"  {key}: {cat.title}", file=sys.stderr)
    if todo:
        print("still to do (litnotes check reports these until they are fixed):", file=sys.stderr)
        print(format_problems(todo), file=sys.stderr)
    return 0


def _draft_from_identifier(args: argparse.Namespace, root: Path, venues: dict[str, Any]) -> Draft:
    from litnotes.records.sources import Lookup, SourceError, draft_from_identifier, parse_identifier

    try:
        identifier = parse_identifier(args.identifier)
    except SourceError as exc:
        raise CommandError(str(exc), 2) from None
    if args.offline and args.refresh:
        raise CommandError("--offline and --refresh contradict each other: pass one", 2)
    lookup = Lookup.from_environment(root / CACHE_DIR, offline=args.offline, timeout=args.timeout,
                                     refresh=args.refresh)
    try:
        return draft_from_identifier(identifier, venues, lookup)
    except SourceError as exc:
        raise CommandError(str(exc)) from None


def _read_bibtex(name: str) -> str:
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read the BibTeX file {name}: {exc.strerror or exc}", 2) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{'stdin' if name == '-' else name} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at "
                           f"offset {exc.start}); save it as UTF-8") from None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _apply_flags(draft: Draft, args: argparse.Namespace, venues: dict[str, Any], categories: dict[str, Any]) -> None:
    from litnotes.records.draft import _normal_author
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
            raise CommandError(f"--venue '{args.venue}' is not a known venue; known: {', '.join(sorted(venues))} "
                               "(add it to papers/_venues.yaml first)", 2)
        draft.venue, draft.venue_todo = key, None
        # The flag names the published venue: what a source said about publication no longer applies.
        draft.warnings = [(ln, msg) for ln, msg in draft.warnings
                          if "arXiv preprint;" not in msg and "dblp lists no published version" not in msg]
    if args.category:
        titles = {c.title: key for key, c in categories.items()}
        key = args.category if args.category in categories else titles.get(args.category.strip())
        if key is None:
            raise CommandError(f"--category '{args.category}' is not a known category; known: "
                               f"{', '.join(sorted(categories))}", 2)
        draft.category = key
    if args.arxiv:
        m = _ARXIV_URL.search(args.arxiv) or _ARXIV_ID.search(args.arxiv)
        if m is None:
            raise CommandError(f"--arxiv '{args.arxiv}' is not an arXiv id such as 2205.10536", 2)
        draft.arxiv = m.group(1)
    if args.doi:
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", args.doi.strip(), flags=re.IGNORECASE)
        if not _DOI.match(doi):
            raise CommandError(f"--doi '{args.doi}' is not a DOI such as 10.1109/ICCV48922.2021.00801", 2)
        draft.doi = doi
    for name in ("url", "code"):
        value = getattr(args, name)
        if value:
            if not re.fullmatch(r"https://[^\s/]+\.\S+", value.strip()):
                raise CommandError(f"--{name} '{value}' is not an https:// address", 2)
            setattr(draft, name, value.strip())


def _same_paper(papers_dir: Path, rel: str, record_id: str, draft: Draft, venues: dict[str, Any],
                identifier: str | None, update: bool) -> tuple[Path, bytes, dict] | None:
    """The existing record of this paper when ``--update`` asks for it; otherwise refuse a second record.

    Two records are of the same paper when they share a key of the checker's duplicate rule
    (:func:`~litnotes.records.validate.unique_keys`: arXiv id, DOI, normalised title).
    """
    from litnotes.records.load import parse_yaml, read_source
    from litnotes.records.validate import unique_keys

    mine = {(label, value) for label, _, value, _ in unique_keys(record_id, expected_data(draft)) if label != "id"}
    for path in sorted(papers_dir.glob("*.yaml")):
        if path.name.startswith((".", "_")) or not path.is_file():
            continue
        other = f"{rel}/{path.name}"
        raw = path.read_bytes()
        data, problem = parse_yaml(read_source(path, other))
        data = data if isinstance(data, dict) and not problem else {}
        shared = [label for label, _, value, _ in unique_keys(path.stem, data) if (label, value) in mine]
        if shared:
            if update:
                return path, raw, data
            raise CommandError(_duplicate_message(other, shared, data, draft, venues, identifier))
        if path.stem == record_id:
            raise CommandError(f"{other} already exists and is left as it is; pass --id to choose another id, or edit "
                               "that file")
        if path.stem.lower() == record_id.lower():
            raise CommandError(f"{other} has the same id ignoring case; pass --id to choose another id")
    return None


def _kind(venues: dict[str, Any], key: Any) -> str | None:
    entry = venues.get(key) if isinstance(key, str) else None
    return entry.get("kind") if isinstance(entry, dict) else None


def _duplicate_message(other: str, shared: list[str], data: dict, draft: Draft, venues: dict[str, Any],
                       identifier: str | None) -> str:
    same = " and ".join(_LABELS[label] for label in shared)
    theirs, ours = data.get("venue"), draft.venue
    if _kind(venues, theirs) == "preprint" and ours and _kind(venues, ours) not in (None, "preprint"):
        return (f"{other} records the arXiv preprint of this paper (same {same}), and "
                f"{identifier or 'this entry'} is its published version ({ours} {draft.year or ''}".rstrip() +
                "); pass --update to fill in the published venue, year and the other missing fields (the summary "
                "and everything else written there are kept)")
    if _kind(venues, ours) == "preprint" and _kind(venues, theirs) not in (None, "preprint"):
        return (f"{other} already records the published version of this preprint ({theirs} {data.get('year', '')}"
                .rstrip() + f", same {same}); pass --update to add the fields it lacks, such as the arXiv id")
    return (f"{other} already records this paper (same {same}); a paper needs exactly one record: edit that file "
            "instead, or pass --update to fill in its missing fields")


def _update(args: argparse.Namespace, existing: tuple[Path, bytes, dict], draft: Draft, venues: dict[str, Any],
            categories: dict[str, Any]) -> int:
    path, raw, data = existing
    shown = f"{args.papers}/{path.name}"
    try:
        text = raw.decode("utf-8")
        new_text, filled = update_record(text, data, draft, venues, categories)
    except (UnicodeDecodeError, DraftError) as exc:
        raise CommandError(f"{shown}: {exc}") from None
    if not filled:
        print(f"{shown} already has every field the source gives; nothing to update")
        return 0
    if args.dry_run:
        sys.stdout.write(new_text)
        print(f"dry run: {shown} not updated (would fill in {', '.join(filled)})", file=sys.stderr)
        return 0
    try:
        replace_file(path, raw, new_text)
    except FileExistsError:
        raise CommandError(f"{shown} changed while it was being updated; it is left as it is: run the command "
                           "again") from None
    except OSError as exc:
        raise CommandError(f"cannot write {shown}: {exc.strerror or exc}") from None
    print(f"updated {shown}: filled in {', '.join(filled)} (the summary and everything else are unchanged)")
    return 0

