"""Benchmark of sending a digest: N confirmed subscribers in PostgreSQL handed to a local
SendGrid-compatible endpoint that counts recipients, by real dramatiq worker processes over Redis.

    python bench/send.py [--subscribers N | --quick] [--processes P] [--threads T] [--two-comparisons | --topics]

It times the whole hand-off (snapshot into batches, events relayed, one library request per batch
of 1,000, every batch settled), samples the peak RSS of every process taking part, and, in the same
run, times a naive path that sends one request per recipient on a 10,000 sample. Prints a table
and writes bench/results/send.json (``worker_cpu_us_per_recipient``: the worker processes' CPU over the
send divided by the recipients, a figure a busy machine distorts less than the wall clock).

The plain digest holds one comparison. ``--two-comparisons`` adds a second one in another category;
``--topics`` also gives the subscribers topics in turn (none, one category, the other, both), so the
send cuts three variants: compare it with ``--two-comparisons`` for what topics cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cpu import cpu_seconds
from services.core import broker, runtime
from services.core.db.migrate import upgrade
from services.core.db.models import DeliveryBatch, Digest, Subscriber
from services.core.db.scratch import create_database, drop_database
from services.core.settings import load_settings
from services.delivery.send import recipients_for, start_send
from services.digest import compose
from services.mail.mailers import SendGridMailer, personalized
from services.mail.messages import BatchMail
from services.workers import boot

ADMIN_URL = os.environ.get("VERDICTS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("VERDICTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RESULTS = Path(__file__).with_name("results")
ROOT = Path(__file__).resolve().parents[1]
NAIVE_SAMPLE = 10_000
SENDER = "Verdicts <digest@verdicts.example.org>"


class RssSampler:
    """Samples the resident memory of a set of process trees; keeps each process's peak."""

    def __init__(self) -> None:
        self.roots: list[int] = [os.getpid()]
        self.peaks: dict[int, float] = {}
        #: CPU seconds used by the worker processes so far (a figure a busy, shared machine does not distort).
        self.worker_cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for root in list(self.roots):
                try:
                    parent = psutil.Process(root)
                    for process in [parent, *parent.children(recursive=True)]:
                        mb = process.memory_info().rss / 2**20
                        self.peaks[process.pid] = max(self.peaks.get(process.pid, 0.0), mb)
                        if root != os.getpid():
                            times = process.cpu_times()
                            self.worker_cpu[process.pid] = times.user + times.system
                except psutil.Error:
                    continue
            time.sleep(0.1)


#: The topics ``--topics`` gives subscribers in turn (as stored: JSON text).
TOPIC_PICKS = ("[]", '["developer-tools"]', '["image-generation"]', '["developer-tools", "image-generation"]')


def copy_subscribers(database_url: str, count: int, topics: bool = False) -> None:
    """Bulk-load ``count`` confirmed subscribers with COPY; with ``topics``, each with one of ``TOPIC_PICKS``."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    columns = "email, state, paused, topics, created_at, confirmed_at"
    with psycopg.connect(url) as connection, connection.cursor() as cursor, \
            cursor.copy(f"COPY subscribers ({columns}) FROM STDIN") as copy:
        for n in range(count):
            copy.write_row((f"reader{n}@example.org", "confirmed", False,
                            TOPIC_PICKS[n % len(TOPIC_PICKS)] if topics else "[]", "2026-01-01T00:00:00Z",
                            "2026-01-01T00:00:00Z"))
    # A list is not bulk-loaded seconds before a send: vacuumed and analysed now, so autovacuum's
    # first pass over a million new rows does not run during the timed send.
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE) subscribers")


def seed_digest(rt: runtime.Runtime, two_comparisons: bool = False) -> int:
    """This week's digest: one comparison of two "Developer Tools", and with ``two_comparisons`` a second of
    two "Image Generation" tools."""
    from services.core.domain import Call
    from services.review import comparisons
    from tests import factories

    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        if two_comparisons:
            painter = factories.judged_tool(session, "Painter", (Call.SHIP,) * 4, category="Image Generation")
            sketcher = factories.judged_tool(session, "Sketcher", (Call.SKIP,) * 4, category="Image Generation")
            comparisons.publish(session, comparisons.create(session, painter.id, sketcher.id).id)
        return compose.compile_week(session, rt.settings, "2026-W48").id


def start_endpoint(port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-m", "tests.sendgrid_endpoint", "--port", str(port), "--count-only"],
                               cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.readline()  # "listening on …"
    return process


def endpoint_counts(endpoint: subprocess.Popen[str]) -> dict[str, int]:
    assert endpoint.stdin is not None and endpoint.stdout is not None
    endpoint.stdin.write("\n")
    endpoint.stdin.flush()
    return json.loads(endpoint.stdout.readline())


def start_workers(database_url: str, namespace: str, host: str, processes: int, threads: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERDICTS_")}
    env.update({"VERDICTS_DATABASE_URL": database_url, "VERDICTS_REDIS_URL": REDIS_URL,
                "VERDICTS_REDIS_NAMESPACE": namespace, "VERDICTS_SECRET_KEY": "bench",
                "VERDICTS_SENDGRID_API_KEY": "SG.bench", "VERDICTS_SENDGRID_HOST": host})
    return subprocess.Popen([sys.executable, "-m", "dramatiq", "services.workers:boot_from_environment",
                             "--processes", str(processes), "--threads", str(threads), "--queues", "events", "mail"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def wait_until_idle(sampler: RssSampler, timeout: float = 60.0) -> None:
    """Until the worker processes exist and use almost no CPU (their imports and boot are done)."""
    deadline = time.monotonic() + timeout
    previous = -1.0
    while time.monotonic() < deadline:
        time.sleep(0.5)
        used = sum(sampler.worker_cpu.values())
        if len(sampler.worker_cpu) >= 2 and used - previous < 0.05:
            return
        previous = used


def batched_send(rt: runtime.Runtime, digest_id: int) -> tuple[float, dict[str, float]]:
    """Seconds from the editor's "send" to every batch settled (the workers do the sending), and
    where that time went: cutting the batches, until the first was claimed, a batch on average."""
    from services.core import outbox_actors  # declared on the broker boot() set up

    began = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    with rt.sessions() as session, session.begin():
        compose.approve(session, digest_id)
        start_send(session, digest_id, settings=rt.settings)
    snapshot = time.perf_counter() - started
    while True:  # the scheduler's relay tick, more often than its default 2 s; a one-column read of the state
        outbox_actors.relay_and_sweep()
        with rt.sessions() as session:
            if session.scalar(select(Digest.state).where(Digest.id == digest_id)) == "sent":
                seconds = time.perf_counter() - started
                break
        time.sleep(0.1)
    with rt.sessions() as session:
        first, last, mean = session.execute(
            select(func.min(DeliveryBatch.started_at), func.max(DeliveryBatch.finished_at),
                   func.avg(DeliveryBatch.finished_at - DeliveryBatch.started_at))
            .where(DeliveryBatch.digest_id == digest_id)).one()
    return seconds, {"snapshot_seconds": round(snapshot, 2), "first_claim_seconds": round((first - began).total_seconds(), 2),
                     "last_settled_seconds": round((last - began).total_seconds(), 2),
                     "batch_seconds_mean": round(mean.total_seconds(), 3)}


def naive_send(rt: runtime.Runtime, digest_id: int, host: str, threads: int) -> float:
    """Seconds to send NAIVE_SAMPLE recipients one request each, through the same library and links."""
    with rt.sessions() as session:
        digest = session.get(Digest, digest_id)
        sample = session.execute(select(Subscriber.id, Subscriber.email).order_by(Subscriber.id)
                                 .limit(NAIVE_SAMPLE)).all()
        recipients = recipients_for(rt.settings, digest.id, digest.sections, 0, [(row.id, row.email) for row in sample])
        mail = BatchMail(digest.subject, digest.html or "", digest.text or "", ("digest", digest.week), [])
    mailer = SendGridMailer("SG.bench", host, SENDER, 30)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda r: mailer.send(personalized(mail, r)), recipients))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 subscribers")
    parser.add_argument("--processes", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=3, help="threads per worker process")
    parser.add_argument("--two-comparisons", action="store_true", help="a digest of two comparisons")
    parser.add_argument("--topics", action="store_true",
                        help="two comparisons, and subscribers with topics: three variants")
    args = parser.parse_args()
    count = 100_000 if args.quick else args.subscribers
    name = f"verdicts_bench_{uuid.uuid4().hex[:8]}"
    namespace = f"verdicts-bench-{uuid.uuid4().hex[:8]}"
    database_url = create_database(ADMIN_URL, name)
    sampler = RssSampler().start()
    endpoint = workers = None
    try:
        rt = boot(load_settings({}, database_url=database_url, redis_url=REDIS_URL, redis_namespace=namespace,
                                secret_key="bench"))
        upgrade(rt.engine)
        loading = time.perf_counter()
        copy_subscribers(database_url, count, topics=args.topics)
        loaded = time.perf_counter() - loading
        digest_id = seed_digest(rt, two_comparisons=args.two_comparisons or args.topics)
        port = 20000 + os.getpid() % 20000
        endpoint = start_endpoint(port)
        host = f"http://127.0.0.1:{port}"
        workers = start_workers(database_url, namespace, host, args.processes, args.threads)
        sampler.roots.append(workers.pid)
        wait_until_idle(sampler)  # the workers have booted before the clock starts
        cpu_before = sum(sampler.worker_cpu.values())
        others_before = (cpu_seconds(os.getpid()), cpu_seconds(endpoint.pid), cpu_seconds(name="postgres"))
        seconds, timeline = batched_send(rt, digest_id)
        time.sleep(0.3)
        worker_cpu = sum(sampler.worker_cpu.values()) - cpu_before
        others = [after - before for after, before in zip(
            (cpu_seconds(os.getpid()), cpu_seconds(endpoint.pid), cpu_seconds(name="postgres")), others_before)]
        counted = endpoint_counts(endpoint)
        naive_seconds = naive_send(rt, digest_id, host, args.processes * args.threads)
        naive_counted = endpoint_counts(endpoint)["recipients"] - counted["recipients"]
    finally:
        sampler.stop()
        if workers is not None:
            os.killpg(workers.pid, 15)
            workers.wait(timeout=30)
        if endpoint is not None:
            endpoint.kill()
        broker.current().flush_all()
        runtime.current().engine.dispose()
        drop_database(ADMIN_URL, name)
    if counted["recipients"] != count or naive_counted != min(NAIVE_SAMPLE, count):
        raise SystemExit(f"the endpoint counted {counted} and {naive_counted} in the naive run; expected {count}")
    rate = count / seconds
    naive_rate = min(NAIVE_SAMPLE, count) / naive_seconds
    figures = {
        "recipients": count,
        "seconds": round(seconds, 2),
        "recipients_per_second": round(rate),
        "peak_rss_mb": round(max(sampler.peaks.values()), 1),
        "peak_rss_mb_sending_process": round(sampler.peaks.get(os.getpid(), 0.0), 1),
        "peak_rss_mb_worker_process": round(max((mb for pid, mb in sampler.peaks.items() if pid != os.getpid()),
                                                default=0.0), 1),
        "naive_ratio": round(rate / naive_rate, 1),
        "naive_recipients_per_second": round(naive_rate),
        "requests": counted["requests"],
        "worker_cpu_seconds": round(worker_cpu, 2),
        "worker_cpu_us_per_recipient": round(worker_cpu / count * 1e6, 1),
        "digest": "topics" if args.topics else "two-comparisons" if args.two_comparisons else "plain",
        "sending_process_cpu_seconds": round(others[0], 2),
        "endpoint_cpu_seconds": round(others[1], 2),
        "postgres_cpu_seconds_whole_server": round(others[2], 2),
        **timeline,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "worker_processes": args.processes,
        "threads_per_process": args.threads,
        "copy_seconds": round(loaded, 2),
        "cpu_count": os.cpu_count(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "send.json").write_text(json.dumps(figures, indent=2) + "\n")
    width = max(map(len, figures))
    print(f"{'figure':<{width}}  value")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print("all handed off in under 30 s:", "yes" if seconds < 30 else "NO",
          "| every process under 300 MB:", "yes" if figures["peak_rss_mb"] < 300 else "NO")
    print(f"wrote {RESULTS / 'send.json'}")


if __name__ == "__main__":
    main()
