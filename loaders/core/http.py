"""The HTTP client every source uses: base URL, timeouts, retries, rate limits, redaction.

- Reads are retried with exponential backoff and full jitter on timeouts, connection errors,
  5xx, 429/418 (honouring `Retry-After`), malformed or truncated JSON, and "throttled" answers a
  source reports inside an HTTP 200 (Kraken's `EAPI:Rate limit exceeded`) through a body hook.
- `timeout` is a deadline for a whole attempt (connect, headers, body), not only for each read:
  a server that trickles a byte at a time is cut off when it passes, and the attempt is retried
  like any timeout.
- A per-source rate limiter spaces requests (minimum interval) and can be fed usage headers
  (Binance `X-MBX-USED-WEIGHT-1M`).
- Every message this module produces (exceptions, log lines) goes through `Redactor`: secrets the
  client was given and secret-looking query parameters (taapi's `secret=`) never appear in text.
  urllib3's own debug log lines (which contain full URLs) are redacted by a logging filter.

Failures end in `HttpError` (or `SourceError` for an error the source reported), whose message is
one sentence naming the source, the endpoint (without its query string) and what went wrong.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import warnings

warnings.filterwarnings("ignore", message=r"urllib3 \(.*\) or chardet .* doesn't match a supported version")
import requests  # noqa: E402  (after the warning filter: requests warns at import time)
from requests.adapters import HTTPAdapter  # noqa: E402
from urllib3.connection import HTTPConnection, HTTPSConnection  # noqa: E402
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool  # noqa: E402

from db.connection import redact  # noqa: E402  (the one redaction rule of the project)

log = logging.getLogger("loaders.http")

REDACTED = "***"


class HttpError(RuntimeError):
    """A request failed for good (after retries); the message is one redacted sentence."""

    exit_code = 1  # a failed run (db/errors.py)
    status: int | None = None  # the HTTP status of the answer that ended the request, if any
    retry_after: float | None = None  # the Retry-After of that answer (throttled), if any


class SourceError(HttpError):
    """The source answered with an error of its own (bad symbol, bad key …): not retried."""


class Throttled(Exception):
    """Raised by a body hook when a 200 answer says "slow down"; retried after `delay` seconds."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class Redactor:
    """Removes secrets from any text: the given secret values, then whatever `db.connection.redact`
    hides (URL passwords, secret query parameters and JSON fields)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: object) -> str:
        out = str(text)
        for secret in self._secrets:
            out = out.replace(secret, REDACTED)
        return redact(out)


class _RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None
        return True


_GLOBAL_REDACTOR = Redactor()
_FILTER_INSTALLED = False
_FILTER_LOCK = threading.Lock()


def protect_logs(secret: str | None = None) -> None:
    """Redact `secret` (and, always, URL passwords and secret parameters) from the log records of
    the loaders and of urllib3/requests (which log full URLs at DEBUG)."""
    global _FILTER_INSTALLED
    _GLOBAL_REDACTOR.add(secret)
    with _FILTER_LOCK:
        if not _FILTER_INSTALLED:
            for name in ("urllib3", "urllib3.connectionpool", "requests", "loaders", "loaders.http",
                         "loaders.coinbase"):
                logging.getLogger(name).addFilter(_RedactingFilter(_GLOBAL_REDACTOR))
            _FILTER_INSTALLED = True


def endpoint_of(url: str) -> str:
    """The URL without its query string: what messages show."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@dataclass
class RetryPolicy:
    """How reads are retried. Delays in seconds; full jitter: sleep uniform(0, backoff)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class RateLimiter:
    """Spaces requests at least `min_interval` seconds apart; `pause_until` blocks all requests
    until a moment (used for weight budgets and Retry-After)."""

    def __init__(self, min_interval: float = 0.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.min_interval = min_interval
        self._sleep = sleep
        self._next_at = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._next_at - now
            self._next_at = max(now, self._next_at) + self.min_interval
        if wait > 0:
            self._sleep(wait)

    def pause_until(self, monotonic_at: float) -> None:
        with self._lock:
            self._next_at = max(self._next_at, monotonic_at)


class WeightBudget:
    """Binance-style weight accounting from a usage header: when the used weight of the current
    minute nears the limit, pause until the next minute starts."""

    def __init__(self, header: str, limit: int, headroom: float = 0.9,
                 clock: Callable[[], float] = time.time) -> None:
        self.header = header
        self.limit = limit
        self.headroom = headroom
        self.clock = clock
        self.used = 0

    def observe(self, headers: Mapping[str, str], limiter: RateLimiter) -> None:
        value = headers.get(self.header)
        if value is None or not str(value).isdigit():
            return
        self.used = int(value)
        if self.used >= self.limit * self.headroom:
            wall = self.clock()
            wait = 60.0 - (wall % 60.0) + 0.05
            log.info("%s weight %s of %s used this minute: pausing %.1f s", self.header, self.used,
                     self.limit, wait)
            limiter.pause_until(time.monotonic() + wait)


# -- the per-attempt deadline ---------------------------------------------------------------------
# requests/urllib3 only bound each socket operation. A watchdog timer shuts the socket of the
# attempt down when its deadline passes, which ends any blocked read at once.

_CURRENT = threading.local()


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._finished = False
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Deadline":
        _CURRENT.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._timer.cancel()
        with self._lock:
            self._finished = True
        _CURRENT.deadline = None

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _WatchedResponse:
    """Mixin for urllib3 connections: put the socket under the current attempt's deadline
    before waiting for the answer (a kept-alive connection is watched by each request)."""

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        deadline = getattr(_CURRENT, "deadline", None)
        if deadline is not None and self.sock is not None:
            deadline.watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _HTTPConnection(_WatchedResponse, HTTPConnection):
    pass


class _HTTPSConnection(_WatchedResponse, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


BodyCheck = Callable[[Any], None]


@dataclass
class HttpClient:
    """JSON over HTTP for one source. `secrets` are redacted everywhere; `body_check` may raise
    `Throttled` (retried) or `SourceError` (not retried) after inspecting a 200 body."""

    base_url: str
    source: str
    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    weight: WeightBudget | None = None
    secrets: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    body_check: BodyCheck | None = None
    user_agent: str = "tsquant-loader/1.0 (+https://github.com/tsquant)"
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.redact = Redactor(self.secrets)
        protect_logs()
        for secret in self.secrets:
            protect_logs(secret)
        self._session = requests.Session()
        for prefix in ("http://", "https://"):
            self._session.mount(prefix, _DeadlineAdapter())
        self._session.headers["User-Agent"] = self.user_agent
        self._session.headers.update(self.headers)
        self.requests_made = 0
        self.last_headers: Mapping[str, str] = {}

    # -- public ---------------------------------------------------------------------------------

    def get_json(self, path: str, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        return self._request("GET", path, params=params, headers=headers)

    def post_json(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Any:
        """POST used as a read (taapi bulk computes, it changes nothing): retried like a GET."""
        return self._request("POST", path, json_body=body, headers=headers)

    def send_once(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Any:
        """POST that changes something (an order): exactly one attempt, never retried — after a
        timeout the request may have been executed, and a retry could do it twice. A failure is an
        HttpError whose `status` is the HTTP status of the answer (None: no answer came, so the
        outcome is unknown) and `retry_after` its Retry-After."""
        return self._request("POST", path, json_body=body, headers=headers, attempts=1)

    def get_bytes(self, path: str) -> bytes:
        """A file (dump archives, checksums): same retries, no JSON decoding; 404 is a SourceError."""
        return self._request("GET", path, raw=True)

    def close(self) -> None:
        self._session.close()

    # -- internals ------------------------------------------------------------------------------

    def _fail(self, endpoint: str, what: str, cls: type[HttpError] = HttpError,
              status: int | None = None, retry_after: float | None = None) -> HttpError:
        error = cls(self.redact(f"{self.source}: {what} ({endpoint})"))
        error.status = status
        error.retry_after = retry_after
        return error

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                 json_body: Any = None, headers: Mapping[str, str] | None = None,
                 raw: bool = False, attempts: int | None = None) -> Any:
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"
        endpoint = endpoint_of(url)
        last_problem = "no attempt made"
        last_status: int | None = None
        tries = attempts or self.retry.attempts
        for attempt in range(1, tries + 1):
            self.limiter.acquire()
            delay: float | None = None
            try:
                return self._attempt(method, url, endpoint, params, json_body, headers, raw)
            except _Retryable as problem:
                last_problem, delay, last_status = problem.what, problem.delay, problem.status
            if attempt == tries:
                break
            wait = self.retry.backoff(attempt) if delay is None else delay
            log.warning(self.redact(f"{self.source}: {last_problem}; retry {attempt}/{tries - 1}"
                                    f" in {wait:.1f} s ({endpoint})"))
            self.sleep(wait)
        raise self._fail(endpoint, f"{last_problem} after {tries} attempt{'' if tries == 1 else 's'}",
                         status=last_status, retry_after=delay)

    def _attempt(self, method: str, url: str, endpoint: str, params, json_body, headers,
                 raw: bool = False) -> Any:
        self.requests_made += 1
        try:
            with _Deadline(self.timeout) as deadline:
                response = self._session.request(method, url, params=params, json=json_body,
                                                 headers=headers, timeout=self.timeout)
                content = response.content
        except requests.Timeout:
            raise _Retryable(f"no response within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            if deadline.expired:
                raise _Retryable(f"no response within {self.timeout:g} s") from None
            raise _Retryable(f"connection failed ({type(exc).__name__})") from None
        self.last_headers = response.headers
        if self.weight is not None:
            self.weight.observe(response.headers, self.limiter)
        status = response.status_code
        if status in (429, 418):
            raise self._throttled(status, response.headers, endpoint)
        if status >= 500:
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            delay = None if retry_after is None else min(retry_after, self.retry.max_retry_after)
            raise _Retryable(f"server error HTTP {status}", delay, status)
        if raw:
            if status >= 400:
                raise self._fail(endpoint, f"HTTP {status}", SourceError, status)
            return content
        body = self._decode(content, status)
        if status >= 400:
            raise self._fail(endpoint, f"HTTP {status}: {self._error_text(body, content)}", SourceError,
                             status)
        if self.body_check is not None:
            try:
                self.body_check(body)
            except Throttled as throttled:
                raise _Retryable(f"throttled: {throttled.reason}", throttled.delay, status) from None
            except SourceError as exc:
                raise self._fail(endpoint, str(exc), SourceError) from None
        return body

    def _throttled(self, status: int, headers: Mapping[str, str], endpoint: str) -> Exception:
        retry_after = _retry_after_seconds(headers.get("Retry-After"))
        what = "rate limit exceeded (HTTP 429)" if status == 429 else "IP address banned (HTTP 418)"
        if retry_after is not None and retry_after > self.retry.max_retry_after:
            return self._fail(endpoint, f"{what}, Retry-After {retry_after:g} s is longer than the "
                                        f"{self.retry.max_retry_after:g} s this run waits", status=status,
                              retry_after=retry_after)
        wait = retry_after if retry_after is not None else None
        if wait is not None:
            self.limiter.pause_until(time.monotonic() + wait)
        return _Retryable(what + (f", Retry-After {retry_after:g} s" if retry_after is not None else ""), wait,
                          status)

    def _decode(self, content: bytes, status: int) -> Any:
        if not content.strip():
            if status >= 400:
                return None
            raise _Retryable("empty response body", status=status)
        try:
            return json.loads(content)
        except (ValueError, UnicodeDecodeError):
            if status >= 400:
                return None
            raise _Retryable("malformed JSON in the response", status=status) from None

    @staticmethod
    def _error_text(body: Any, content: bytes) -> str:
        if isinstance(body, dict):
            for key in ("msg", "message", "error", "errors"):
                if body.get(key):
                    value = body[key]
                    if isinstance(value, dict):
                        value = value.get("message") or value
                    return str(value)[:300]
        return content[:200].decode("utf-8", "replace").strip() or "no details"


class _Retryable(Exception):
    def __init__(self, what: str, delay: float | None = None, status: int | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.delay = delay
        self.status = status  # HTTP status of the answer, None when none came


def _retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
