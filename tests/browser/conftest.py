"""The real site, built once, served on 127.0.0.1 and read by a real Chromium.

Debian's ``chromium`` is driven through Playwright's Python package with
``executable_path``: Playwright's own browser download is not available here.
Without Chromium the tests are skipped, except under ``LITNOTES_CI=1``
(set by ``.ci/run``), where a missing browser is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
HOST = "127.0.0.1"

# Flags measured to run Debian's Chromium headless as root with no stray network traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where .ci/run has installed the browser."""
    if os.environ.get("LITNOTES_CI") == "1":
        pytest.fail(f"{reason} (LITNOTES_CI=1: the browser tests must run in CI)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = _chromium()
    if path is None:
        _unavailable("Chromium not found at /usr/bin/chromium or on PATH; "
                     "install it with `make ci-deps` (apt: chromium fonts-noto-cjk) to run the browser tests")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed; run `make setup` (it is in the test extra)")
    return path


@pytest.fixture(scope="session")
def site_dir(chromium_executable, tmp_path_factory) -> Path:
    """The site built from the repository, as `make build` builds it (strict, never quiet)."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                            check=False, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed (exit {result.returncode}):\n{result.stderr[-4000:]}",
                    pytrace=False)
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A page that navigates away drops its pending downloads: not a failure of the site.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def base_url(site_dir) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = _Server((HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    yield f"http://{HOST}:{server.server_port}/"
    server.shutdown()
    server.server_close()


@dataclass
class Traffic:
    """Everything the pages did, across the whole session: (page URL, detail) pairs."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[tuple[str, str]] = field(default_factory=list)
    failed_responses: list[tuple[str, str]] = field(default_factory=list)

    @staticmethod
    def is_local(url: str) -> bool:
        """Whether a request stays on the machine: the test server, or data the page made itself."""
        parts = urlsplit(url)
        return parts.scheme in ("data", "blob", "about") or parts.hostname == HOST

    def watch(self, page) -> None:
        page.on("request", lambda r: self.requests.append((page.url, r.url)))
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(
            (page.url, f"{m.text} ({m.location.get('url', '')})")))
        page.on("pageerror", lambda e: self.page_errors.append((page.url, str(e))))
        page.on("response", lambda r: r.status >= 400 and self.failed_responses.append(
            (page.url, f"{r.status} {r.url}")))


@pytest.fixture(scope="session")
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture(scope="session")
def browser(chromium_executable) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def open_page(browser, base_url, traffic):
    """A function that opens a page in a fresh context (no stored palette, no cache), recorded in `traffic`.

    Requests that would leave 127.0.0.1 are recorded, then aborted, so that the
    tests never depend on the network and never wait on it. The caller closes
    ``page.context``.
    """
    def open_page(**context_options):
        options = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN", **context_options}
        context = browser.new_context(base_url=base_url, **options)
        context.set_default_timeout(10_000)
        context.route(lambda url: not Traffic.is_local(url), lambda route: route.abort())
        page = context.new_page()
        traffic.watch(page)
        return page

    return open_page


@pytest.fixture
def new_page(open_page):
    """Like `open_page`, closed after the test."""
    pages = []

    def new(**context_options):
        pages.append(open_page(**context_options))
        return pages[-1]

    yield new
    for page in pages:
        page.context.close()


@pytest.fixture
def page(new_page):
    """A desktop-sized page (1280×800)."""
    return new_page()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def kb():
    """The records the site was built from, to know what the pages must show."""
    from litnotes.records.validate import load_knowledge_base

    knowledge_base, _ = load_knowledge_base(ROOT)
    return knowledge_base
