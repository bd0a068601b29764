"""``litnotes links``: check the external URLs of the records and of the Markdown under docs/.

Gathering is pure: records and Markdown become ``{url: [Place, ...]}``.  The
checking rules (HEAD then GET, retries, redirects, limits) live in
:mod:`litnotes.links.http`; this module adds the cache and the output formats.

Only ``ok`` and ``redirect`` results are cached (default ``.cache/links.json``,
seven days): a broken URL is asked again on every run, so a fix shows at once.
Problems are reported like ``litnotes check``'s (:func:`litnotes.problems.format_problems`):
``FILE:LINE:COL: error: link URL is broken: ...``, with the same formats and exit codes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from litnotes.links.http import STATUSES, Checker, Options, Result, is_http_url
from litnotes.problems import EXIT_INCOMPLETE, FORMATS, Problem, format_problems
from litnotes.records.load import Source, locate, read_source
from litnotes.records.model import KnowledgeBase, arxiv_url, doi_url
from litnotes.site.fences import code_lines

__all__ = [
    "COMMAND_LINE",
    "DEFAULT_CACHE",
    "Place",
    "add_arguments",
    "arxiv_url",
    "doi_url",
    "gather_links",
    "link_problems",
    "links_in_markdown",
    "links_in_records",
    "run_links",
]

DEFAULT_CACHE = ".cache/links.json"
_CACHE_VERSION = 1
_DAY = 86400.0


@dataclass(frozen=True, order=True)
class Place:
    """Where a URL was found: a path relative to the root, 1-based line and column."""

    path: str
    line: int
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


# --- gathering -----------------------------------------------------------------------------------

# ASCII only: prose in Chinese runs straight on after a URL (见https://x.org/。). No brackets,
# so that the text of [https://x.org](https://x.org) stops where the text does.
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]"
_LINK = re.compile(
    r"\]\(\s*<(?P<angle>https?://[^>\s]+)>"  # [text](<url>)
    r"|\]\(\s*(?P<inline>https?://(?:[^\s()]|\([^\s()]*\))+)"  # [text](url "title"), one level of parens
    r"|<(?P<auto>https?://[^>\s]+)>"  # <url>
    rf"|(?P<bare>https?://{_URL_CHARS}+)",
    re.IGNORECASE,
)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_TRAILING = ".,;:!?*_'"


def links_in_markdown(text: str, path: str) -> list[tuple[str, Place]]:
    """External links of a Markdown text: ``[text](url)``, ``<url>`` and bare URLs, outside code."""
    found: list[tuple[str, Place]] = []
    lines = text.splitlines()
    for number, (line, code) in enumerate(zip(lines, code_lines(lines), strict=True), 1):
        if code:
            continue
        # Blank out code spans; same length, so columns stay right.
        line = _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)
        for match in _LINK.finditer(line):
            kind = match.lastgroup or "bare"
            url = match.group(kind)
            if kind == "bare":
                url = _trim_bare(url)
            found.append((url, Place(path, number, match.start(kind) + 1)))
    return found


def _trim_bare(url: str) -> str:
    """Drop what prose puts after a URL: punctuation, emphasis, an unbalanced closing parenthesis."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


_URL_FIELDS = ("url", "code")
_MARKDOWN_FIELDS = ("summary", "notes")


def links_in_records(kb: KnowledgeBase, root: Path) -> list[tuple[str, Place]]:
    """The URLs of every record: ``url``, ``code``, the DOI and arXiv links, and links in the Markdown fields."""
    found: list[tuple[str, Place]] = []
    for paper in sorted(kb.papers.values(), key=lambda p: p.path):
        fields: list[tuple[str, str]] = [(name, getattr(paper, name)) for name in _URL_FIELDS if getattr(paper, name)]
        if paper.doi:
            fields.append(("doi", doi_url(paper.doi)))
        if paper.arxiv:
            fields.append(("arxiv", arxiv_url(paper.arxiv)))
        texts = [(name, getattr(paper, name)) for name in _MARKDOWN_FIELDS if getattr(paper, name)]
        if not fields and not any(_LINK.search(text) for _, text in texts):
            continue
        source = read_source(root / paper.path, paper.path)
        for name, url in fields:
            line, col = locate(source, (name,))
            found.append((url, Place(paper.path, line, col)))
        for name, text in texts:
            start, _ = locate(source, (name,))
            previous: dict[str, Place] = {}
            for url, inside in links_in_markdown(text, paper.path):
                previous[url] = _place_in(source, url, start + inside.line - 1, previous.get(url))
                found.append((url, previous[url]))
    return found


def _place_in(source: Source, url: str, start: int, after: Place | None) -> Place:
    """Where ``url`` next occurs in the file, at or after line ``start`` and past ``after``.

    Line n of a YAML string is on line ``field + n - 1`` of the file or later
    (a block scalar starts below its key; folding only joins lines).
    """
    lines = source.text.splitlines()
    if after:
        start = max(start, after.line)
    for number in range(start, len(lines) + 1):
        col = lines[number - 1].find(url, after.col if after and after.line == number else 0)
        if col >= 0:
            return Place(source.path, number, col + 1)
    return after or Place(source.path, start, 1)


def gather_links(root: Path | str = ".", papers: str = "papers",
                 docs: str = "docs") -> tuple[dict[str, list[Place]], list[Problem]]:
    """Every external URL of the records and of ``docs/**/*.md``, with all the places it appears.

    Records with problems are left out (their problems are returned); a missing
    papers folder is a problem with rule ``usage``.
    """
    from litnotes.records.validate import load_knowledge_base

    root = Path(root)
    kb, problems = load_knowledge_base(root, papers, docs)
    if any(p.rule == "usage" for p in problems):
        return {}, problems
    found = links_in_records(kb, root)
    docs_dir = root / docs
    for path in sorted(docs_dir.rglob("*.md")) if docs_dir.is_dir() else []:
        display = f"{docs}/{path.relative_to(docs_dir).as_posix()}"
        source = read_source(path, display)
        if source.problem:
            problems.append(source.problem)
            continue
        found += links_in_markdown(source.text, display)
    places: dict[str, list[Place]] = {}
    for url, place in found:
        places.setdefault(url, []).append(place)
    return {url: sorted(set(where)) for url, where in places.items()}, problems


# --- cache ---------------------------------------------------------------------------------------

def _load_cache(path: Path, max_age: float, now: float) -> dict[str, dict]:
    """The cache's fresh ok/redirect entries; an unreadable or foreign file counts as empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION or not isinstance(data.get("entries"), dict):
        return {}
    fresh = {}
    for url, entry in data["entries"].items():
        if not isinstance(entry, dict) or entry.get("status") not in ("ok", "redirect"):
            continue
        checked = entry.get("checked")
        if isinstance(checked, (int, float)) and 0 <= now - checked <= max_age:
            fresh[url] = entry
    return fresh


def _from_cache(url: str, entry: dict) -> Result:
    return Result(url, entry["status"], str(entry.get("detail") or ""), entry.get("final"), entry.get("code"),
                  0, cached=True)


def _save_cache(path: Path, fresh: dict[str, dict], results: Iterable[Result], now: float) -> str | None:
    """Write the fresh entries plus this run's ok/redirect results; return an error message, or None."""
    entries = dict(fresh)
    for r in results:
        if r.cached:
            continue
        if r.status in ("ok", "redirect"):
            entries[r.url] = {"status": r.status, "detail": r.detail, "final": r.final, "code": r.code,
                              "checked": now}
        else:
            entries.pop(r.url, None)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"version": _CACHE_VERSION, "entries": dict(sorted(entries.items()))},
                                  ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)  # atomic: an interrupted run leaves the old cache whole
    except OSError as exc:
        return f"could not write the cache {path}: {exc.strerror or exc}"
    return None


# --- output ---------------------------------------------------------------------------------------

COMMAND_LINE = "<command line>"
"""The path of a problem about a URL given as an argument; its line is the URL's position among them."""


def link_problems(results: dict[str, Result], places: dict[str, list[Place]]) -> list[Problem]:
    """One problem per place of every URL that is not fine: the shape ``litnotes check`` prints.

    ``broken`` is an error; ``redirect`` (moved for good) and ``skipped`` (not
    checked within ``--max-time``) are warnings.  A URL given on the command
    line is located at :data:`COMMAND_LINE`, line = its position among the URLs.
    """
    problems = []
    for number, r in enumerate(results.values(), 1):
        if r.status == "broken":
            level, rule, message = "error", "broken-link", f"link {r.url} is broken: {r.detail}; correct or remove it"
        elif r.status == "redirect":
            level, rule = "warning", "moved-link"
            message = f"link {r.url} has moved for good to {r.final}; write the new URL"
        elif r.status == "skipped":
            level, rule = "warning", "link-not-checked"
            message = f"link {r.url} was {r.detail}; run again (answers are cached) or allow more --max-time"
        else:
            continue
        where = places.get(r.url) or [Place(COMMAND_LINE, number, 1)]
        problems += [Problem(p.path, p.line, p.col, message, rule, level) for p in where]
    return problems


class _Progress:
    """A one-line bar on a terminal; silent when the stream is not one (CI logs, pipes)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.drawn = False

    def update(self, done: int, total: int) -> None:
        if not self.enabled or not total:
            return
        width = 30
        filled = width * done // total
        self.stream.write(f"\rchecking links [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()


# --- command line --------------------------------------------------------------------------------

def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got '{text}'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number greater than 0, got '{text}'")
    return value


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more days, got '{text}'")
    return value


def _count(minimum: int):  # type: ignore[no-untyped-def]
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {minimum} or more, got '{text}'")
        return value
    return parse


def _http_url(text: str) -> str:
    if not is_http_url(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not an http(s) URL; write it in full, e.g. https://example.org/")
    return text


_EPILOG = f"""\
prints, like litnotes check, one line per place of each URL that is not fine:
  FILE:LINE:COL: error: link URL is broken: DETAIL; ...
      4xx; 5xx or 429 after the retries; timeout; DNS failure; connection refused;
      too many redirects; a malformed redirect or answer
  FILE:LINE:COL: warning: link URL has moved for good to NEW; ...
      301, 308: write the new URL (302, 303, 307 are the server's business: fine)
  FILE:LINE:COL: warning: link URL was not checked: ...
      --max-time ran out first
URLs given as arguments are located at {COMMAND_LINE}:N:1 (N = their position).
exit status: 0 when no URL is broken, 1 when one is, 2 on a usage error,
{EXIT_INCOMPLETE} when --max-time ended the run before every URL was checked (whatever it found)"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``links`` subcommand's options."""
    defaults = Options()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _EPILOG
    parser.add_argument("urls", nargs="*", metavar="URL", type=_http_url,
                        help="check just these URLs (default: every URL of the records and of docs/)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--timeout", type=_positive_float, default=defaults.timeout, metavar="SECONDS",
                        help=f"time for one request (default: {defaults.timeout:g})")
    parser.add_argument("--retries", type=_count(0), default=defaults.retries, metavar="N",
                        help=f"retries after 429 or 5xx, honouring Retry-After (default: {defaults.retries})")
    parser.add_argument("--concurrency", type=_count(1), default=defaults.concurrency, metavar="N",
                        help=f"requests in flight at once (default: {defaults.concurrency})")
    parser.add_argument("--per-host", type=_count(1), default=defaults.per_host, metavar="N",
                        help=f"requests in flight to one host (default: {defaults.per_host})")
    parser.add_argument("--cache", default=DEFAULT_CACHE, metavar="PATH",
                        help=f"results file, relative to the root (default: {DEFAULT_CACHE})")
    parser.add_argument("--max-age", type=_days, default=7.0, metavar="DAYS",
                        help="reuse cached ok/redirect results younger than this (default: 7)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--max-time", type=_positive_float, default=None, metavar="SECONDS",
                        help="stop after this long: URLs not checked by then are reported as not checked "
                             f"and the exit status is {EXIT_INCOMPLETE} (default: no limit)")


def run_links(args: argparse.Namespace) -> int:
    """Check the links; exit 1 when any is broken, 2 on a usage error, 3 when ``--max-time`` cut the run short."""
    started = time.monotonic()
    root = Path(args.root)
    if args.urls:
        places: dict[str, list[Place]] = {url: [] for url in args.urls}
    else:
        places, problems = gather_links(root, args.papers, args.docs)
        usage = [p for p in problems if p.rule == "usage"]
        if usage:
            print(f"litnotes links: {usage[0].path}: {usage[0].message}", file=sys.stderr)
            return 2
        if problems:
            print(f"litnotes links: {len(problems)} problem(s) in the records or docs/; links of records with "
                  "problems are not checked (litnotes check lists them)", file=sys.stderr)

    cache_path = None if args.no_cache else root / args.cache
    now = time.time()
    fresh = _load_cache(cache_path, args.max_age * _DAY, now) if cache_path else {}
    results = {url: _from_cache(url, fresh[url]) for url in places if url in fresh}
    checker = Checker(Options(timeout=args.timeout, retries=args.retries, concurrency=args.concurrency,
                              per_host=args.per_host))
    limit = getattr(args, "max_time", None)
    progress = _Progress(sys.stderr)
    try:
        results.update(checker.check_all([url for url in places if url not in results], progress.update,
                                          None if limit is None else max(0.0, limit - (time.monotonic() - started))))
    finally:
        progress.close()
    if limit is not None:
        results = {url: replace(r, detail=f"not checked: --max-time {limit:g} s ran out first")
                   if r.status == "skipped" else r for url, r in results.items()}
    results = {url: results[url] for url in places}
    if cache_path:
        error = _save_cache(cache_path, fresh, results.values(), now)
        if error:
            print(f"litnotes links: {error}", file=sys.stderr)

    out = format_problems(link_problems(results, places), args.format)
    if out or args.format == "json":
        print(out)
    counts = {status: sum(r.status == status for r in results.values()) for status in STATUSES}
    if args.format == "text":
        from_cache = sum(r.cached for r in results.values())
        summary = f"{len(results)} link(s): {counts['ok']} ok, {counts['redirect']} redirect, {counts['broken']} broken"
        if counts["skipped"]:
            summary += f", {counts['skipped']} not checked (--max-time {limit:g} s ran out)"
        if from_cache:
            summary += f" ({from_cache} from the cache, {args.cache})"
        print(summary, file=sys.stderr)
    if counts["skipped"]:
        return EXIT_INCOMPLETE
    return 1 if counts["broken"] else 0
