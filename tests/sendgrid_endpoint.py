"""A SendGrid-compatible Mail Send endpoint of our own, for tests and the benchmark.

It answers ``POST /v3/mail/send`` with 202 and records what it received: every request body and,
per address, how many times a message was handed over for it (counted at the receiving end). A
test can script the next answers: a status (429 with Retry-After, 500, 400 with SendGrid's error
body), a slow answer, or no answer at all (the connection is closed without a response). An
accepted request is counted on receipt, before any delay, as the real service would have it.
``count_only`` skips parsing and only counts personalizations, for the million-recipient benchmark.

Run as ``python -m tests.sendgrid_endpoint --port N [--count-only]`` for a separate process.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    """One scripted answer: a status, headers and body, after an optional delay; or a hang-up."""

    status: int = 202
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang_up: bool = False


def throttled(retry_after: str = "0") -> Answer:
    return Answer(429, b'{"errors":[{"message":"too many requests"}]}', {"Retry-After": retry_after})


def server_error() -> Answer:
    return Answer(500, b'{"errors":[{"message":"internal error"}]}')


def bad_request(message: str) -> Answer:
    return Answer(400, json.dumps({"errors": [{"field": "from", "message": message}]}).encode())


class RecordingEndpoint:
    def __init__(self, count_only: bool = False, port: int = 0) -> None:
        self.count_only = count_only
        #: Seconds every answer waits (after recording), so a test can catch requests in flight.
        self.delay = 0.0
        self.script: list[Answer] = []
        self.bodies: list[dict] = []
        self.authorizations: list[str] = []
        self.deliveries: Counter[str] = Counter()
        self.requests = 0
        self.recipients = 0
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = endpoint._next_answer()
                if answer.hang_up:
                    self.close_connection = True
                    return
                if answer.status == 202 and self.path == "/v3/mail/send":
                    # Accepted on receipt, as SendGrid does: a client that dies waiting still mailed these.
                    endpoint._record(raw, self.headers.get("Authorization", ""))
                if answer.delay or endpoint.delay:
                    time.sleep(answer.delay or endpoint.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer_next(self, *answers: Answer) -> None:
        with self._lock:
            self.script.extend(answers)

    def _next_answer(self) -> Answer:
        with self._lock:
            return self.script.pop(0) if self.script else Answer()

    def _record(self, raw: bytes, authorization: str) -> None:
        if self.count_only:
            count = raw.count(b'"to":')
            with self._lock:
                self.requests += 1
                self.recipients += count
            return
        body = json.loads(raw)
        addresses = [to["email"] for p in body.get("personalizations", []) for to in p.get("to", [])]
        with self._lock:
            self.requests += 1
            self.recipients += len(addresses)
            self.bodies.append(body)
            self.authorizations.append(authorization)
            self.deliveries.update(addresses)


@contextmanager
def recording_endpoint(count_only: bool = False) -> Iterator[RecordingEndpoint]:
    endpoint = RecordingEndpoint(count_only)
    thread = threading.Thread(target=endpoint.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        endpoint.httpd.shutdown()
        endpoint.httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count-only", action="store_true")
    args = parser.parse_args()
    endpoint = RecordingEndpoint(args.count_only, args.port)

    threading.Thread(target=endpoint.httpd.serve_forever, daemon=True).start()
    print(f"listening on {endpoint.host}", flush=True)
    try:
        while True:  # each line on stdin asks for the counts: one JSON line out
            input()
            print(json.dumps({"requests": endpoint.requests, "recipients": endpoint.recipients}), flush=True)
    except EOFError:
        pass


if __name__ == "__main__":
    main()
