"""Validate records against the schema and the cross-record rules.

The schema (``schema/paper.schema.json``) is the one declaration of a record's
fields: editors read it through the ``yaml-language-server`` comment, and this
module compiles it once.  Rules a schema cannot express (other files, other
records, today's date) are the functions below.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import fastjsonschema
import jsonschema

from litnotes.load import Source, locate, parse_yaml, read_source
from litnotes.model import Category, KnowledgeBase, Paper, Venue
from litnotes.problems import Problem

__all__ = ["load_knowledge_base", "SCHEMA_PATH", "ID_PATTERN", "CATEGORIES_FILE", "VENUES_FILE",
           "REPORTS_DIR", "schema"]

SCHEMA_PATH = Path(__file__).parent / "schema" / "paper.schema.json"
TAXONOMY_SCHEMA_PATH = Path(__file__).parent / "schema" / "taxonomy.schema.json"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CATEGORIES_FILE = "_categories.yaml"
VENUES_FILE = "_venues.yaml"
REPORTS_DIR = "reports"

# Complete HTML tags, comments and script URLs: what could run in a reader's browser.
_RAW_HTML = re.compile(r"<(/?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?|!--)>?|\bjavascript:", re.I)
_TEXT_FIELDS = ("title", "abbr", "summary", "notes")


@lru_cache(maxsize=None)
def schema(name: str = "paper") -> dict[str, Any]:
    path = SCHEMA_PATH if name == "paper" else TAXONOMY_SCHEMA_PATH
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _validators(name: str) -> tuple[Any, jsonschema.protocols.Validator]:
    """A compiled validator for the clean fast path, and jsonschema for full error lists."""
    s = schema(name)
    return fastjsonschema.compile(s), jsonschema.Draft202012Validator(s)


def _schema_problems(source: Source, data: dict, name: str, path_prefix: tuple = ()) -> list[Problem]:
    fast, full = _validators(name)
    try:
        fast(data)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    problems = []
    for err in full.iter_errors(data):
        problems.extend(_describe(source, err, path_prefix))
    return problems


def _field_name(path: Iterable[Any]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _describe(source: Source, err: jsonschema.ValidationError, prefix: tuple) -> list[Problem]:
    """Turn one jsonschema error into problems that say what was expected and received."""
    where = prefix + tuple(err.absolute_path)
    name = _field_name(err.absolute_path) or "record"
    hint = err.schema.get("x-hint") if isinstance(err.schema, dict) else None
    kind = err.validator
    if kind == "additionalProperties":
        known = sorted(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in err.schema.get("properties", {})]
        out = []
        for key in extra:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            fix = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"
            line, col = locate(source, where + (key,), key=True)
            out.append(Problem(source.path, line, col, f"unknown field '{key}'; {fix}", "unknown-field"))
        return out
    if kind == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        line, col = locate(source, where)
        return [Problem(source.path, line, col, f"missing required field '{k}'" + (f" in {name}" if where != prefix else ""), "required") for k in missing]
    got = err.instance
    shown = json.dumps(got, ensure_ascii=False) if not isinstance(got, (dict, list)) else type(got).__name__
    if kind == "type":
        expected = {"string": "a string", "integer": "an integer", "array": "a list", "object": "a mapping",
                    "number": "a number", "boolean": "true or false"}
        want = err.validator_value if isinstance(err.validator_value, str) else err.validator_value[0]
        msg = f"'{name}' must be {expected.get(want, want)}, got {_kind_of(got)} {shown}"
    elif kind == "minItems":
        msg = f"'{name}' must not be empty"
    elif kind in ("minLength", "pattern") and isinstance(got, str) and not got.strip():
        msg = f"'{name}' must not be empty"
    elif kind == "pattern":
        msg = f"'{name}' has an invalid value {shown}"
    elif kind == "uniqueItems":
        msg = f"'{name}' lists an item more than once"
    elif kind == "minimum":
        msg = f"'{name}' must be at least {err.validator_value}, got {shown}"
    elif kind == "enum":
        msg = f"'{name}' must be one of: {', '.join(map(str, err.validator_value))}; got {shown}"
    else:
        msg = f"'{name}': {err.message}"
    if hint:
        msg += f"; {hint}"
    line, col = locate(source, where)
    return [Problem(source.path, line, col, msg, f"schema-{kind}")]


def _kind_of(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null",
            list: "list", dict: "mapping"}.get(type(value), type(value).__name__)


def _suggest(value: str, known: Iterable[str]) -> str:
    keys = sorted(known)
    close = difflib.get_close_matches(value, keys, n=1, cutoff=0.5) or difflib.get_close_matches(
        value.lower(), keys, n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'?" if close else f"known: {', '.join(keys)}"


def _normal_title(title: str) -> str:
    text = unicodedata.normalize("NFKC", title).casefold()
    return re.sub(r"[\W_]+", "", text)


def _load_mapping(path: Path, display: str) -> tuple[Source, Any, list[Problem]]:
    source = read_source(path, display)
    data, problem = parse_yaml(source)
    if problem:
        return source, None, [problem]
    if data is None:
        return source, None, [Problem(display, 1, 1, "file is empty; a record needs at least: "
                                      + ", ".join(schema()["required"]), "empty")]
    if not isinstance(data, dict):
        return source, None, [Problem(display, 1, 1, f"the top level must be a mapping of fields, got {_kind_of(data)}; "
                                      "write 'field: value' lines", "top-level")]
    return source, data, []


def _load_taxonomy(papers_dir: Path, rel: str, kind: str) -> tuple[dict[str, Any], list[Problem]]:
    path = papers_dir / (CATEGORIES_FILE if kind == "categories" else VENUES_FILE)
    display = f"{rel}/{path.name}"
    if not path.exists():
        return {}, [Problem(display, 1, 1, f"missing {kind} file; create it with one entry per {kind[:-1]}", "taxonomy")]
    source, data, problems = _load_mapping(path, display)
    if problems:
        return {}, problems
    problems = _schema_problems(source, {kind: data}, "taxonomy")
    problems = [p if not p.message.startswith(f"'{kind}.") else
                Problem(p.path, p.line, p.col, p.message.replace(f"'{kind}.", "'", 1), p.rule) for p in problems]
    if problems:
        return {}, problems
    if kind == "categories":
        return {k: Category(k, v["title"], v.get("description", "")) for k, v in data.items()}, []
    return {k: Venue(k, v["name"], v.get("short", k), v["kind"]) for k, v in data.items()}, []


def load_knowledge_base(root: Path | str = ".", papers: str = "papers", docs: str = "docs",
                        today: _dt.date | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """Read and check every record under ``root/papers``; return the valid ones and every problem.

    Paths in problems are relative to ``root`` as given on the command line.
    """
    root = Path(root)
    papers_dir = root / papers
    today = today or _dt.date.today()
    problems: list[Problem] = []
    if not papers_dir.is_dir():
        return KnowledgeBase({}, {}, {}), [Problem(papers, 0, 0, "papers folder not found; run from the repository root or pass --root", "usage")]
    categories, cat_problems = _load_taxonomy(papers_dir, papers, "categories")
    venues, venue_problems = _load_taxonomy(papers_dir, papers, "venues")
    problems += cat_problems + venue_problems
    reports_dir = root / docs / REPORTS_DIR
    reports = tuple(sorted(p.stem for p in reports_dir.glob("*.md") if _is_date(p.stem))) if reports_dir.is_dir() else ()

    loaded: list[tuple[str, Source, dict]] = []
    for path in sorted(papers_dir.iterdir()):
        name = path.name
        if name.startswith((".", "_")) or not path.is_file():
            continue
        display = f"{papers}/{name}"
        if path.suffix == ".yml":
            problems.append(Problem(display, 1, 1, "records use the .yaml extension; rename the file", "extension"))
            continue
        if path.suffix != ".yaml":
            continue
        source, data, file_problems = _load_mapping(path, display)
        problems += file_problems
        if data is not None:
            loaded.append((path.stem, source, data))

    all_ids = {stem for stem, _, _ in loaded}
    valid: dict[str, Paper] = {}
    firsts: dict[tuple[str, str], tuple[str, Source]] = {}
    for stem, source, data in loaded:
        mine = _schema_problems(source, data, "paper")
        mine += _record_rules(stem, source, data, categories, venues, reports, all_ids, today, papers, docs)
        for label, key, value in _unique_keys(stem, data):
            if (label, value) in firsts:
                other, _ = firsts[(label, value)]
                line, col = locate(source, (key,)) if key else (1, 1)
                mine.append(Problem(source.path, line, col, f"{label} is the same as in {other}; "
                                    "a paper needs exactly one record", "duplicate"))
            else:
                firsts[(label, value)] = (source.path, source)
        problems += mine
        if not mine:
            valid[stem] = _paper(stem, source.path, data)

    built_on_by: dict[str, list[str]] = {}
    for paper in valid.values():
        for base in paper.builds_on:
            built_on_by.setdefault(base, []).append(paper.id)
    kb = KnowledgeBase(valid, categories, venues, reports,
                       {k: tuple(sorted(v)) for k, v in built_on_by.items()})
    unique = {(p.path, p.line, p.col, p.message): p for p in problems}
    return kb, sorted(unique.values())


def _is_date(text: str) -> bool:
    try:
        _dt.date.fromisoformat(text)
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))
    except ValueError:
        return False


def _unique_keys(stem: str, data: dict) -> Iterable[tuple[str, str | None, str]]:
    yield "the id (ignoring case)", None, stem.lower()
    for key in ("arxiv", "doi"):
        if isinstance(data.get(key), str):
            yield f"{key} '{data[key]}'", key, data[key].lower()
    if isinstance(data.get("title"), str) and data["title"].strip():
        yield "the title", "title", _normal_title(data["title"])


def _record_rules(stem: str, source: Source, data: dict, categories: dict, venues: dict, reports: tuple,
                  all_ids: set[str], today: _dt.date, papers: str, docs: str) -> list[Problem]:
    out: list[Problem] = []

    def add(path: tuple, message: str, rule: str, key: bool = False) -> None:
        line, col = locate(source, path, key=key)
        out.append(Problem(source.path, line, col, message, rule))

    if not ID_PATTERN.match(stem):
        out.append(Problem(source.path, 1, 1, f"file name '{stem}' is not a valid id: use lowercase letters, digits "
                           f"and '-', starting with a letter or digit (e.g. '{_slug(stem)}.yaml')", "id"))
    venue, category, year = data.get("venue"), data.get("category"), data.get("year")
    if isinstance(venue, str) and venues and venue not in venues:
        add(("venue",), f"venue '{venue}' is not a known venue; {_suggest(venue, venues)} "
            f"(venues are listed in {papers}/{VENUES_FILE})", "venue")
    if isinstance(category, str) and categories and category not in categories:
        add(("category",), f"category '{category}' is not a known category; {_suggest(category, categories)} "
            f"(categories are listed in {papers}/{CATEGORIES_FILE})", "category")
    if isinstance(year, int) and not isinstance(year, bool) and year > today.year:
        add(("year",), f"year {year} is in the future (this year is {today.year})", "year")
    read = data.get("read")
    if isinstance(read, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", read):
        if not _is_date(read):
            add(("read",), f"'read' is not a real date: {read}; write YYYY-MM-DD", "read")
        elif read not in reports:
            add(("read",), f"no weekly report for 'read: {read}'; expected {docs}/{REPORTS_DIR}/{read}.md", "read")
    bases = data.get("builds_on")
    if isinstance(bases, list):
        for i, base in enumerate(bases):
            if base == stem:
                add(("builds_on", i), "'builds_on' names the paper itself", "builds-on")
            elif isinstance(base, str) and base not in all_ids:
                close = difflib.get_close_matches(base, sorted(all_ids), n=1)
                fix = f"; did you mean '{close[0]}'?" if close else ""
                add(("builds_on", i), f"'builds_on' names unknown paper '{base}' (no {papers}/{base}.yaml){fix}", "builds-on")
    for name in _TEXT_FIELDS + ("authors",):
        value = data.get(name)
        for i, text in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(text, str) and (m := _RAW_HTML.search(text)):
                where = (name, i) if isinstance(value, list) else (name,)
                add(where, f"'{name}' contains raw HTML or a script URL ({m.group(0)!r}); write plain text or Markdown",
                    "raw-html")
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "paper"


def _paper(stem: str, path: str, data: dict) -> Paper:
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Paper(id=stem, path=path, **fields)
