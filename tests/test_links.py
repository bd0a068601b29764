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
from litnotes.links.check import Place, gather_links, links_in_markdown
from litnotes.links.http import Checker, Options

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
        elif path == "/busy-30s":
            self._send(429, {"Retry-After": "30"})
        elif path == "/bad-location":
            self._send(301, {"Location": "http://[::1/x"})
        elif path == "/port-out-of-range":
            self._send(302, {"Location": "http://127.0.0.1:99999/"})
        elif path == "/raw-bytes-location":
            # Not UTF-8, not even text: http.client reads header bytes as Latin-1.
            self.wfile.write(b"HTTP/1.1 301 Moved\r\nLocation: /caf\xe9\xff\x01x\r\nContent-Length: 0\r\n\r\n")
        elif path == "/garbage":
            self.wfile.write(b"this is not HTTP at all\r\n\r\n")
        elif path == "/huge-header":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
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


# --- any answer: one URL's failure is that URL's line ------------------------------------------

@pytest.mark.parametrize(("path", "detail"), [
    ("/bad-location", "redirects to a malformed URL 'http://[::1/x' (Invalid IPv6 URL)"),
    ("/port-out-of-range", "redirects to a malformed URL 'http://127.0.0.1:99999/' (Port out of range 0-65535)"),
    ("/garbage", "invalid HTTP response (BadStatusLine)"),
    ("/huge-header", "invalid HTTP response (LineTooLong)"),
])
def test_a_malformed_answer_is_that_urls_broken_result(site: _Site, path: str, detail: str) -> None:
    result = _checker().check(site.base + path)
    assert (result.status, result.detail) == ("broken", detail)


@pytest.mark.parametrize(("url", "detail"), [
    ("https://\u00e4" + "a" * 70 + ".org/", "invalid host name"),
    ("https://exa mple.org/",
     "invalid URL (URL can't contain control characters. 'exa mple.org' (found at least ' '))"),
])
def test_a_url_that_cannot_be_sent_is_broken_with_why(url: str, detail: str) -> None:
    assert (_checker().check(url).status, _checker().check(url).detail) == ("broken", detail)


def test_a_redirect_to_bytes_that_are_not_text_is_followed_percent_encoded(site: _Site) -> None:
    result = _checker().check(f"{site.base}/raw-bytes-location")
    assert result.status == "broken"
    assert result.detail == f"HTTP 404 Not Found at {site.base}/caf%C3%A9%C3%BF%01x"


def test_an_unexpected_error_in_one_url_is_that_urls_broken_line(site: _Site, monkeypatch) -> None:
    real = Checker._follow

    def explode(self, url):  # type: ignore[no-untyped-def]
        if url.endswith("/explode"):
            raise RuntimeError("something nobody foresaw")
        return real(self, url)

    monkeypatch.setattr(Checker, "_follow", explode)
    results = _checker().check_all([f"{site.base}/explode", f"{site.base}/ok"])
    assert [(r.status, r.detail) for r in results.values()] == [
        ("broken", "could not be checked (RuntimeError: something nobody foresaw)"), ("ok", "")]


def test_the_run_survives_a_malformed_location_reports_every_url_and_saves_the_cache(
        site: _Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _knowledge_base(tmp_path, docs={"guide.md": (f"[a]({site.base}/bad-location) [b]({site.base}/ok)\n"
                                                        f"[c]({site.base}/old) [d]({site.base}/garbage)\n")})
    code, out, err = _run(capsys, "--root", str(root), "links")
    assert code == 1
    assert out.splitlines() == [
        (f"docs/guide.md:1:5: error: link {site.base}/bad-location is broken: redirects to a malformed URL "
         "'http://[::1/x' (Invalid IPv6 URL); correct or remove it"),
        (f"docs/guide.md:2:5: warning: link {site.base}/old has moved for good to {site.base}/ok; "
         "write the new URL"),
        (f"docs/guide.md:2:{len(site.base) + 15}: error: link {site.base}/garbage is broken: invalid HTTP response "
         "(BadStatusLine); correct or remove it"),
    ]
    assert "Traceback" not in err
    assert err.splitlines()[-1] == "4 link(s): 1 ok, 1 redirect, 2 broken"
    entries = json.loads((root / ".cache" / "links.json").read_text(encoding="utf-8"))["entries"]
    assert sorted(entries) == [f"{site.base}/ok", f"{site.base}/old"]


# --- --max-time: a bound on the whole run --------------------------------------------------------

@pytest.mark.parametrize("path", ["/busy", "/busy-30s", "/slow"])
def test_max_time_stops_on_time_and_reports_what_it_did_not_reach(
        site: _Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str) -> None:
    cache = tmp_path / "links.json"
    busy = [f"{site.base}{path}?{i}" for i in range(4)]
    # Another host name for the same server: the busy host's limits and pauses do not hold these up.
    other = site.base.replace("127.0.0.1", "localhost")
    start = time.monotonic()
    code, out, err = _run(capsys, "--root", str(tmp_path), "links", "--cache", str(cache), "--max-time", "1",
                          "--retries", "1000", "--timeout", "30", f"{other}/ok", f"{other}/missing", *busy)
    elapsed = time.monotonic() - start
    assert 1 <= elapsed < 1.8, elapsed
    assert code == 3
    lines = out.splitlines()
    assert lines[:2] == [
        f"<command line>:2:1: error: link {other}/missing is broken: HTTP 404 Not Found; correct or remove it",
        (f"<command line>:3:1: warning: link {busy[0]} was not checked: --max-time 1 s ran out first; run again "
         "(answers are cached) or allow more --max-time"),
    ]
    assert len(lines) == 1 + len(busy)
    assert err.splitlines()[-1] == (f"6 link(s): 1 ok, 0 redirect, 1 broken, {len(busy)} not checked "
                                    "(--max-time 1 s ran out)")
    # What was checked is kept: the next run asks only the rest.
    assert list(json.loads(cache.read_text(encoding="utf-8"))["entries"]) == [f"{other}/ok"]


def test_max_time_is_no_limit_when_the_run_is_quicker(site: _Site, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "links", "--no-cache", "--max-time", "30", f"{site.base}/ok", f"{site.base}/busy-once")
    assert (code, out) == (0, "")


def test_max_time_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["links", "--max-time", "0", "http://127.0.0.1/"])
    assert exc.value.code == 2
    assert "expected a number greater than 0, got '0'" in capsys.readouterr().err


# --- the command: outputs, exit codes, cache -----------------------------------------------------

def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output_is_checks_shape_and_exit_codes(site: _Site, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "links", "--no-cache", f"{site.base}/ok", f"{site.base}/old")
    assert code == 0
    # A fine URL prints nothing (like a clean record); a moved one is a warning at its place.
    assert out.splitlines() == [(f"<command line>:2:1: warning: link {site.base}/old has moved for good to "
                                f"{site.base}/ok; write the new URL")]
    assert err == "2 link(s): 1 ok, 1 redirect, 0 broken\n"

    code, out, _ = _run(capsys, "links", "--no-cache", f"{site.base}/missing", f"{site.base}/ok")
    assert code == 1
    assert out.splitlines() == [(f"<command line>:1:1: error: link {site.base}/missing is broken: "
                                "HTTP 404 Not Found; correct or remove it")]


def test_json_output_is_checks_json(site: _Site, capsys: pytest.CaptureFixture[str], closed_port: int) -> None:
    dead = f"http://127.0.0.1:{closed_port}/"
    code, out, _ = _run(capsys, "links", "--no-cache", "--format", "json", f"{site.base}/old", dead, f"{site.base}/ok")
    assert code == 1
    assert json.loads(out) == [
        {"path": "<command line>", "line": 1, "col": 1, "level": "warning", "rule": "moved-link",
         "message": f"link {site.base}/old has moved for good to {site.base}/ok; write the new URL"},
        {"path": "<command line>", "line": 2, "col": 1, "level": "error", "rule": "broken-link",
         "message": f"link {dead} is broken: connection refused; correct or remove it"},
    ]
    code, out, _ = _run(capsys, "links", "--no-cache", "--format", "json", f"{site.base}/ok")
    assert (code, json.loads(out)) == (0, [])


def test_github_output_annotates_broken_and_moved_links_at_their_place(
        site: _Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _knowledge_base(tmp_path, docs={"guide.md": f"# Guide\n\nSee [this]({site.base}/missing),\n"
                                           f"<{site.base}/old> and {site.base}/ok.\n"})
    code, out, _ = _run(capsys, "--root", str(root), "links", "--no-cache", "--format", "github")
    assert code == 1
    assert out.splitlines() == [
        (f"::error file=docs/guide.md,line=3,col=12,title=broken-link::link {site.base}/missing is broken: "
         "HTTP 404 Not Found; correct or remove it"),
        (f"::warning file=docs/guide.md,line=4,col=2,title=moved-link::link {site.base}/old has moved for good to "
         f"{site.base}/ok; write the new URL"),
    ]


def test_links_and_check_print_problems_through_one_reporter(
        site: _Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same formatter: a links problem and a check problem have the same shape in every format."""
    from litnotes.links.check import link_problems
    from litnotes.links.http import Result
    from litnotes.problems import format_problems

    root = _knowledge_base(tmp_path, docs={"guide.md": f"[x]({site.base}/missing)\n"})
    for fmt in ("text", "json", "github"):
        code, out, _ = _run(capsys, "--root", str(root), "links", "--no-cache", "--format", fmt)
        result = Result(f"{site.base}/missing", "broken", "HTTP 404 Not Found")
        expected = link_problems({result.url: result}, {result.url: [Place("docs/guide.md", 1, 5)]})
        assert (code, out) == (1, format_problems(expected, fmt) + "\n")


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
