"""`litnotes links` against a local HTTP server: every failure mode, the limits, the cache and the outputs.

No test reaches beyond 127.0.0.1: an autouse fixture turns every other
connection into a DNS failure before any lookup is made.
"""

from __future__ import annotations

import email.utils
import io
import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from litnotes.cli import main
from litnotes.links.http import Checker, Options
from litnotes.links.check import Place, gather_links, links_in_markdown

_LOOPBACK = {"127.0.0.1", "localhost"}


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.create_connection

    def loopback_only(address, *args, **kwargs):  # type: ignore[no-untyped-def]
        if address[0] not in _LOOPBACK:
            raise socket.gaierror(socket.EAI_NONAME, f"the tests resolve no host but 127.0.0.1 ({address[0]})")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", loopback_only)


# --- the server ----------------------------------------------------------------------------------

class _Site(ThreadingHTTPServer):
    """Answers by path; counts requests and how many were in flight at once."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.requests: list[tuple[str, str]] = []
        self.counts: Counter[str] = Counter()
        self.active = self.max_active = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        pass  # a client that hung up on a slow answer is the point of some tests

    def sent(self, path: str) -> list[str]:
        """Methods of the requests for ``path`` (query included), in order."""
        return [method for method, p in self.requests if p == path]


class _Handler(BaseHTTPRequestHandler):
    server: _Site

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer("HEAD")

    def do_GET(self) -> None:
        self._answer("GET")

    def _send(self, code: int, headers: dict[str, str] | None = None) -> None:
        body = f"{code}\n".encode()
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)

    def _answer(self, method: str) -> None:
        site = self.server
        with site.lock:
            site.requests.append((method, self.path))
            site.counts[self.path] += 1
            seen = site.counts[self.path]
        self._route(method, self.path.split("?")[0], seen)

    def _busy(self, seconds: float) -> None:
        """Work for a while, counted as in flight; the count drops before the answer leaves."""
        site = self.server
        with site.lock:
            site.active += 1
            site.max_active = max(site.max_active, site.active)
        site.stop.wait(seconds)
        with site.lock:
            site.active -= 1

    def _route(self, method: str, path: str, seen: int) -> None:
        site = self.server
        moves = {"/old": (301, "/older"), "/older": (308, "/ok"), "/temporary": (302, "/ok"),
                 "/moved-then-temporary": (301, "/temporary"), "/loop": (301, "/loop"),
                 "/moved-to-missing": (301, "/missing"), "/relative": (301, "ok")}
        if path in ("/ok", "/concurrent"):
            if path == "/concurrent":
                self._busy(0.15)
            self._send(200)
        elif path == "/missing":
            self._send(404)
        elif path in moves:
            code, target = moves[path]
            self._send(code, {"Location": target})
        elif path.startswith("/endless/"):
            self._send(301, {"Location": f"/endless/{int(path.rsplit('/', 1)[1]) + 1}"})
        elif path == "/no-head":
            self._send(405 if method == "HEAD" else 200)
        elif path == "/head-forbidden":
            self._send(403 if method == "HEAD" else 200)
        elif path == "/drop-head":
            if method == "GET":
                self._send(200)
            # HEAD: hang up without a word
        elif path == "/busy-once":
            self._send(429, {"Retry-After": "0"}) if seen == 1 else self._send(200)
        elif path == "/busy-1s":
            self._send(429, {"Retry-After": "1"}) if seen == 1 else self._send(200)
        elif path == "/busy-date":
            when = email.utils.formatdate(time.time() + 2, usegmt=True)
            self._send(429, {"Retry-After": when}) if seen == 1 else self._send(200)
        elif path == "/busy":
            self._send(429, {"Retry-After": "0"})
        elif path == "/busy-for-an-hour":
            self._send(429, {"Retry-After": "3600"})
        elif path == "/error":
            self._send(500)
        elif path == "/unavailable-once":
            self._send(503) if seen == 1 else self._send(200)
        elif path == "/slow":
            if not site.stop.wait(5):
                self._send(200)
        elif path == "/trickle":
            # A byte every 0.2 s: no single read times out, the whole answer takes 5 s.
            self.wfile.write(b"HTTP/1.0 200 OK\r\n")
            for _ in range(25):
                if site.stop.wait(0.2):
                    return
                self.wfile.write(b"X")
        else:
            self._send(404)


@pytest.fixture
def site():  # type: ignore[no-untyped-def]
    server = _Site()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.stop.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _checker(**options: float) -> Checker:
    return Checker(Options(**{"timeout": 2.0, "backoff": 0.01, **options}))  # type: ignore[arg-type]


# --- classification ------------------------------------------------------------------------------

def test_ok_is_one_head_request(site: _Site) -> None:
    result = _checker().check(f"{site.base}/ok")
    assert (result.status, result.code, result.detail) == ("ok", 200, "")
    assert site.sent("/ok") == ["HEAD"]


def test_not_found_is_broken_after_asking_with_get_too(site: _Site) -> None:
    result = _checker().check(f"{site.base}/missing")
    assert (result.status, result.detail) == ("broken", "HTTP 404 Not Found")
    assert site.sent("/missing") == ["HEAD", "GET"]


def test_permanent_chain_is_a_redirect_to_its_end(site: _Site) -> None:
    result = _checker().check(f"{site.base}/old")
    assert result.status == "redirect"
    assert result.final == f"{site.base}/ok"
    assert result.detail == f"→ {site.base}/ok"


def test_relative_location_is_resolved(site: _Site) -> None:
    assert _checker().check(f"{site.base}/relative").final == f"{site.base}/ok"


def test_temporary_redirect_is_ok_and_permanent_hops_before_it_count(site: _Site) -> None:
    assert _checker().check(f"{site.base}/temporary").status == "ok"
    result = _checker().check(f"{site.base}/moved-then-temporary")
    assert (result.status, result.final) == ("redirect", f"{site.base}/temporary")


def test_redirect_to_a_missing_page_is_broken(site: _Site) -> None:
    result = _checker().check(f"{site.base}/moved-to-missing")
    assert (result.status, result.detail) == ("broken", f"HTTP 404 Not Found at {site.base}/missing")


def test_redirect_loop_and_endless_chain_are_too_many_redirects(site: _Site) -> None:
    assert _checker().check(f"{site.base}/loop").detail == "too many redirects (a redirect loop)"
    result = _checker(max_redirects=3).check(f"{site.base}/endless/0")
    assert (result.status, result.detail) == ("broken", "too many redirects (more than 3)")
    assert len(site.sent("/endless/3")) == 1 and not site.sent("/endless/4")


def test_head_refused_falls_back_to_get_and_the_host_is_remembered(site: _Site) -> None:
    checker = _checker()
    assert checker.check(f"{site.base}/no-head").status == "ok"
    assert site.sent("/no-head") == ["HEAD", "GET"]
    assert checker.check(f"{site.base}/no-head?again").status == "ok"
    assert site.sent("/no-head?again") == ["GET"]


def test_head_forbidden_or_dropped_falls_back_to_get(site: _Site) -> None:
    assert _checker().check(f"{site.base}/head-forbidden").status == "ok"
    assert site.sent("/head-forbidden") == ["HEAD", "GET"]
    assert _checker().check(f"{site.base}/drop-head").status == "ok"
    assert site.sent("/drop-head") == ["HEAD", "GET"]


def test_429_then_200_is_retried_once(site: _Site) -> None:
    result = _checker().check(f"{site.base}/busy-once")
    assert (result.status, result.attempts) == ("ok", 2)


@pytest.mark.parametrize("path", ["/busy-1s", "/busy-date"])
def test_retry_after_is_waited_for(site: _Site, path: str) -> None:
    start = time.monotonic()
    result = _checker().check(site.base + path)
    assert result.status == "ok"
    assert time.monotonic() - start >= 0.9


@pytest.mark.parametrize("retries", [0, 2])
def test_always_429_gives_up_after_retries_plus_one_tries(site: _Site, retries: int) -> None:
    result = _checker(retries=retries).check(f"{site.base}/busy")
    assert result.status == "broken"
    assert result.detail.startswith("HTTP 429 Too Many Requests")
    assert len(site.sent("/busy")) == retries + 1 == result.attempts
    if retries:
        assert result.detail.endswith(f"(gave up after {retries + 1} tries)")


def test_retry_after_longer_than_the_cap_is_not_waited_out(site: _Site) -> None:
    start = time.monotonic()
    result = _checker().check(f"{site.base}/busy-for-an-hour")
    assert time.monotonic() - start < 1
    assert result.detail == "HTTP 429 Too Many Requests (asked to wait 3600 s, more than 60 s)"
    assert len(site.sent("/busy-for-an-hour")) == 1


def test_server_error_is_retried_with_get_then_broken(site: _Site) -> None:
    result = _checker(retries=2).check(f"{site.base}/error")
    assert (result.status, result.detail) == ("broken", "HTTP 500 Internal Server Error (gave up after 3 tries)")
    assert site.sent("/error") == ["HEAD", "GET", "GET", "GET"]


def test_503_once_is_retried_with_backoff(site: _Site) -> None:
    assert _checker().check(f"{site.base}/unavailable-once").status == "ok"


@pytest.mark.parametrize("path", ["/slow", "/trickle"])
def test_slow_answer_is_a_timeout_within_the_timeout(site: _Site, path: str) -> None:
    start = time.monotonic()
    result = _checker(timeout=0.5).check(site.base + path)
    elapsed = time.monotonic() - start
    assert (result.status, result.detail) == ("broken", "timeout")
    assert elapsed < 0.5 + 1.0
    assert len(site.sent(path)) == 1  # neither retried nor asked again with GET


def test_closed_port_is_connection_refused(closed_port: int) -> None:
    result = _checker().check(f"http://127.0.0.1:{closed_port}/")
    assert (result.status, result.detail) == ("broken", "connection refused")


def test_unknown_host_is_dns_failure() -> None:
    result = _checker().check("https://no-such-host.invalid/")
    assert (result.status, result.detail) == ("broken", "DNS failure")


@pytest.mark.parametrize(("concurrency", "per_host", "expected"), [(8, 2, 2), (8, 3, 3), (1, 4, 1)])
def test_requests_in_flight_are_bounded(site: _Site, concurrency: int, per_host: int, expected: int) -> None:
    urls = [f"{site.base}/concurrent?{i}" for i in range(8)]
    results = _checker(concurrency=concurrency, per_host=per_host).check_all(urls)
    assert [r.status for r in results.values()] == ["ok"] * 8
    assert site.max_active == expected


# --- the command: outputs, exit codes, cache -----------------------------------------------------

def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output_and_exit_codes(site: _Site, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "links", "--no-cache", f"{site.base}/ok", f"{site.base}/old")
    assert code == 0
    assert out.splitlines() == [f"ok       {site.base}/ok", f"redirect {site.base}/old → {site.base}/ok"]
    assert err == "2 link(s): 1 ok, 1 redirect, 0 broken\n"

    code, out, _ = _run(capsys, "links", "--no-cache", f"{site.base}/missing", f"{site.base}/ok")
    assert code == 1
    assert out.splitlines()[0] == f"broken   {site.base}/missing HTTP 404 Not Found"


def test_json_output(site: _Site, capsys: pytest.CaptureFixture[str], closed_port: int) -> None:
    dead = f"http://127.0.0.1:{closed_port}/"
    code, out, _ = _run(capsys, "links", "--no-cache", "--format", "json", f"{site.base}/old", dead)
    assert code == 1
    data = json.loads(out)
    assert [(d["url"], d["status"], d["final"], d["detail"]) for d in data] == [
        (f"{site.base}/old", "redirect", f"{site.base}/ok", f"→ {site.base}/ok"),
        (dead, "broken", None, "connection refused"),
    ]
    assert data[0]["places"] == [] and data[0]["cached"] is False


def test_github_output_annotates_broken_and_moved_links_at_their_place(
        site: _Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _knowledge_base(tmp_path, docs={"guide.md": f"# Guide\n\nSee [this]({site.base}/missing),\n"
                                           f"<{site.base}/old> and {site.base}/ok.\n"})
    code, out, _ = _run(capsys, "--root", str(root), "links", "--no-cache", "--format", "github")
    assert code == 1
    assert out.splitlines() == [
        f"::error file=docs/guide.md,line=3,col=12,title=broken link::{site.base}/missing is broken: HTTP 404 Not Found",
        (f"::warning file=docs/guide.md,line=4,col=2,title=moved link::{site.base}/old redirects permanently to "
         f"{site.base}/ok; write the new URL"),
    ]


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["links", "ftp://example.org/"], ["links", "not a url"], ["links", "--timeout", "0", "http://127.0.0.1/"],
                 ["links", "--retries", "-1", "http://127.0.0.1/"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    assert "'ftp://example.org/' is not an http(s) URL" in capsys.readouterr().err
    code, _, err = _run(capsys, "--root", str(tmp_path), "links", "--no-cache")
    assert code == 2
    assert "papers folder not found" in err


def test_cache_spares_the_second_run_but_not_broken_links(
        site: _Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "links.json"
    urls = [f"{site.base}/ok", f"{site.base}/old", f"{site.base}/missing"]
    first = _run(capsys, "--root", str(tmp_path), "links", "--cache", str(cache), *urls)
    asked = len(site.requests)
    assert first[0] == 1 and asked == 1 + 3 + 2  # /ok HEAD; /old, /older, /ok HEAD; /missing HEAD, GET
    entries = json.loads(cache.read_text())["entries"]
    assert sorted(entries) == [f"{site.base}/ok", f"{site.base}/old"]

    second = _run(capsys, "--root", str(tmp_path), "links", "--cache", str(cache), *urls)
    assert second[1] == first[1]
    assert site.requests[asked:] == [("HEAD", "/missing"), ("GET", "/missing")]
    assert "(2 from the cache" in second[2]

    # Older than --max-age: asked again.
    _run(capsys, "--root", str(tmp_path), "links", "--cache", str(cache), "--max-age", "0", f"{site.base}/ok")
    assert site.requests[-1] == ("HEAD", "/ok")


def test_cache_entries_expire_after_seven_days(site: _Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / ".cache" / "links.json"
    cache.parent.mkdir()
    week = 7 * 86400
    cache.write_text(json.dumps({"version": 1, "entries": {
        f"{site.base}/ok": {"status": "ok", "checked": time.time() - week + 60},
        f"{site.base}/ok?stale": {"status": "ok", "checked": time.time() - week - 60},
    }}))
    _run(capsys, "--root", str(tmp_path), "links", f"{site.base}/ok", f"{site.base}/ok?stale")
    assert site.requests == [("HEAD", "/ok?stale")]


def test_no_cache_neither_reads_nor_writes(site: _Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(2):
        _run(capsys, "--root", str(tmp_path), "links", "--no-cache", f"{site.base}/ok")
    assert len(site.requests) == 2
    assert not (tmp_path / ".cache").exists()


def test_progress_bar_only_on_a_terminal(site: _Site, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = _run(capsys, "links", "--no-cache", f"{site.base}/ok")
    assert "checking links" not in err

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    main(["links", "--no-cache", f"{site.base}/ok"])
    assert f"checking links [{'#' * 30}] 1/1" in terminal.getvalue()
    assert "\r\033[K" in terminal.getvalue()


# --- gathering -----------------------------------------------------------------------------------

_RECORD = """\
title: A Test Paper
authors: [Ada Lovelace]
venue: neurips
year: 2022
category: gap
arxiv: "2107.01691"
doi: "10.1000/xyz(1)<2>"
url: https://example.org/paper
code: https://github.com/example/code
summary: |
  Builds on [the baseline](https://example.org/baseline).
  Also see https://example.org/paper.
notes: >
  Folded, and https://example.org/paper
  again on a later line: https://example.org/paper
"""

_PAGE = """\
# Notes

An [inline link](https://example.org/a "title"), an autolink <https://example.org/b>,
a bare one https://example.org/c. And (https://en.wikipedia.org/wiki/Foo_(bar)).
Chinese prose: 见https://example.org/d。 [reference]: https://example.org/e

`https://example.org/in-code` is an example, as is

```text
https://example.org/in-a-fence
```

Back to prose: **https://example.org/paper**.
"""


def _knowledge_base(tmp_path: Path, records: dict[str, str] | None = None,
                    docs: dict[str, str] | None = None) -> Path:
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "_categories.yaml").write_text("gap:\n  title: Gap\n", encoding="utf-8")
    (papers / "_venues.yaml").write_text("neurips:\n  name: NeurIPS\n  short: NeurIPS\n  kind: conference\n",
                                         encoding="utf-8")
    for name, text in (records or {}).items():
        (papers / name).write_text(text, encoding="utf-8")
    for name, text in (docs or {}).items():
        path = tmp_path / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_links_of_records_and_pages_with_their_places(tmp_path: Path) -> None:
    root = _knowledge_base(tmp_path, {"test2022.yaml": _RECORD}, {"notes/page.md": _PAGE})
    places, problems = gather_links(root)
    assert problems == []
    rec, page = "papers/test2022.yaml", "docs/notes/page.md"
    assert places == {
        "https://arxiv.org/abs/2107.01691": [Place(rec, 6, 8)],
        "https://doi.org/10.1000/xyz(1)%3C2%3E": [Place(rec, 7, 6)],
        "https://example.org/paper": [Place(page, 13, 18), Place(rec, 8, 6), Place(rec, 12, 12), Place(rec, 14, 15),
                                      Place(rec, 15, 26)],
        "https://github.com/example/code": [Place(rec, 9, 7)],
        "https://example.org/baseline": [Place(rec, 11, 28)],
        "https://example.org/a": [Place(page, 3, 18)],
        "https://example.org/b": [Place(page, 3, 63)],
        "https://example.org/c": [Place(page, 4, 12)],
        "https://en.wikipedia.org/wiki/Foo_(bar)": [Place(page, 4, 40)],
        "https://example.org/d": [Place(page, 5, 17)],
        "https://example.org/e": [Place(page, 5, 53)],
    }


def test_url_as_link_text_is_not_run_into_the_target() -> None:
    assert links_in_markdown("[https://a.example/x](https://a.example/x).", "p.md") == [
        ("https://a.example/x", Place("p.md", 1, 2)), ("https://a.example/x", Place("p.md", 1, 23))]


def test_markdown_inside_tilde_fences_and_long_code_spans_is_skipped() -> None:
    text = "~~~~\nhttps://a.example/\n```\nhttps://b.example/\n~~~~\n``x `https://c.example/` y`` https://d.example/\n"
    assert links_in_markdown(text, "p.md") == [("https://d.example/", Place("p.md", 6, 30))]


def test_records_with_problems_are_reported_and_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = _RECORD.replace("venue: neurips", "venue: nips")
    root = _knowledge_base(tmp_path, {"test2022.yaml": broken}, {"page.md": "nothing here\n"})
    code, out, err = _run(capsys, "--root", str(root), "links", "--no-cache")
    assert (code, out) == (0, "")
    assert "links of records with problems are not checked (litnotes check lists them)" in err
