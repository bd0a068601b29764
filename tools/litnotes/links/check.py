"""``litnotes links``: check the external URLs of the records and of the Markdown under docs/.

Gathering is pure: records and Markdown become ``{url: [Place, ...]}``.  The
checking rules (HEAD then GET, retries, redirects, limits) live in
:mod:`litnotes.links.http`; this module adds the cache and the output formats.

Only ``ok`` and ``redirect`` results are cached (default ``.cache/links.json``,
seven days): a broken URL is asked again on every run, so a fix shows at once.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from litnotes.links.http import Checker, Options, Result, is_http_url
from litnotes.records.load import Source, locate, read_source
from litnotes.records.model import KnowledgeBase, arxiv_url, doi_url
from litnotes.problems import FORMATS, Problem
from litnotes.site.fences import code_lines

__all__ = [
    "DEFAULT_CACHE",
    "Place",
    "add_arguments",
    "arxiv_url",
    "doi_url",
    "format_results",
    "gather_links",
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
    for number, (line, code) in enumerate(zip(lines, code_lines(lines)), 1):
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
    while url and (url[-1] in _TRAILING or url[-1] == ")" and url.count("(") < url.count(")")):
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


# --- output --------------------------------------------------------------------------------------

def _ordered(results: dict[str, Result], places: dict[str, list[Place]]) -> list[Result]:
    """By first place (records and pages in file order); URLs given as arguments keep their order."""
    index = {url: i for i, url in enumerate(results)}
    nowhere = [Place("", 0, 0)]
    return sorted(results.values(), key=lambda r: ((places.get(r.url) or nowhere)[0], index[r.url]))


def _text_line(r: Result, where: list[Place]) -> str:
    line = f"{r.status:<8} {r.url}"
    if r.detail:
        line += f" {r.detail}"
    if where:
        line += " in " + ", ".join(dict.fromkeys(str(p) for p in where))  # one mention per line
    return line


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github_lines(r: Result, where: list[Place]) -> list[str]:
    if r.status == "broken":
        level, title, message = "error", "broken link", f"{r.url} is broken: {r.detail}"
    elif r.status == "redirect":
        level, title = "warning", "moved link"
        message = f"{r.url} redirects permanently to {r.final}; write the new URL"
    else:
        return []
    message = _escape_data(message)
    if not where:
        return [f"::{level} title={title}::{message}"]
    return [f"::{level} file={_escape_property(p.path)},line={p.line},col={p.col},title={title}::{message}"
            for p in where]


def format_results(results: dict[str, Result], places: dict[str, list[Place]], fmt: str = "text") -> str:
    """Render results in one of :data:`litnotes.problems.FORMATS`.

    ``text``: one line per URL, ``STATUS URL [detail] in file:line, ...``;
    ``json``: a list of objects; ``github``: workflow annotations for broken and moved links.
    """
    ordered = _ordered(results, places)
    if fmt == "json":
        return json.dumps([{**asdict(r), "places": [asdict(p) for p in places.get(r.url, [])]} for r in ordered],
                          ensure_ascii=False, indent=2)
    if fmt == "github":
        return "\n".join(line for r in ordered for line in _github_lines(r, places.get(r.url, [])))
    return "\n".join(_text_line(r, places.get(r.url, [])) for r in ordered)


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


_EPILOG = """\
one line per URL: STATUS URL [detail] in FILE:LINE, ...
  ok        answered 2xx; a temporary redirect (302, 303, 307) is the server's business
  redirect  moved for good (301, 308): write the URL after the arrow instead
  broken    4xx; 5xx or 429 after the retries; timeout; DNS failure; connection refused;
            too many redirects
exit status: 0 when no URL is broken, 1 when one is, 2 on a usage error"""


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


def run_links(args: argparse.Namespace) -> int:
    """Check the links; exit 1 when any is broken, 2 on a usage error, else 0."""
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
    progress = _Progress(sys.stderr)
    try:
        results.update(checker.check_all([url for url in places if url not in results], progress.update))
    finally:
        progress.close()
    results = {url: results[url] for url in places}
    if cache_path:
        error = _save_cache(cache_path, fresh, results.values(), now)
        if error:
            print(f"litnotes links: {error}", file=sys.stderr)

    out = format_results(results, places, args.format)
    if out or args.format == "json":
        print(out)
    counts = {status: sum(r.status == status for r in results.values()) for status in ("ok", "redirect", "broken")}
    if args.format == "text":
        from_cache = sum(r.cached for r in results.values())
        summary = f"{len(results)} link(s): {counts['ok']} ok, {counts['redirect']} redirect, {counts['broken']} broken"
        if from_cache:
            summary += f" ({from_cache} from the cache, {args.cache})"
        print(summary, file=sys.stderr)
    return 1 if counts["broken"] else 0
