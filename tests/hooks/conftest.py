"""Real local receivers for outgoing webhooks: one keeps every POST and answers from a script; one never
finishes answering (it drips its status line, or holds the connection)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from tests.local_http import LocalServer, Reply, serving


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Paths it answers on; each POST is kept in ``received``; ``statuses[path]`` is the answers to give, in
    order (the last one repeats; 200 when none is scripted)."""

    server: LocalServer
    received: list[Received] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.server.url(path)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def listen(self, path: str, *statuses: int) -> str:
        """Answer POSTs to ``path`` with ``statuses`` in turn; its URL."""
        self.statuses[path] = list(statuses) or [200]

        def answer(handler: BaseHTTPRequestHandler) -> Reply:
            self.received.append(Received(path, {k.lower(): v for k, v in handler.headers.items()},
                                          handler.body))  # type: ignore[attr-defined]
            script = self.statuses[path]
            status = script.pop(0) if len(script) > 1 else script[0]
            return Reply(status, b"ok" if status < 300 else b"receiver says no")

        self.server.routes[path] = answer
        return self.url(path)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as server:
        yield Receiver(server)


@dataclass
class Dripping:
    """A receiver that never finishes answering: it reads the request, then either sends a status line a
    byte at a time (``drip``) or says nothing (``hold``), until the client goes away or the test ends."""

    url: str
    connections: list[socket.socket]


@contextmanager
def dripping(mode: str) -> Iterator[Dripping]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    connections: list[socket.socket] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\n" * 1000 if mode == "drip" else ():
                if stop.wait(0.05):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
            stop.wait()

    listener.settimeout(0.1)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            connections.append(conn)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield Dripping(f"http://127.0.0.1:{listener.getsockname()[1]}/in", connections)
    finally:
        stop.set()
        listener.close()
