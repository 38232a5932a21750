"""A local HTTP server for the demo's own feed files, with ETag and Last-Modified like a real host."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FEEDS = Path(__file__).with_name("feeds")
TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml"}


class _FeedHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


class FeedServer:
    def __init__(self, directory: Path = FEEDS):
        self.directory = directory
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_FeedHandler, directory=str(directory)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="demo-feeds", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def urls(self) -> list[str]:
        return [f"{self.base_url}/{path.name}" for path in sorted(self.directory.iterdir()) if path.suffix in TYPES]

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
