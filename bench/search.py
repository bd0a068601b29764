"""What a reader waits for and downloads when searching a built site (issue 15, item 4).

Serves a built site (its static files) on 127.0.0.1 from a thread, opens its
home page in Debian's Chromium (headless, driven by Playwright) and types a
query into Material's search box as a reader does, right after the page has
loaded: the time from the keystroke that completes the query to the first
result in the page.
Each run opens the page in a fresh browser context (no cache), so the search
index is downloaded and built again, as on a reader's first search.

Material fetches ``search/search_index.json`` when a page loads and builds a
lunr index from it in a web worker; a query typed before the worker is ready
waits for it.  So the figure is the index's download, parse and build time
that is left when the reader starts typing, plus the search itself.  On a
litnotes site that file holds the config only, and litnotes' own worker
fetches the prebuilt ``search/litnotes-index.json`` (both are counted).

The keystroke is the last ``input`` event of the search box (the last letter
typed; Material searches on each key), timed in the page
(``performance.now()``), like the moment the first result
(``.md-search-result__item``) is added to the page after it, seen by a
``MutationObserver``: neither Playwright's latency nor its typing speed is in
the figure.  Chinese is typed as inserted text (an input method's commit)
followed by ``End``, a key that changes nothing but sends the ``keyup``
Material searches on.

A site built by Zensical is measured the same way through its own search
(a dialog in a shadow root, ``search.json``).

    .venv/bin/python bench/search.py SITE_DIR [--runs N] [--settle SECONDS] [--query Q ...]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import http.server
import statistics
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "QUERIES",
    "SearchError",
    "first_result_times",
    "search_bytes",
    "serve",
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]

#: What readers type: a paper's short name, a word of an English title, two Chinese words.
QUERIES = ("DIST", "Condensation", "皮尔森", "教师模型")

#: The search data a browser downloads for search, relative to the site: litnotes' worker (Material's
#: page script still fetches search_index.json, now the config only, and the worker fetches the index),
#: Material's own worker, Zensical's.
SEARCH_DATA = (("search/search_index.json", "search/litnotes-index.json"), ("search/search_index.json",),
               ("search.json",))

_HOST = "127.0.0.1"

# Installed before the page's own scripts: when the text in the search box changed (each input
# event once armed, i.e. once the box has the focus) and when result elements were added, both on
# the page's clock.  Zensical's search lives in a shadow root, which the page-wide observer does
# not see: watch() is called on it once it is open.
_PROBE = """
(() => {
  const probe = window.__searchProbe = {inputs: [], results: [], armed: false};
  document.addEventListener("input", () => probe.armed && probe.inputs.push(performance.now()), true);
  probe.watch = (root, selector) => {
    new MutationObserver(() => {
      if (probe.inputs.length && root.querySelector(selector)) probe.results.push(performance.now());
    }).observe(root, {childList: true, subtree: true});
  };
  probe.watch(document, ".md-search-result__item");
})();
"""
# The first result shown after the text was last changed, in seconds from that change.
_LATENCY = """() => {
  const probe = window.__searchProbe, typed = probe.inputs[probe.inputs.length - 1];
  const shown = probe.results.find(t => t >= typed);
  return shown === undefined ? null : (shown - typed) / 1000;
}"""
# Zensical's search: a button opens a dialog in a shadow root, whose results are options of a listbox.
_ZENSICAL_OPEN = """() => {
  const host = document.activeElement;
  if (!host || !host.shadowRoot) return false;
  window.__searchProbe.watch(host.shadowRoot, "[role=listbox] [role=option]");
  return true;
}"""


class SearchError(RuntimeError):
    """The site cannot be searched as measured (no search box, no result, no browser)."""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A closed page drops its pending downloads: not a failure of the site.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve the folder ``site`` on a free local port; yields its base URL (ending in ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = _Server((_HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="search-bench-server", daemon=True)
    thread.start()
    try:
        yield f"http://{_HOST}:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def _search_data(site: Path) -> list[Path]:
    for files in SEARCH_DATA:
        if all((site / rel).is_file() for rel in files):
            return [site / rel for rel in files]
    names = " or ".join(" + ".join(files) for files in SEARCH_DATA)
    raise SearchError(f"{site}: no search index ({names}); build the site with search on")


def search_bytes(site: Path, level: int = 6) -> int:
    """Bytes of the search data a browser downloads (see ``SEARCH_DATA``), each file compressed
    with gzip at ``level``, as a server sends them."""
    return sum(len(gzip.compress(path.read_bytes(), compresslevel=level, mtime=0)) for path in _search_data(site))


def _time_one(browser, base_url: str, query: str, timeout_ms: int, settle: float = 0.0) -> float:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        context.set_default_timeout(timeout_ms)
        # Offline: nothing leaves the machine.
        context.route(lambda url: not url.startswith(base_url), lambda route: route.abort())
        context.add_init_script(_PROBE)
        page = context.new_page()
        page.goto("", wait_until="load")
        if settle:
            page.wait_for_timeout(settle * 1000)
        box = page.locator("input.md-search__input")
        if box.count():
            box.click()
        elif page.locator(".md-search__button").count():  # Zensical
            page.locator(".md-search__button").click()
            page.wait_for_function(_ZENSICAL_OPEN)
        else:
            raise SearchError(f"{base_url}: no search box (input.md-search__input or .md-search__button)")
        page.evaluate("window.__searchProbe.armed = true")
        page.keyboard.type(query)
        # Letters send keyup themselves; CJK text arrives as an input method's commit, without one.
        page.keyboard.press("End")
        return page.wait_for_function(_LATENCY).json_value()
    finally:
        context.close()


def first_result_times(site: Path, queries: Sequence[str] = QUERIES, runs: int = 5, *, settle: float = 0.0,
                       executable: str = CHROMIUM, timeout_ms: int = 30_000) -> dict[str, list[float]]:
    """Seconds from the keystroke that completes the query to the first result shown, per query, per run.

    Runs are interleaved (each round types every query once), each in a fresh
    context on a freshly loaded home page, so every run pays for the index.
    Typing starts when the page has loaded, or ``settle`` seconds later (a
    reader who reads first: with enough, the index is ready and only the
    search itself is timed).
    """
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise SearchError("the playwright package is not installed (it is in the test extra)") from exc
    times: dict[str, list[float]] = {q: [] for q in queries}
    with serve(site) as base_url, sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            raise SearchError(f"cannot start Chromium at {executable}: {exc}") from exc
        try:
            # One unmeasured search first: the browser's own start-up (disk cache, fonts) is not the site's.
            _time_one(browser, base_url, queries[0], timeout_ms, settle)
            for _ in range(runs):
                for q in queries:
                    try:
                        times[q].append(_time_one(browser, base_url, q, timeout_ms, settle))
                    except PlaywrightError as exc:
                        raise SearchError(f"searching {q!r} on {site} showed no result: {exc}") from exc
        finally:
            browser.close()
    return times


def _seconds(samples: Sequence[float]) -> str:
    med = statistics.median(samples)
    return f"{med * 1000:.0f} ms ({min(samples) * 1000:.0f}–{max(samples) * 1000:.0f})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="a built site folder (mkdocs build -d SITE)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait after the page has loaded before typing (default: 0)")
    parser.add_argument("--query", action="append", help="a query to type (repeatable); default: "
                        + ", ".join(QUERIES))
    args = parser.parse_args(argv)
    try:
        size = search_bytes(args.site)
        raw = sum(path.stat().st_size for path in _search_data(args.site))
        print(f"search data: {raw / 1e6:.2f} MB, {size / 1e6:.3f} MB gzip -6 ({size} bytes)")
        times = first_result_times(args.site, args.query or QUERIES, args.runs, settle=args.settle)
    except SearchError as exc:
        print(f"bench/search.py: {exc}", file=sys.stderr)
        return 1
    every = [t for samples in times.values() for t in samples]
    for q, samples in times.items():
        print(f"first result, {q}: {_seconds(samples)} over {len(samples)} runs")
    print(f"first result, all queries: {_seconds(every)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
