"""Benchmark of SendGrid's Event Webhook: signed posts stored by the real web app over HTTP, processed by a real
dramatiq worker over Redis, into PostgreSQL.

    python bench/webhook.py [--events N | --quick] [--batch B] [--clients C] [--processes P] [--threads T]

Posts N events (default 1,000,000; --quick 100,000) in batches of B (default 1,000: a SendGrid post is
capped at 768 KB, which this mix reaches at about 2,000 events) from C concurrent clients (default 2),
each post signed as SendGrid signs it (ECDSA P-256 over timestamp and body), to `verdicts web` on a local
port. A worker (`--queues events`; by default one process of one thread: on two cores more threads only
contend for the interpreter and the counters' rows) processes the stored batches as the scheduler's relay
hands them over. The mix per recipient: a delivery, an open for one in four, a click for one in ten (on
one of five links, some personal), a deferral for one in twenty, soft bounces, hard bounces, drops, spam
reports and unsubscribes for a few, and one post in fifty sent twice (SendGrid retries). Prints a table
and writes bench/results/webhook.json (events, events_per_second: events processed per second from the
first post to the last batch processed; request_ms_p50/p99).
Targets: >= 20,000 events/s processed, request p99 <= 200 ms.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cpu import cpu_seconds
from services.core import broker, runtime
from services.core.db.migrate import upgrade
from services.core.db.models import DigestEventCount, Event, WebhookBatch
from services.core.db.scratch import create_database, drop_database
from services.core.settings import load_settings
from services.digest import compose
from services.workers import boot

ADMIN_URL = os.environ.get("VERDICTS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("VERDICTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RESULTS = Path(__file__).with_name("results")
ROOT = Path(__file__).resolve().parents[1]
SIGNATURE, TIMESTAMP = "X-Twilio-Email-Event-Webhook-Signature", "X-Twilio-Email-Event-Webhook-Timestamp"
LINKS = ("https://verdicts.example.org/c/orbit-vs-nimbus", "https://verdicts.example.org/t/orbit",
         "https://verdicts.example.org/archive/2026-W48", "https://verdicts.example.org/vote/{token}",
         "https://verdicts.example.org/unsubscribe/{token}")


def copy_subscribers(database_url: str, count: int) -> None:
    """Bulk-load ``count`` confirmed subscribers (ids 1..count) with COPY, then vacuum and analyse them."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection, connection.cursor() as cursor, \
            cursor.copy("COPY subscribers (email, state, paused, topics, created_at, confirmed_at) FROM STDIN") as copy:
        for n in range(count):
            copy.write_row((f"reader{n}@example.org", "confirmed", False, "[]", "2026-01-01T00:00:00Z",
                            "2026-01-01T00:00:00Z"))
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE) subscribers")


def seed_digest(rt: runtime.Runtime) -> int:
    from tests import factories

    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        return compose.compile_week(session, rt.settings, "2026-W48").id


def recipient_events(digest_id: int, subscriber_id: int, sent_at: int, rng: random.Random) -> list[dict[str, object]]:
    """What SendGrid reports about one recipient of the digest, in the mix the module's docstring gives."""
    common = {"email": f"reader{subscriber_id - 1}@example.org", "sg_message_id": f"m{subscriber_id}.filter0001",
              "digest_id": str(digest_id), "subscriber_id": str(subscriber_id), "batch_id": "1",
              "category": ["digest", "2026-W48"], "smtp-id": f"<m{subscriber_id}@verdicts.example.org>"}
    at = sent_at + rng.randrange(0, 72 * 3600)
    events: list[dict[str, object]] = []

    def add(kind: str, when: int, **extra: object) -> None:
        events.append({**common, "event": kind, "timestamp": when, "sg_event_id": uuid.uuid4().hex, **extra})

    roll = rng.random()
    if roll < 0.005:
        add("bounce", at, type="bounce", reason="550 5.1.1 user unknown", status="5.1.1")
        return events
    if roll < 0.01:
        add("dropped", at, reason="Bounced Address")
        return events
    if roll < 0.02:
        add("bounce", at, type="blocked", reason="550 5.7.1 blocked by reputation", status="5.7.1")
        return events
    if rng.random() < 0.05:
        add("deferred", at, response="421 try again later", attempt="1")
    add("delivered", at + 60, response="250 OK", ip="192.0.2.10", tls=1)
    if rng.random() < 0.25:
        add("open", at + 600, useragent="Mozilla/5.0", ip="198.51.100.4", sg_machine_open=False)
    if rng.random() < 0.10:
        link = rng.choice(LINKS).replace("{token}", uuid.uuid4().hex)
        add("click", at + 900, url=link, url_offset={"index": 0, "type": "html"}, useragent="Mozilla/5.0")
    if rng.random() < 0.002:
        add("spamreport", at + 1200)
    elif rng.random() < 0.003:
        add("unsubscribe", at + 1200)
    return events


def posts(digest_id: int, subscribers: int, total: int, batch: int, seed: int = 48) -> list[bytes]:
    """The posts' bodies: ``total`` events in the order they happened, in arrays of ``batch``, one in fifty
    posted again (a retry)."""
    rng = random.Random(seed)
    sent_at = int(time.time()) - 3600
    events: list[dict[str, object]] = []
    subscriber = 0
    while len(events) < total:
        events += recipient_events(digest_id, subscriber % subscribers + 1, sent_at, rng)
        subscriber += 1
    events = sorted(events[:total], key=lambda event: event["timestamp"])  # SendGrid posts events as they happen
    bodies = [json.dumps(events[i:i + batch], separators=(",", ":")).encode()
              for i in range(0, total, batch)]
    return bodies + [bodies[i] for i in range(0, len(bodies), 50)]


class Signer:
    """A key pair like SendGrid's; the public half as its dashboard shows it (base64 DER)."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.public_b64 = base64.b64encode(self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()

    def headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        signature = self.private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {SIGNATURE: base64.b64encode(signature).decode(), TIMESTAMP: timestamp,
                "Content-Type": "application/json"}


def environment(database_url: str, namespace: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERDICTS_")}
    env.update({"VERDICTS_DATABASE_URL": database_url, "VERDICTS_REDIS_URL": REDIS_URL,
                "VERDICTS_REDIS_NAMESPACE": namespace, "VERDICTS_SECRET_KEY": "bench", **extra})
    return env


def start_web(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    log = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stall the server's logging
    server = subprocess.Popen([sys.executable, "-m", "services.cli", "web", "--port", str(port)], cwd=ROOT,
                              env={**env, "VERDICTS_BASE_URL": f"http://127.0.0.1:{port}"},
                              stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise SystemExit(f"the web server did not start: {log.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.2)


def start_worker(env: dict[str, str], processes: int, threads: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "dramatiq", "services.workers:boot_from_environment",
                             "--processes", str(processes), "--threads", str(threads), "--queues", "events"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def post_all(base: str, bodies: list[bytes], signer: Signer, clients: int) -> list[float]:
    """Post every body (signed just before it goes) from ``clients`` threads; each request's milliseconds."""
    latencies: list[float] = []
    lock = threading.Lock()
    done = [0]
    local = threading.local()  # one keep-alive client per posting thread, as SendGrid's senders keep theirs

    def post(body: bytes) -> None:
        headers = signer.headers(body)
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=60)
        started = time.perf_counter()
        response = local.client.post("/webhooks/sendgrid", content=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"the webhook answered {response.status_code}: {response.text[:300]}")
        with lock:
            latencies.append(elapsed)
            done[0] += 1
            if done[0] % 100 == 0:
                print(f"  posted {done[0]}/{len(bodies)}", flush=True)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post, bodies))
    return latencies


def wait_processed(rt: runtime.Runtime, batches: int, timeout: float) -> None:
    """Relay events to the worker (the scheduler's tick, more often than its 2 s) until every batch is processed."""
    from services.core import outbox_actors  # declared on the broker boot() set up

    deadline = time.monotonic() + timeout
    reported = -1
    while time.monotonic() < deadline:
        outbox_actors.relay_and_sweep()
        with rt.sessions() as session:
            states = dict(session.execute(select(WebhookBatch.state, func.count()).group_by(WebhookBatch.state)).all())
        processed = states.get("processed", 0)
        if states.get("failed"):
            raise SystemExit(f"{states['failed']} stored batches failed to process")
        if processed >= batches:
            return
        if processed // 100 != reported // 100:
            print(f"  processed {processed}/{batches} batches", flush=True)
            reported = processed
        time.sleep(0.1)
    raise SystemExit(f"not every batch was processed within {timeout} s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 events")
    parser.add_argument("--batch", type=int, default=1_000, help="events per post")
    parser.add_argument("--clients", type=int, default=2, help="concurrent posting clients")
    parser.add_argument("--processes", type=int, default=1, help="worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker process")
    args = parser.parse_args()
    total = 100_000 if args.quick else args.events
    subscribers = max(1, total // 3)
    name = f"verdicts_bench_{uuid.uuid4().hex[:8]}"
    namespace = f"verdicts-bench-{uuid.uuid4().hex[:8]}"
    database_url = create_database(ADMIN_URL, name)
    server = worker = None
    signer = Signer()
    try:
        rt = boot(load_settings({}, database_url=database_url, redis_url=REDIS_URL, redis_namespace=namespace,
                                secret_key="bench"))
        upgrade(rt.engine)
        copy_subscribers(database_url, subscribers)
        digest_id = seed_digest(rt)
        bodies = posts(digest_id, subscribers, total, args.batch)
        print(f"{total} events in {len(bodies)} posts (mean {statistics.mean(map(len, bodies)) / 1024:.0f} KB)",
              flush=True)
        env = environment(database_url, namespace, VERDICTS_SENDGRID_WEBHOOK_KEY=signer.public_b64)
        port = 20000 + os.getpid() % 20000
        server = start_web(env, port)
        worker = start_worker(env, args.processes, args.threads)
        time.sleep(3)  # the worker boots before the clock starts
        post_all(f"http://127.0.0.1:{port}", [b"[]"], signer, 1)  # a first post (empty) warms the web process
        cpu_before = (cpu_seconds(server.pid), cpu_seconds(*_tree(worker.pid)), cpu_seconds(name="postgres"))
        started = time.perf_counter()
        relaying = threading.Thread(target=wait_processed, args=(rt, len(bodies) + 1, 3600), daemon=True)
        relaying.start()
        latencies = post_all(f"http://127.0.0.1:{port}", bodies, signer, args.clients)
        posted = time.perf_counter() - started
        relaying.join()
        seconds = time.perf_counter() - started
        cpu_after = (cpu_seconds(server.pid), cpu_seconds(*_tree(worker.pid)), cpu_seconds(name="postgres"))
        with rt.sessions() as session:
            counted = int(session.scalar(select(func.sum(DigestEventCount.count))) or 0)
            fresh, duplicates = session.execute(select(func.sum(WebhookBatch.fresh),
                                                       func.sum(WebhookBatch.duplicates))).one()
            retried = session.scalar(select(func.count()).select_from(WebhookBatch).where(WebhookBatch.attempts > 1))
            errors = list(session.scalars(select(Event.last_error).where(Event.last_error.is_not(None)).limit(3)))
            lag = session.execute(select(func.percentile_cont(0.5).within_group(
                func.extract("epoch", WebhookBatch.processed_at - WebhookBatch.received_at)),
                func.max(func.extract("epoch", WebhookBatch.processed_at - WebhookBatch.received_at)))).one()
    finally:
        if worker is not None:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=30)
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        broker.current().flush_all()
        runtime.current().engine.dispose()
        drop_database(ADMIN_URL, name)
    if fresh != total or counted != total:
        raise SystemExit(f"{fresh} events applied and {counted} counted; expected {total}")
    for error in errors:
        print("an event handler failed (then retried):", error)
    web_cpu, worker_cpu, pg_cpu = (after - before for after, before in zip(cpu_after, cpu_before))
    figures = {
        "events": total,
        "events_per_second": round(total / seconds),
        "request_ms_p50": round(statistics.median(latencies), 1),
        "request_ms_p99": round(percentile(latencies, 0.99), 1),
        "request_ms_max": round(max(latencies), 1),
        "posts": len(bodies),
        "events_per_post": args.batch,
        "repeated_events_counted_once": int(duplicates or 0),
        "batches_processed_more_than_once": int(retried or 0),
        "stored_to_processed_seconds_p50": round(float(lag[0] or 0), 2),
        "stored_to_processed_seconds_max": round(float(lag[1] or 0), 2),
        "seconds": round(seconds, 2),
        "posting_seconds": round(posted, 2),
        "web_cpu_seconds": round(web_cpu, 2),
        "worker_cpu_seconds": round(worker_cpu, 2),
        "worker_cpu_us_per_event": round(worker_cpu / total * 1e6, 1),
        "postgres_cpu_seconds_whole_server": round(pg_cpu, 2),
        "clients": args.clients,
        "worker_processes": args.processes,
        "threads_per_process": args.threads,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "webhook.json").write_text(json.dumps(figures, indent=2) + "\n")
    width = max(map(len, figures))
    print(f"{'figure':<{width}}  value")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print("processed >= 20,000 events/s:", "yes" if figures["events_per_second"] >= 20_000 else "NO",
          "| request p99 <= 200 ms:", "yes" if figures["request_ms_p99"] <= 200 else "NO")
    print(f"wrote {RESULTS / 'webhook.json'}")


def _tree(pid: int) -> list[int]:
    import psutil

    try:
        parent = psutil.Process(pid)
        return [pid, *(child.pid for child in parent.children(recursive=True))]
    except psutil.Error:
        return [pid]


if __name__ == "__main__":
    main()
