"""A scriptable local HTTP server for tests: each path answers what the test says it should.

GET and POST are both answered from ``routes``; a POST's body is read first and left on the
handler as ``handler.body`` for a callable route."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None


Route = Reply | Callable[[BaseHTTPRequestHandler], Reply]


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            body = b""

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path)
                reply = Reply(404, b"not here") if route is None else route if isinstance(route, Reply) else route(self)
                if reply.etag and self.headers.get("If-None-Match") == reply.etag:
                    reply = Reply(304, b"", {"ETag": reply.etag})
                self.send_response(reply.status)
                headers = dict(reply.headers)
                if reply.etag and reply.status == 200:
                    headers["ETag"] = reply.etag
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def serving() -> Iterator[LocalServer]:
    server = LocalServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
