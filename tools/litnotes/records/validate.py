"""Validate records against the schema and the cross-record rules.

The schema (``schema/paper.schema.json``) is the one declaration of a record's
fields: editors read it through the ``yaml-language-server`` comment, and this
module compiles it once.  Rules a schema cannot express (other files, other
records, today's date) are the functions below.

A clean record costs one libyaml parse, one compiled schema check and a few
dictionary look-ups; the slow parts (jsonschema's full error list, line
numbers) run only for a record that has a problem.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml

from litnotes.problems import Problem
from litnotes.records import markdown as record_markdown
from litnotes.records.load import Source, locate, parse_yaml, read_source
from litnotes.records.model import Category, KnowledgeBase, Paper, Venue
from litnotes.site.escape import URL_UNSAFE
from litnotes.site.escape import url as page_url

__all__ = [
    "CATEGORIES_FILE",
    "ID_PATTERN",
    "REPORTS_DIR",
    "SCHEMA_PATH",
    "VENUES_FILE",
    "clear_parse_cache",
    "load_knowledge_base",
    "load_taxonomy",
    "normal_title",
    "record_ids",
    "record_math_problems",
    "schema",
    "unique_keys",
    "validate_record",
    "venue_names",
]

SCHEMA_PATH = Path(__file__).parent / "schema" / "paper.schema.json"
TAXONOMY_SCHEMA_PATH = Path(__file__).parent / "schema" / "taxonomy.schema.json"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CATEGORIES_FILE = "_categories.yaml"
VENUES_FILE = "_venues.yaml"
REPORTS_DIR = "reports"

# Complete HTML tags, comments and script URLs: what could run in a reader's
# browser.  A lone '<' (as in "a < b" or $x<y$) is not a tag.
_RAW_HTML = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--|javascript:", re.IGNORECASE)
# Plain-text fields: no Markdown, so no HTML either.  The Markdown fields follow record_markdown's rules.
_TEXT_FIELDS = ("title", "abbr")
_MARKDOWN_FIELDS = ("summary", "notes")
# Markdown code is shown as text, never run: `x<y>` and fenced blocks are left out of the HTML search.
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
# What a backslash escape in a double-quoted string turns into ("\alpha" is BEL + "lpha").
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@cache
def schema(name: str = "paper") -> dict[str, Any]:
    """The parsed JSON Schema: ``paper`` (a record) or ``taxonomy`` (categories and venues)."""
    path = SCHEMA_PATH if name == "paper" else TAXONOMY_SCHEMA_PATH
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _fast_validator(name: str) -> Any:
    return fastjsonschema.compile(schema(name))


@cache
def _full_validator(name: str) -> Any:
    import jsonschema  # only needed once something is wrong; it is slow to import

    return jsonschema.Draft202012Validator(schema(name))


def _schema_problems(source: Source, data: Any, name: str, wrap: str | None = None) -> list[Problem]:
    """Problems of ``data`` against a schema; ``wrap`` validates ``{wrap: data}`` and locates inside ``data``."""
    instance = {wrap: data} if wrap else data
    try:
        _fast_validator(name)(instance)
        return []
    except Exception as fast_error:
        first = fast_error
    problems = []
    for err in _full_validator(name).iter_errors(instance):
        problems.extend(_describe(source, err, 1 if wrap else 0))
    if not problems:
        # The two validators disagree at the edges (fastjsonschema reads '$' as the very end of
        # the text, jsonschema also before a final newline); the stricter answer wins.
        where = tuple(getattr(first, "path", [])[1 + bool(wrap):])
        line, col = locate(source, where)
        msg = f"'{_field_name(where) or 'record'}' has an invalid value"
        if isinstance(first, fastjsonschema.JsonSchemaValueException) and isinstance(first.definition, dict):
            hint = first.definition.get("x-hint")
            msg += f" {_shown(first.value)}" + (f"; {hint}" if hint else "; remove a trailing newline or space")
        problems.append(Problem(source.path, line, col, msg, "schema"))
    return problems


def _field_name(path: Iterable[Any]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _kind_of(value)
    return json.dumps(value, ensure_ascii=False, default=str)


_EXPECTED = {"string": "a string", "integer": "an integer", "array": "a list", "object": "a mapping",
             "number": "a number", "boolean": "true or false", "null": "null"}


def _describe(source: Source, err: Any, skip: int) -> list[Problem]:
    """Turn one jsonschema error into problems that say what was expected and received."""
    path = tuple(err.absolute_path)[skip:]
    name = _field_name(path) or "record"
    schema_node = err.schema if isinstance(err.schema, dict) else {}
    hint = schema_node.get("x-hint")
    kind = err.validator
    got = err.instance
    if "propertyNames" in err.schema_path:
        line, col = locate(source, path + (got,), key=True)
        return [Problem(source.path, line, col, f"key {_shown(got)}{_in(path)} is not a valid id; use lowercase "
                        "letters, digits and '-'", "schema-propertyNames")]
    if kind == "additionalProperties":
        known = sorted(schema_node.get("properties", {}))
        out = []
        for key in _unknown_keys(got, schema_node):
            line, col = locate(source, path + (key,), key=True)
            out.append(Problem(source.path, line, col, f"unknown field '{key}'{_in(path)}; {_field_fix(key, known)}",
                               "unknown-field"))
        return out
    if kind == "required":
        # A misspelt field is reported once, as unknown with a suggestion, not also as missing.
        known = sorted(schema_node.get("properties", {}))
        misspelt = {close[0] for key in _unknown_keys(got, schema_node)
                    if (close := difflib.get_close_matches(str(key), known, n=1, cutoff=0.6))}
        line, col = locate(source, path)
        out = []
        for key in err.validator_value:
            if key in got or key in misspelt:
                continue
            about = schema_node.get("properties", {}).get(key, {}).get("description", "").rstrip(".")
            out.append(Problem(source.path, line, col, f"missing required field '{key}'{_in(path)}; add it"
                               + (f" ({about[:1].lower()}{about[1:]})" if about else ""), "required"))
        return out
    if kind == "type" and got is None:
        msg = f"'{name}' has no value; write it after '{path[-1] if path else name}:'" if path else \
            f"'{name}' has no value"
    elif kind == "type":
        want = err.validator_value if isinstance(err.validator_value, str) else err.validator_value[0]
        shown = "" if isinstance(got, (dict, list)) else f" {_shown(got)}"
        article = "a " if isinstance(got, (dict, list)) else ""
        msg = f"'{name}' must be {_EXPECTED.get(want, want)}, got {article}{_kind_of(got)}{shown}"
        if want == "string" and isinstance(got, (int, float, bool)) and not hint:
            hint = "put the value in quotes"
    elif kind == "minItems" or (kind in ("minLength", "pattern") and isinstance(got, str) and not got.strip()):
        msg = f"'{name}' must not be empty"
    elif kind == "pattern":
        msg = f"'{name}' has an invalid value {_shown(got)}"
        if not hint and name.endswith(("venue", "category")):
            hint = "use a lowercase key"
    elif kind == "maxLength":
        msg, hint = f"'{name}' is longer than {err.validator_value} characters; shorten it", None
    elif kind == "uniqueItems":
        msg, hint = f"'{name}' lists an item more than once; remove the repeated item", None
    elif kind == "minimum":
        msg = f"'{name}' must be at least {err.validator_value}, got {_shown(got)}"
    elif kind == "enum":
        msg = f"'{name}' must be one of: {', '.join(map(str, err.validator_value))}; got {_shown(got)}"
    else:
        msg = f"'{name}': {err.message}"
    if hint:
        msg += f"; {hint}"
    line, col = locate(source, path)
    return [Problem(source.path, line, col, msg, f"schema-{kind}")]


def _unknown_keys(instance: Any, schema_node: dict) -> list[Any]:
    props = schema_node.get("properties", {})
    return [k for k in instance if k not in props] if isinstance(instance, dict) else []


def _in(path: tuple) -> str:
    return f" in '{_field_name(path)}'" if path else ""


def _field_fix(key: Any, known: list[str]) -> str:
    if key == "id":
        return "the id is the file name (papers/<id>.yaml); remove the field"
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"


def _kind_of(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null",
            list: "list", dict: "mapping"}.get(type(value), type(value).__name__)


def venue_names(venues: dict[str, Any]) -> dict[str, str]:
    """Every spelling of a venue, lowercased (key, short name, full name, aliases) -> its key.

    ``venues`` is the raw mapping of ``papers/_venues.yaml``.
    """
    names: dict[str, str] = {}
    for key, entry in venues.items():
        spellings = [key]
        if isinstance(entry, dict):
            spellings += [entry.get("short"), entry.get("name"), *(entry.get("aliases") or [])]
        for spelling in spellings:
            if isinstance(spelling, str) and spelling.strip():
                names.setdefault(spelling.strip().casefold(), key)
    return names


def _suggest(value: str, names: dict[str, str], kind: str) -> str:
    """'did you mean …?' from the keys and other spellings (case-insensitive), else the known keys."""
    folded = value.strip().casefold()
    if folded in names:
        return f"did you mean '{names[folded]}'?"
    close = difflib.get_close_matches(folded, sorted(names), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{names[close[0]]}'?"
    return f"known {kind}: {', '.join(sorted(set(names.values())))}"


def normal_title(title: str) -> str:
    """A title reduced to what two spellings of the same title share (case, punctuation, spaces dropped)."""
    text = unicodedata.normalize("NFKC", title).casefold()
    return re.sub(r"[\W_]+", "", text)


# Parsed files by (shown path, text): the same text parses to the same data (which nothing
# modifies), so a process that loads the records again after an edit parses only what changed.
_PARSED: dict[tuple[str, str], tuple[Any, Problem | None]] = {}


def clear_parse_cache() -> None:
    """Forget every parsed file: the next load parses everything, as a new ``litnotes check`` process does."""
    _PARSED.clear()


def _load_mapping(path: Path, display: str, what: str,
                  within: Path | None = None) -> tuple[Source, Any, list[Problem]]:
    source = read_source(path, display, within=within)
    key = (display, source.text)
    if source.problem is None and key in _PARSED:
        data, problem = _PARSED[key]
    else:
        data, problem = parse_yaml(source)
        if source.problem is None:
            if len(_PARSED) > 65536:
                _PARSED.clear()
            _PARSED[key] = (data, problem)
    if problem:
        return source, None, [problem]
    if data is None:
        empty = "file is empty" if not source.text.strip() else "file has no fields"
        return source, None, [Problem(display, 1, 1, f"{empty}; {what}", "empty")]
    if not isinstance(data, dict):
        return source, None, [Problem(display, 1, 1, "the top level must be a mapping of fields, got "
                                      f"{_kind_of(data)}; write 'field: value' lines", "top-level")]
    return source, data, []


def load_taxonomy(papers_dir: Path, rel: str, kind: str,
                  within: Path | None = None) -> tuple[dict[str, Any], dict[str, Any], list[Problem]]:
    """(model objects, raw entries, problems) of ``_categories.yaml`` (``kind="categories"``) or ``_venues.yaml``.

    ``rel`` is the records folder as shown in problems, e.g. ``papers``; ``within``
    is the repository root, outside which a symlinked file is not read.
    """
    path = papers_dir / (CATEGORIES_FILE if kind == "categories" else VENUES_FILE)
    display = f"{rel}/{path.name}"
    one = "category" if kind == "categories" else "venue"
    example = "feature: {title: 特征蒸馏}" if kind == "categories" else \
        "neurips: {name: Conference on Neural Information Processing Systems, kind: conference}"
    if not os.path.lexists(path):  # anything else there (a loop, a folder, a FIFO) is read_source's problem
        return {}, {}, [Problem(display, 1, 1, f"missing {kind} file; create it with one entry per {one}, "
                                f"e.g. '{example}'", "taxonomy")]
    source, data, problems = _load_mapping(path, display, f"add one entry per {one}, e.g. '{example}'", within)
    if problems:
        return {}, {}, problems
    problems = _schema_problems(source, data, "taxonomy", wrap=kind)
    if problems:
        return {}, {}, problems
    if kind == "categories":
        return {k: Category(k, v["title"], v.get("description", "")) for k, v in data.items()}, data, []
    return {k: Venue(k, v["name"], v.get("short", k), v["kind"]) for k, v in data.items()}, data, []


def _records(papers_dir: Path) -> list[str]:
    """Names under the records folder, sorted (strings sort faster than Paths).

    Whatever the entry is (file, folder, FIFO, symlink loop), it is listed
    without following it: the caller keeps the ``.yaml`` names and reading
    says what is wrong with the ones that are not regular files.
    """
    with os.scandir(papers_dir) as entries:
        return sorted(e.name for e in entries if not e.name.startswith((".", "_")))


def record_ids(papers_dir: Path) -> set[str]:
    """The id of every record file in the records folder, valid or not."""
    return {name[:-5] for name in _records(papers_dir) if name.endswith(".yaml")} if papers_dir.is_dir() else set()


def load_knowledge_base(root: Path | str = ".", papers: str = "papers", docs: str = "docs",
                        today: _dt.date | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """Read and check every record under ``root/papers``; return the valid ones and every problem.

    Paths in problems are relative to ``root``.  A missing records folder is a
    single problem with rule ``usage`` and line 0.  When ``root/mkdocs.yml``
    enables litnotes-math, the records' formulas are rendered with its KaTeX, so
    ``litnotes check`` and every build refuse the same records.
    """
    root = Path(root)
    papers_dir = root / papers
    today = today or _dt.date.today()
    problems: list[Problem] = []
    if not papers_dir.is_dir():
        return KnowledgeBase({}, {}, {}), [Problem(papers, 0, 0, f"papers folder not found: {papers_dir}; run from "
                                                   "the repository root or pass --root", "usage")]
    context, taxonomy_problems = _context(root, papers, docs, today)
    problems += taxonomy_problems
    categories, venues, reports = context.categories, context.venues, tuple(sorted(context.reports))

    loaded: list[tuple[str, Source, dict]] = []
    needs = "a record needs at least: " + ", ".join(schema()["required"])
    for name in _records(papers_dir):
        display = f"{papers}/{name}"
        if name.endswith(".yml"):
            problems.append(Problem(display, 1, 1, "records use the .yaml extension; rename the file", "extension"))
            continue
        if not name.endswith(".yaml"):
            continue
        source, data, file_problems = _load_mapping(papers_dir / name, display, needs, root)
        problems += file_problems
        if data is not None:
            loaded.append((name[:-5], source, data))

    context.all_ids = {stem for stem, _, _ in loaded}
    # What the site will hold, for relative links in record Markdown.
    context.docs_dir = root / docs
    context.years = {d.get("year") for _, _, d in loaded if isinstance(d.get("year"), int)}
    context.used_venues = {d.get("venue") for _, _, d in loaded if isinstance(d.get("venue"), str)}
    valid: dict[str, Paper] = {}
    firsts: dict[tuple[str, str], tuple[str, str]] = {}
    for stem, source, data in loaded:
        mine = _one_record(stem, source, data, context)
        for label, key, value, shown in unique_keys(stem, data):
            if (label, value) in firsts:
                other, other_shown = firsts[(label, value)]
                line, col = locate(source, (key,)) if key else (1, 1)
                mine.append(Problem(source.path, line, col, _duplicate_message(label, shown, other, other_shown),
                                    "duplicate"))
            else:
                firsts[(label, value)] = (source.path, shown)
        problems += mine
        if not mine:
            valid[stem] = _paper(stem, source.path, data)

    # Formulas go through the site's KaTeX here, so check and every build refuse the same records.
    with_math = [p for p in valid.values() if "$" in (p.summary or "") + (p.notes or "")]
    render = _site_katex(root) if with_math else None
    if render is not None:
        for problem in record_math_problems(root, with_math, render):
            problems.append(problem)
            valid.pop(problem.path.rsplit("/", 1)[-1][:-5], None)

    built_on_by: dict[str, list[str]] = {}
    for paper in valid.values():
        for base in paper.builds_on:
            built_on_by.setdefault(base, []).append(paper.id)
    kb = KnowledgeBase(valid, categories, venues, reports,
                       {k: tuple(sorted(v)) for k, v in built_on_by.items()})
    unique = {(p.path, p.line, p.col, p.message): p for p in problems}
    return kb, sorted(unique.values())


_VALUE_RULES = ("venue", "category", "builds-on", "read", "url")


def _context(root: Path, papers: str, docs: str, today: _dt.date) -> tuple[_Context, list[Problem]]:
    papers_dir = root / papers
    categories, raw_categories, cat_problems = load_taxonomy(papers_dir, papers, "categories", root)
    venues, raw_venues, venue_problems = load_taxonomy(papers_dir, papers, "venues", root)
    reports_dir = root / docs / REPORTS_DIR
    reports = tuple(sorted(p.stem for p in reports_dir.glob("*.md") if is_iso_date(p.stem))) \
        if reports_dir.is_dir() else ()
    return _Context(papers, docs, today, reports, categories, venues, venue_names(raw_venues),
                    _category_names(raw_categories)), cat_problems + venue_problems


def validate_record(root: Path | str, papers: str, docs: str, stem: str, text: str,
                    today: _dt.date | None = None) -> list[Problem]:
    """The problems ``check`` reports for ``text`` as the record ``papers/<stem>.yaml``, before it is written.

    The same rules as :func:`load_knowledge_base` (schema, venue, category, year, read, builds_on, text
    fields); a record not yet on disk cannot clash with the others, so the duplicate rule is
    :func:`unique_keys`, which ``litnotes new`` applies itself.
    """
    root = Path(root)
    context, problems = _context(root, papers, docs, today or _dt.date.today())
    if problems:
        return problems
    source = Source(f"{papers}/{stem}.yaml", text)
    data, problem = parse_yaml(source)
    if problem:
        return [problem]
    if not isinstance(data, dict):
        return [Problem(source.path, 1, 1, "the top level must be a mapping of fields", "top-level")]
    context.all_ids = record_ids(root / papers) | {stem}
    # What the site will hold as far as this record goes (its summary is the author's to write).
    context.docs_dir = root / docs
    context.years = {data["year"]} if isinstance(data.get("year"), int) else set()
    context.used_venues = {data["venue"]} if isinstance(data.get("venue"), str) else set()
    mine = _one_record(stem, source, data, context)
    return sorted({(p.path, p.line, p.col, p.message): p for p in mine}.values())


def _one_record(stem: str, source: Source, data: dict, context: _Context) -> list[Problem]:
    """Every rule of one record but the duplicate rule: the same for ``check`` and ``new``."""
    mine = _record_rules(stem, source, data, context)
    # A rule's message about a value is more specific than the schema's about the same value
    # (an unknown venue also fails the key pattern), so the schema's is left out there.
    shadowed = {(p.line, p.col) for p in mine if p.rule in _VALUE_RULES}
    return mine + [p for p in _schema_problems(source, data, "paper") if (p.line, p.col) not in shadowed]


class _Context:
    """What every record is checked against."""

    def __init__(self, papers: str, docs: str, today: _dt.date, reports: tuple[str, ...], categories: dict,
                 venues: dict, venue_spellings: dict[str, str], category_spellings: dict[str, str]) -> None:
        self.papers, self.docs, self.today, self.reports = papers, docs, today, set(reports)
        self.categories, self.venues = categories, venues
        self.venue_spellings, self.category_spellings = venue_spellings, category_spellings
        self.all_ids: set[str] = set()
        self.docs_dir: Path | None = None
        self.years: set[int] = set()
        self.used_venues: set[str] = set()

    def page_exists(self, path: str) -> bool:
        """Whether the site will have the docs-relative ``path``: a file under docs/ or a generated page."""
        folder, _, name = path.rpartition("/")
        stem = name[:-3] if name.endswith(".md") else None
        generated = (
            path in ("tags.md", "papers.bib", "papers.json", "reports/feed.xml")
            or (stem == "index" and folder in ("papers", "categories", "venues", "years", "reports"))
            or (folder == "papers" and stem in self.all_ids)
            or (folder == "categories" and stem in self.categories)
            or (folder == "venues" and stem in self.used_venues)
            or (folder == "years" and stem is not None and stem.isdigit() and int(stem) in self.years))
        return generated or (self.docs_dir is not None and (self.docs_dir / path).is_file())


def _category_names(categories: dict[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for key, entry in categories.items():
        for spelling in (key, entry.get("title") if isinstance(entry, dict) else None):
            if isinstance(spelling, str) and spelling.strip():
                names.setdefault(spelling.strip().casefold(), key)
    return names


def is_iso_date(text: str) -> bool:
    """True for a real calendar date written YYYY-MM-DD (the name of a weekly report)."""
    if not _DATE.fullmatch(text):
        return False
    try:
        _dt.date.fromisoformat(text)
        return True
    except ValueError:
        return False


def unique_keys(stem: str, data: dict) -> Iterable[tuple[str, str | None, str, str]]:
    """(what, field, normalised value, value as written) of everything two records may not share.

    The one duplicate rule: ``check`` reports two records that share a key, ``new`` refuses to add one.
    """
    yield "id", None, stem.lower(), stem
    for key in ("arxiv", "doi"):
        value = data.get(key)
        if isinstance(value, str) and value:
            yield key, key, value.lower(), value
    title = data.get("title")
    if isinstance(title, str) and title.strip():
        yield "title", "title", normal_title(title), title


def _duplicate_message(label: str, shown: str, other: str, other_shown: str) -> str:
    fix = "a paper needs exactly one record: merge the two files"
    if label == "id":
        return f"id '{shown}' is the same as '{other_shown}' ({other}) ignoring case; ids are unique ignoring " \
               "case: merge the two records or rename one"
    if label == "title":
        same = "" if shown == other_shown else " ignoring case and punctuation"
        return f"title is the same as in {other}{same}; {fix}"
    return f"{label} '{shown}' is also in {other}; {fix}, or correct the {label}"


def _record_rules(stem: str, source: Source, data: dict, ctx: _Context) -> list[Problem]:
    out: list[Problem] = []

    def add(path: tuple, message: str, rule: str, key: bool = False) -> None:
        line, col = locate(source, path, key=key)
        out.append(Problem(source.path, line, col, message, rule))

    if not ID_PATTERN.match(stem):
        out.append(Problem(source.path, 1, 1, f"file name '{stem}' is not a valid id: use lowercase letters, digits "
                           f"and '-', starting with a letter or digit (e.g. '{_slug(stem)}.yaml')", "id"))
    # Venue and category follow one rule: a key of their data file, with the closest spelling suggested.
    for name, known, spellings, filename, plural in (
            ("venue", ctx.venues, ctx.venue_spellings, VENUES_FILE, "venues"),
            ("category", ctx.categories, ctx.category_spellings, CATEGORIES_FILE, "categories")):
        value = data.get(name)
        if not isinstance(value, str) or not known or value in known:
            continue
        if not value.strip():
            add((name,), f"'{name}' is empty; use one of the keys of {ctx.papers}/{filename}: "
                f"{', '.join(sorted(known))}", name)
        else:
            add((name,), f"{name} '{value}' is not a known {name}; {_suggest(value, spellings, plural)} "
                f"({plural} are the keys of {ctx.papers}/{filename})", name)
    year = data.get("year")
    if isinstance(year, int) and not isinstance(year, bool) and year > ctx.today.year:
        add(("year",), f"year {year} is in the future (this year is {ctx.today.year}); "
            "write the year of publication", "year")
    elif isinstance(year, float) and year.is_integer():
        add(("year",), f"'year' must be a whole number, got {year}; write it without a decimal point, e.g. "
            f"{int(year)}", "year")
    read = data.get("read")
    if isinstance(read, str) and _DATE.fullmatch(read):
        if not is_iso_date(read):
            add(("read",), f"'read' is not a real date: {read}; write the report's date as YYYY-MM-DD", "read")
        elif read not in ctx.reports:
            add(("read",), f"no weekly report for 'read: {read}' (expected {ctx.docs}/{REPORTS_DIR}/{read}.md); "
                f"use the date of an existing report, or start this one with 'litnotes report new {read}'", "read")
    _status_rule(data, add)
    bases = data.get("builds_on")
    if isinstance(bases, list):
        for i, base in enumerate(bases):
            if base == stem:
                add(("builds_on", i), "'builds_on' names the paper itself; remove it", "builds-on")
            elif isinstance(base, str) and base not in ctx.all_ids:
                close = difflib.get_close_matches(base, sorted(ctx.all_ids), n=1)
                fix = f"did you mean '{close[0]}'?" if close else "add that record first or fix the id"
                add(("builds_on", i), f"'builds_on' names unknown paper '{base}' (no {ctx.papers}/{base}.yaml); "
                    f"{fix}", "builds-on")
    for name in ("url", "code"):
        if isinstance(data.get(name), str) and (message := _url_problem(name, data[name])):
            add((name,), message, "url")
    for name in _TEXT_FIELDS + ("authors",):
        value = data.get(name)
        if value is None:
            continue
        for i, text in enumerate(value if isinstance(value, list) else [value]):
            # '<' and ':' are rare in the notes; the regex runs only where they appear.
            if not isinstance(text, str) or ("<" not in text and ":" not in text):
                continue
            if (m := _RAW_HTML.search(_CODE.sub("", text) if "`" in text else text)):
                line, col = _find(source, m.group(0), locate(source, (name, i) if isinstance(value, list) else (name,)))
                out.append(Problem(source.path, line, col, f"'{name}' contains raw HTML or a script URL "
                                   f"({m.group(0)!r}); write plain text or Markdown", "raw-html"))
    for name in _MARKDOWN_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            for finding in record_markdown.findings(value, ctx.page_exists):
                line, col = _position_in_value(source, (name,), value, finding.line, finding.col)
                out.append(Problem(source.path, line, col, finding.message(name), "record-markdown"))
    if "\\" in source.text:
        for name, value in data.items():
            for i, text in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(text, str) and (m := _CONTROL.search(text)):
                    where = (name, i) if isinstance(value, list) else (name,)
                    add(where, f"'{name}' contains the control character U+{ord(m.group(0)):04X}, most likely from a "
                        "backslash escape in double quotes (\"\\alpha\" reads as BEL + 'lpha'); write '\\\\' for a "
                        "backslash, or use single quotes or a block (|)", "control-character")
    return out


def _status_rule(data: dict, add: Callable[[tuple, str, str], None]) -> None:
    """A ``read:`` date says the paper was read, so it cannot also be on the reading list."""
    status, read = data.get("status"), data.get("read")
    if status in ("to-read", "reading") and read is not None:
        add(("status",), f"'status: {status}' contradicts 'read: {read}', which says the paper was read; "
            "remove 'read' while the paper is on the reading list, or remove 'status' once it is read", "status")


def _url_problem(name: str, value: str) -> str | None:
    """Why ``value`` is not an address a page may link to, parsed the way the pages parse it (None if it is)."""
    bad = next((ch for ch in value if ch in URL_UNSAFE or ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f), None)
    if bad is not None:
        what = "a space" if bad == " " else f"the control character U+{ord(bad):04X}" if bad.isspace() or \
            not bad.isprintable() else f"'{bad}'"
        return f"'{name}' contains {what}, which an address cannot hold; percent-encode it as %{ord(bad):02X}"
    if page_url(value) is None:
        hint = schema()["properties"][name].get("x-hint", "")
        return f"'{name}' must be an https:// address with a host name, got {_shown(value)}; {hint}"
    return None


def _find(source: Source, needle: str, start: tuple[int, int]) -> tuple[int, int]:
    """Where ``needle`` first appears at or after ``start`` (a block's lines are the file's lines)."""
    lines = source.text.split("\n")
    line, col = start
    for number in range(line, len(lines) + 1):
        found = lines[number - 1].find(needle, col - 1 if number == line else 0)
        if found >= 0:
            return number, found + 1
    return start


def _site_katex(root: Path) -> Callable[[str, bool], Any] | None:
    """The build's KaTeX renderer when ``root/mkdocs.yml`` enables the litnotes-math plugin (else None).

    Same KaTeX, macros and disk cache as the plugin; the cache is only read here.
    """
    from litnotes.math.katex import DEFAULT_MACROS, KATEX_DIST, KatexNotInstalled, find_katex, render_cache

    class _Loader(yaml.SafeLoader):  # mkdocs.yml names Python objects (!!python/name:…); none is needed here
        pass

    _Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    try:
        config = yaml.load((root / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # no site configuration: nothing renders the math
    entries = config.get("plugins") if isinstance(config, dict) else None
    options = next((e.get("litnotes-math") or {} if isinstance(e, dict) else {} for e in entries or ()
                    if e == "litnotes-math" or (isinstance(e, dict) and "litnotes-math" in e)), None)
    if not isinstance(options, dict):
        return None
    try:
        dist = find_katex(root, options.get("katex_dist", KATEX_DIST))
    except KatexNotInstalled:
        return None  # the build stops with its own message
    cache_dir = root / options.get("cache_dir", ".cache/katex") if options.get("disk_cache", True) else None
    return render_cache(dist, {**DEFAULT_MACROS, **(options.get("macros") or {})}, cache_dir).render


def record_math_problems(root: Path | str, papers: Iterable[Paper],
                         render: Callable[[str, bool], Any]) -> list[Problem]:
    """Problems of the formulas in the records' Markdown fields that ``render(tex, display)`` rejects.

    ``render`` is the build's KaTeX (:func:`litnotes.math.katex.render_cache`), so
    ``litnotes check`` refuses what would fail the build's math pass; it raises
    :class:`~litnotes.math.katex.KatexError` with KaTeX's message.
    """
    from litnotes.math.katex import KatexError

    out = []
    for paper in sorted(papers, key=lambda p: p.path):
        for name in _MARKDOWN_FIELDS:
            value = getattr(paper, name)
            source = None
            for line, col, tex, display in record_markdown.math_segments(value or ""):
                try:
                    render(tex, display)
                except KatexError as e:
                    source = source or read_source(Path(root) / paper.path, paper.path)
                    at = _position_in_value(source, (name,), value, line, col)
                    written = "$$" if display else f"${tex}$"
                    out.append(Problem(paper.path, *at, f"'{name}' has a formula KaTeX cannot render ('{written}'): "
                                       f"{e}; fix the TeX (text inside math goes in \\text{{…}})", "katex"))
    return out


def _position_in_value(source: Source, path: tuple, value: str, line: int, col: int) -> tuple[int, int]:
    """1-based (line, col) in the file of 0-based (``line``, ``col``) inside the string value at ``path``.

    A literal block (``|``) keeps the value's lines as the file's lines, one
    indentation further in; a one-line scalar starts at its mark (after the
    quote).  Anything else (folded, escapes) is found by searching for the text.
    """
    start = locate(source, path)
    node = source.root
    for step in path:
        node = next((v for k, v in node.value if getattr(k, "value", None) == step), None) \
            if isinstance(node, yaml.MappingNode) else None
    lines = source.text.split("\n")
    value_lines = record_markdown.text_lines(value)
    text = value_lines[min(line, len(value_lines) - 1)]
    snippet = text[col:col + 16] or text
    guess = None
    if isinstance(node, yaml.ScalarNode) and node.style == "|":
        first = node.start_mark.line + 1 + line
        body = [ln for ln in lines[node.start_mark.line + 1:] if ln.strip()]
        indent = len(body[0]) - len(body[0].lstrip(" ")) if body else 0
        guess = (first, indent + col)
    elif isinstance(node, yaml.ScalarNode) and node.start_mark.line == node.end_mark.line and line == 0:
        guess = (node.start_mark.line, node.start_mark.column + (1 if node.style in ("'", '"') else 0) + col)
    if guess and guess[0] < len(lines) and lines[guess[0]][guess[1]:].startswith(snippet):
        return guess[0] + 1, guess[1] + 1
    return _find(source, snippet, start)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "paper"


def _paper(stem: str, path: str, data: dict) -> Paper:
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Paper(id=stem, path=path, **fields)
