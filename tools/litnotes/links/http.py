"""Check HTTP(S) URLs politely: bounded concurrency, per-host limits, retries that honour Retry-After.

The rules, in the order a URL meets them:

* **HEAD first.**  A HEAD answered with 4xx or 5xx (other than 429), or a
  connection the server drops, is asked again with GET: many servers refuse or
  mishandle HEAD.  A host that answered 405 or 501 is asked with GET from then on.
* **Retries.**  429 and 5xx are retried up to ``retries`` times, waiting as long
  as ``Retry-After`` says (seconds or an HTTP date) or else ``backoff`` seconds,
  doubled on each retry.  A wait longer than ``max_wait`` is not waited out: the
  URL is reported broken at once.  While a host asks to wait, no request goes to it.
* **Redirects** are followed here, not by a library, so that the chain is known.
  A chain that starts with permanent redirects (301, 308) means the URL has moved
  for good: the result is ``redirect`` with the URL those hops lead to.  A
  temporary redirect (302, 303, 307) is the server's own business (a DOI resolving
  to a publisher, a login page, a mirror), so it is ``ok`` and the address before
  it is the one to keep.  A DOI is right when doi.org resolves it, so the
  publisher's page behind it is not asked.
* **Timeouts** bound a whole request, not just each socket read: a server that
  trickles bytes is cut off at ``timeout`` seconds.  Timeouts are not retried.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import http.client
import itertools
import queue
import socket
import ssl
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from email.message import Message
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from litnotes import __version__

__all__ = ["STATUSES", "USER_AGENT", "Checker", "Options", "Result", "is_http_url"]

STATUSES = ("ok", "redirect", "broken", "skipped")
USER_AGENT = f"litnotes/{__version__} (link checker for a literature-notes site; Python http.client)"

_PERMANENT = {301, 308}
_REDIRECTS = {301, 302, 303, 307, 308}
# Resolvers whose redirect is the answer: the identifier exists.
_RESOLVERS = {"doi.org", "dx.doi.org"}
_HEAD_DROPPED = {"connection closed without a response", "connection reset"}


@dataclass(frozen=True)
class Options:
    """How hard and how long to try; the defaults suit a weekly run over a few hundred URLs."""

    timeout: float = 10.0  # seconds for one whole request
    retries: int = 3  # retries after a 429 or 5xx; at most retries + 1 tries of one URL
    concurrency: int = 8  # requests in flight at once
    per_host: int = 2  # requests in flight to one host
    max_redirects: int = 10
    backoff: float = 1.0  # first wait before a retry without Retry-After, doubled each time
    max_wait: float = 60.0  # a longer Retry-After gives up instead of waiting
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class Result:
    """What one URL turned out to be.

    ``final`` is set for ``redirect``: the URL to write instead.  ``detail`` says
    why a URL is broken (``HTTP 404``, ``timeout``, ``DNS failure``, ...).
    ``attempts`` counts the requests sent, redirects and retries included.
    """

    url: str
    status: str
    detail: str = ""
    final: str | None = None
    code: int | None = None
    attempts: int = 0
    cached: bool = False


class _Failure(Exception):
    """A request that got no HTTP answer; the message is the user-facing detail."""


@dataclass
class _Host:
    slots: threading.BoundedSemaphore
    paused_until: float = 0.0
    head_refused: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Answer:
    code: int
    headers: Message
    note: str = ""


class Checker:
    """Checks URLs with the rules in the module docstring; one instance per run shares the host limits."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()
        self._tls = ssl.create_default_context()
        self._stopping = threading.Event()
        self._active: set[tuple[http.client.HTTPConnection, threading.Event]] = set()

    def check_all(self, urls: Iterable[str], progress: Callable[[int, int], None] | None = None,
                  time_limit: float | None = None) -> dict[str, Result]:
        """Check each distinct URL once; ``progress(done, total)`` is called from this thread.

        With ``time_limit`` (seconds), the run stops when it is used up: requests
        in flight are cut off, nobody waits out a Retry-After, and every URL
        without an answer by then is ``skipped``.  One URL's failure, whatever
        its cause, is that URL's ``broken`` result; it never ends the run.
        """
        unique = list(dict.fromkeys(urls))
        deadline = None if time_limit is None else time.monotonic() + time_limit
        todo: queue.SimpleQueue[str] = queue.SimpleQueue()
        for url in _interleave_hosts(unique):
            todo.put(url)
        answers: queue.SimpleQueue[tuple[str, Result]] = queue.SimpleQueue()

        def work() -> None:
            while not self._stopping.is_set():
                try:
                    url = todo.get_nowait()
                except queue.Empty:
                    return
                answers.put((url, self.check(url)))

        # Daemon threads, not an executor: at the time limit the run returns at once, and a
        # request still connecting (which no socket shutdown reaches) does not hold up the exit.
        for i in range(min(max(1, self.options.concurrency), len(unique))):
            threading.Thread(target=work, name=f"litnotes-links-{i}", daemon=True).start()
        results: dict[str, Result] = {}
        if progress:
            progress(0, len(unique))
        try:
            while len(results) < len(unique):
                wait = None if deadline is None else deadline - time.monotonic()
                if wait is not None and wait <= 0:
                    break
                try:
                    url, result = answers.get(timeout=wait)
                except queue.Empty:
                    break
                results[url] = result
                if progress:
                    progress(len(results), len(unique))
        finally:
            # Ctrl-C or the time limit: no new requests, and no one sleeps out a Retry-After.
            if len(results) < len(unique):
                self.stop()
        skipped = Result("", "skipped", f"not checked: the run used up its time limit ({time_limit or 0:g} s)")
        return {url: results.get(url) or replace(skipped, url=url) for url in unique}

    def stop(self) -> None:
        """End the run: cut off the requests in flight and start no new ones."""
        self._stopping.set()
        with self._lock:
            active = list(self._active)
        for conn, expired in active:
            _cut_off(conn, expired)

    def check(self, url: str) -> Result:
        """Follow ``url`` to an answer and classify it; any failure is a ``broken`` result, never an exception."""
        try:
            return self._follow(url)
        except Exception as exc:  # one URL's surprise must not end the run
            return Result(url, "broken", f"could not be checked ({type(exc).__name__}: {exc})")

    def _follow(self, url: str) -> Result:
        if not is_http_url(url):
            return Result(url, "broken", "not an http(s) URL")
        attempts = [0]
        current, moved_to, permanent_so_far = _request_url(url), None, True
        seen = {current}
        for _ in range(self.options.max_redirects + 1):
            try:
                answer = self._fetch(current, attempts)
            except _Failure as exc:
                where = "" if current == _request_url(url) else f" at {current}"
                return Result(url, "broken", f"{exc}{where}", attempts=attempts[0])
            code = answer.code
            location = answer.headers.get("Location")
            if code in _REDIRECTS and location:
                try:
                    target = urljoin(current, location.strip())
                    urlsplit(target).port  # noqa: B018 - raises for a port out of range
                except ValueError as exc:
                    return Result(url, "broken", f"redirects to a malformed URL {_shown(location)} ({exc})",
                                  code=code, attempts=attempts[0])
                if urlsplit(current).hostname in _RESOLVERS:
                    return Result(url, "ok", f"resolves to {target}", code=code, attempts=attempts[0])
                if not is_http_url(target):
                    return Result(url, "broken", f"redirects to unsupported URL {_shown(target)}", code=code,
                                  attempts=attempts[0])
                if code in _PERMANENT and permanent_so_far:
                    moved_to = target
                    fragment = urlsplit(url).fragment
                    if fragment and not urlsplit(target).fragment:
                        moved_to = f"{target}#{fragment}"
                else:
                    permanent_so_far = False
                current = _request_url(target)
                if current in seen:
                    return Result(url, "broken", "too many redirects (a redirect loop)", code=code,
                                  attempts=attempts[0])
                seen.add(current)
                continue
            if 200 <= code < 300:
                if moved_to and moved_to != url:
                    return Result(url, "redirect", f"→ {moved_to}", final=moved_to, code=code, attempts=attempts[0])
                return Result(url, "ok", code=code, attempts=attempts[0])
            reason = http.client.responses.get(code, "")
            detail = f"HTTP {code}" + (f" {reason}" if reason else "")
            if answer.note:
                detail += f" ({answer.note})"
            if current != _request_url(url):
                detail += f" at {current}"
            return Result(url, "broken", detail, code=code, attempts=attempts[0])
        return Result(url, "broken", f"too many redirects (more than {self.options.max_redirects})",
                      attempts=attempts[0])

    def _host(self, name: str) -> _Host:
        with self._lock:
            if name not in self._hosts:
                self._hosts[name] = _Host(threading.BoundedSemaphore(max(1, self.options.per_host)))
            return self._hosts[name]

    def _fetch(self, url: str, attempts: list[int]) -> _Answer:
        """One URL's answer, after the HEAD-to-GET fallback and the retries."""
        host = self._host(urlsplit(url).hostname or "")
        method = "GET" if host.head_refused else "HEAD"
        retried = 0
        while True:
            attempts[0] += 1
            try:
                code, headers = self._request(host, method, url)
            except _Failure as exc:
                # Some servers drop a HEAD without answering.
                if method == "HEAD" and str(exc) in _HEAD_DROPPED:
                    method = "GET"
                    continue
                raise
            if method == "HEAD" and code >= 400 and code != 429:
                if code in (405, 501):
                    host.head_refused = True
                method = "GET"
                continue
            if code != 429 and not 500 <= code < 600:
                return _Answer(code, headers)
            if retried >= self.options.retries:
                return _Answer(code, headers, f"gave up after {retried + 1} tries" if retried else "")
            wait = _retry_after(headers.get("Retry-After"))
            if wait is None:
                wait = self.options.backoff * 2 ** retried
            if wait > self.options.max_wait:
                return _Answer(code, headers, f"asked to wait {wait:.0f} s, more than {self.options.max_wait:.0f} s")
            with host.lock:
                host.paused_until = max(host.paused_until, time.monotonic() + wait)
            retried += 1

    def _request(self, host: _Host, method: str, url: str) -> tuple[int, Message]:
        """Send one request and read only the status line and headers."""
        parts = urlsplit(url)
        path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        with host.slots:
            with host.lock:
                pause = host.paused_until - time.monotonic()
            if pause > 0 and self._stopping.wait(pause):
                raise _Failure("cancelled")
            conn: http.client.HTTPConnection
            try:  # the host is checked here (a space or control character in it)
                if parts.scheme == "https":
                    conn = http.client.HTTPSConnection(parts.hostname or "", parts.port,
                                                       timeout=self.options.timeout, context=self._tls)
                else:
                    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=self.options.timeout)
            except (http.client.HTTPException, ValueError) as exc:
                raise _Failure(_describe(exc)) from exc
            expired = threading.Event()
            timer = threading.Timer(self.options.timeout, _cut_off, (conn, expired))
            timer.daemon = True
            timer.start()
            with self._lock:
                self._active.add((conn, expired))
            try:
                if self._stopping.is_set():
                    raise _Failure("cancelled")
                conn.request(method, path, headers={
                    "User-Agent": self.options.user_agent,
                    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                    "Accept-Encoding": "identity",
                })
                response = conn.getresponse()
                if expired.is_set():  # headers cut short by the deadline can still parse
                    raise _Failure("timeout")
                return response.status, response.msg
            except _Failure:
                raise
            except Exception as exc:
                if expired.is_set():
                    raise _Failure("timeout") from exc
                raise _Failure(_describe(exc)) from exc
            finally:
                timer.cancel()
                with self._lock:
                    self._active.discard((conn, expired))
                conn.close()


def _cut_off(conn: http.client.HTTPConnection, expired: threading.Event) -> None:
    """Make a blocked read return now: the whole request has used its time."""
    expired.set()
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _describe(exc: BaseException) -> str:
    """A short, stable name for a failed request."""
    if isinstance(exc, socket.gaierror):
        return "DNS failure"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return "timeout"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate error: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed without a response"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, http.client.InvalidURL):
        return f"invalid URL ({exc})"
    if isinstance(exc, http.client.HTTPException):
        return f"invalid HTTP response ({type(exc).__name__})"
    if isinstance(exc, UnicodeError):
        return "invalid host name"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def _shown(text: str, limit: int = 200) -> str:
    """A header value quoted for a message: control characters escaped, long values cut."""
    text = text if len(text) <= limit else text[:limit] + "…"
    return repr(text)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return max(0.0, (when - _dt.datetime.now(_dt.UTC)).total_seconds())


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host that can be sent as it is written."""
    try:
        parts = urlsplit(url)
        _request_url(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _request_url(url: str) -> str:
    """The URL as sent: no fragment, host in IDNA, path and query percent-encoded where they are not ASCII."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    with contextlib.suppress(UnicodeError):  # left as it is: sending it then fails with "invalid host name"
        host = host.encode("idna").decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    safe = "/%:@!$&'()*+,;=-._~"
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe=safe),
                       quote(parts.query, safe=safe + "?"), ""))


def _interleave_hosts(urls: list[str]) -> list[str]:
    """Round-robin over hosts, so the pool's workers are not all queued behind one host's limit."""
    by_host: dict[str, list[str]] = defaultdict(list)
    for url in urls:
        by_host[urlsplit(url).hostname or ""].append(url)
    rounds = itertools.zip_longest(*by_host.values())
    return [url for batch in rounds for url in batch if url is not None]


