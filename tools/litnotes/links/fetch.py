"""GET a document (an API answer) under the request policy of :mod:`litnotes.links.http`.

`litnotes links` only needs a status line; `litnotes new` needs the body of an
API answer.  Both go through the same :class:`~litnotes.links.http.Checker`, so
the same rules hold: at most ``per_host`` requests in flight to one host, 429
and 5xx retried after ``Retry-After`` (or the doubling backoff) while the host
is paused for everyone, a wait longer than ``max_wait`` not waited out, and a
deadline of ``timeout`` seconds on each whole request.  Redirects are followed
(doi.org answers content negotiation with one to the registration agency).
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from litnotes import LitnotesError
from litnotes.links.http import Checker, _cut_off, _describe, _request_url, _retry_after, is_http_url

__all__ = ["FetchError", "Response", "get"]

_MAX_BODY = 8 * 1024 * 1024  # an API answer for one paper is a few kB; more is not an answer


class FetchError(LitnotesError):
    """No usable answer: ``kind`` is ``timeout``, ``rate-limit``, ``network`` or ``http``; ``code`` the status."""

    def __init__(self, message: str, kind: str, code: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.code = kind, code


@dataclass(frozen=True)
class Response:
    """A final answer (after redirects): status, the URL that gave it, its content type and body."""

    url: str
    status: int
    content_type: str
    body: bytes


def get(checker: Checker, url: str, headers: dict[str, str] | None = None) -> Response:
    """GET ``url`` with ``headers``; any final status is returned, a request without one raises FetchError."""
    current = url
    for _ in range(checker.options.max_redirects + 1):
        if not is_http_url(current):
            raise FetchError(f"cannot request {current!r}: not an http(s) URL", "network")
        response, location = _get_retrying(checker, current, headers or {})
        if response.status in (301, 302, 303, 307, 308) and location:
            current = urljoin(current, location.strip())
            continue
        return response
    raise FetchError(f"too many redirects from {url}", "network")


def _get_retrying(checker: Checker, url: str, headers: dict[str, str]) -> tuple[Response, str | None]:
    options = checker.options
    host = checker._host(urlsplit(url).hostname or "")  # the host limits and pauses are shared
    retried = 0
    while True:
        status, reason, location, content_type, body, retry_after = _request(checker, host, url, headers)
        if status != 429 and not 500 <= status < 600:
            return Response(url, status, content_type, body), location
        if retried >= options.retries:
            if status == 429:
                raise FetchError(f"rate limited by {urlsplit(url).hostname} (HTTP 429) after {retried + 1} tries; "
                                 "try again later", "rate-limit", status)
            return Response(url, status, content_type, body), location
        wait = _retry_after(retry_after)
        if wait is None:
            wait = options.backoff * 2 ** retried
        if wait > options.max_wait:
            raise FetchError(f"{urlsplit(url).hostname} asks to wait {wait:.0f} s (HTTP {status} {reason}); "
                             "try again later", "rate-limit", status)
        with host.lock:
            host.paused_until = max(host.paused_until, time.monotonic() + wait)
        retried += 1


def _request(checker: Checker, host, url: str,  # type: ignore[no-untyped-def]
             headers: dict[str, str]) -> tuple[int, str, str | None, str, bytes, str | None]:
    options = checker.options
    parts = urlsplit(_request_url(url))
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    with host.slots:
        with host.lock:
            pause = host.paused_until - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=options.timeout,
                                               context=checker._tls)
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=options.timeout)
        expired = threading.Event()
        timer = threading.Timer(options.timeout, _cut_off, (conn, expired))
        timer.daemon = True
        timer.start()
        try:
            conn.request("GET", path, headers={"User-Agent": options.user_agent, "Accept-Encoding": "identity",
                                               **headers})
            response = conn.getresponse()
            body = response.read(_MAX_BODY + 1)
            if expired.is_set():
                raise FetchError(f"timeout: {parts.hostname} did not answer within {options.timeout:g} s", "timeout")
            if len(body) > _MAX_BODY:
                raise FetchError(f"the answer from {parts.hostname} is larger than {_MAX_BODY // 2**20} MiB",
                                 "network")
            return (response.status, response.reason, response.getheader("Location"),
                    response.getheader("Content-Type") or "", body, response.getheader("Retry-After"))
        except FetchError:
            raise
        except Exception as exc:
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise FetchError(f"timeout: {parts.hostname} did not answer within {options.timeout:g} s",
                                 "timeout") from exc
            raise FetchError(f"cannot reach {parts.hostname}: {_describe(exc)}", "network") from exc
        finally:
            timer.cancel()
            conn.close()
