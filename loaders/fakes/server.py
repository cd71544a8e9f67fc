"""A real HTTP server on 127.0.0.1 (ThreadingHTTPServer) with routes and scripted faults.

    with FakeServer("binance") as srv:
        srv.route("GET", "/api/v3/time", lambda req: Reply(body={"serverTime": 1}))
        srv.inject("/api/v3/klines", Fault.rate_limited(retry_after=1), Fault.server_error())
        requests.get(srv.url + "/api/v3/time")

Injected faults are consumed in order, one per matching request (path prefix), before the
route answers normally. Every request is recorded (`srv.requests`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOOPBACK = "127.0.0.1"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: Any = None, cast: Callable[[str], Any] = str) -> Any:
        return cast(self.query[name]) if name in self.query else default


@dataclass
class Reply:
    status: int = 200
    body: Any = None                 # bytes/str sent as is; anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0               # seconds to wait before answering (slow responses)
    truncate: bool = False           # announce more bytes than sent, then close the connection
    trickle: float = 0.0             # seconds between bytes: the answer dribbles out one byte at a time
    trickle_headers: bool = False    # trickle the status line and headers too, not only the body

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class Fault:
    """Replies that simulate what goes wrong with real APIs."""

    @staticmethod
    def rate_limited(retry_after: float | None = 1, body: Any = None) -> Reply:
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        return Reply(429, body if body is not None else {"code": -1003, "msg": "Too many requests."}, headers)

    @staticmethod
    def banned(retry_after: float = 1) -> Reply:
        return Reply(418, {"code": -1003, "msg": "Way too many requests; IP banned."},
                     {"Retry-After": f"{retry_after:g}"})

    @staticmethod
    def server_error(status: int = 500) -> Reply:
        return Reply(status, "<html><body>Internal error</body></html>")

    @staticmethod
    def malformed() -> Reply:
        return Reply(200, b'{"result": [[1, "2", ')

    @staticmethod
    def truncated() -> Reply:
        return Reply(200, b'[[1722470400000, "1.0", "2.0"', truncate=True)

    @staticmethod
    def slow(seconds: float = 2.0, body: Any = None) -> Reply:
        return Reply(200, body if body is not None else [], delay=seconds)

    @staticmethod
    def trickle(seconds_per_byte: float = 0.5, body: Any = None, *, headers_too: bool = False) -> Reply:
        """A server that answers, but one byte every `seconds_per_byte` (each read succeeds)."""
        return Reply(200, body if body is not None else [[1722470400000, "1.0"]], trickle=seconds_per_byte,
                     trickle_headers=headers_too)

    @staticmethod
    def kraken_error(message: str = "EAPI:Rate limit exceeded") -> Reply:
        return Reply(200, {"error": [message], "result": {}})


Handler = Callable[[Request], Reply]


class FakeServer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: dict[tuple[str, str], Handler] = {}
        self.prefix_routes: list[tuple[str, str, Handler]] = []
        self.faults: list[tuple[str, Reply]] = []
        self.pass_through: dict[str, int] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- configuration --------------------------------------------------------------------------
    def route(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def route_prefix(self, method: str, prefix: str, handler: Handler) -> None:
        self.prefix_routes.append((method, prefix, handler))

    def inject(self, path_prefix: str, *replies: Reply, after: int = 0) -> None:
        """Answer the next matching requests with `replies`, once `after` of them went through."""
        with self._lock:
            self.faults.extend((path_prefix, r) for r in replies)
            self.pass_through[path_prefix] = after

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://{LOOPBACK}:{self._httpd.server_address[1]}"

    def start(self) -> "FakeServer":
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(self.command, parts.path,
                              {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                              dict(self.headers.items()), body)
                reply = server.dispatch(req)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.payload()
                if reply.trickle:
                    self._trickle(reply, payload)
                    return
                try:
                    self.send_response(reply.status)
                    content_type = "application/json" if not isinstance(reply.body, (bytes, str)) else "text/plain"
                    self.send_header("Content-Type", reply.headers.get("Content-Type", content_type))
                    for k, v in reply.headers.items():
                        if k != "Content-Type":
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload) + (100 if reply.truncate else 0)))
                    if reply.truncate:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if reply.truncate:
                    self.close_connection = True

            def _trickle(self, reply: Reply, payload: bytes) -> None:
                head = (f"HTTP/1.1 {reply.status} OK\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode()
                self.close_connection = True
                try:
                    if not reply.trickle_headers:
                        self.wfile.write(head)
                        self.wfile.flush()
                    for byte in (head if reply.trickle_headers else b"") + payload:
                        time.sleep(reply.trickle)
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _serve
            do_POST = _serve

        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-{self.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- dispatch -------------------------------------------------------------------------------
    def dispatch(self, req: Request) -> Reply:
        with self._lock:
            self.requests.append(req)
            for i, (prefix, reply) in enumerate(self.faults):
                if req.path.startswith(prefix):
                    if self.pass_through.get(prefix, 0) > 0:
                        self.pass_through[prefix] -= 1
                        break
                    del self.faults[i]
                    return reply
        handler = self.routes.get((req.method, req.path))
        if handler is None:
            for method, prefix, h in self.prefix_routes:
                if method == req.method and req.path.startswith(prefix):
                    handler = h
                    break
        if handler is None:
            return Reply(404, {"message": f"no route {req.method} {req.path}"})
        try:
            return handler(req)
        except (KeyError, ValueError) as exc:
            return Reply(400, {"message": f"bad request: {exc}"})

    def count(self, path_prefix: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(path_prefix))
