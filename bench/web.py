"""Benchmark of the web app over real HTTP: the review queue page, a comparison page, the approve
action, search and category pages, against `verdicts web` serving a PostgreSQL database filled with
100,000 tools (10,000 candidates, the rest approved) and 5,000 published comparisons. Prints a table
and writes bench/results/web.json.

    python bench/web.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select
from sqlalchemy.engine import Engine

from services.core.db.migrate import upgrade
from services.core.db.models import Comparison, Evidence, PanelSeat, Scorecard, Source, Tool, User, Verdict
from services.core.db.scratch import create_database, drop_database
from services.core.domain import DEFAULT_LENSES
from services.core.passwords import hash_password
from services.core.slugs import slugify

ADMIN_URL = os.environ.get("VERDICTS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("VERDICTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RESULTS = Path(__file__).with_name("results")
PASSWORD = "bench password 1"
CATEGORIES = ("Developer Tools", "Agents", "Audio", "Image", "Search", "Data")
DIRECTORY_CATEGORIES = CATEGORIES + (
    "Video", "Writing", "Coding Assistants", "Chatbots", "Productivity", "Design", "Marketing", "Sales",
    "Customer Support", "Education", "Finance", "Health", "Legal", "Research", "Security", "Translation",
    "Voice", "Analytics")
SYLLABLES = ("ka", "zor", "vex", "li", "tra", "mon", "qui", "bel", "dra", "no", "sy", "phi", "ra", "tek", "lu", "vo",
             "gen", "ax", "mi", "or", "pla", "stu", "di", "fy")
#: Words of taglines and descriptions, drawn with Zipf-like weights (a few common, most rare).
VOCABULARY = ("ai", "assistant", "agent", "model", "open", "source", "fast", "code", "write", "image", "video", "voice",
              "data", "search", "chat", "team", "workflow", "automate", "api", "local", "private", "cloud", "browser",
              "document", "meeting", "notes", "email", "sales", "support", "design", "prompt", "llm", "rag",
              "vector", "database", "sql", "spreadsheet", "slides", "podcast", "music", "translate", "summarize",
              "research", "paper", "legal", "contract", "invoice", "finance", "health", "tutor", "study", "quiz",
              "security", "scan", "review", "test", "deploy", "monitor", "log", "trace", "debug", "refactor",
              "terminal", "editor", "plugin", "extension", "mobile", "desktop", "realtime", "transcribe", "caption",
              "dub", "avatar", "3d", "render", "upscale", "photo", "logo", "brand", "copy", "seo", "ads", "crm",
              "ticket", "helpdesk", "onboarding", "hiring", "resume", "interview", "calendar", "schedule", "task",
              "kanban", "wiki", "knowledge", "graph", "benchmark", "eval", "finetune", "inference", "gpu", "edge")


def fill(engine: Engine, candidates: int, pairs: int) -> list[str]:
    """Candidates with evidence, and ``pairs`` published comparisons of judged tools; returns their slugs."""
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        connection.execute(insert(User), [{"email": "editor@bench.example", "role": "editor",
                                           "password_hash": hash_password(PASSWORD), "active": True}])
        seat_ids = [connection.execute(insert(PanelSeat).returning(PanelSeat.id),
                                       {"lens": lens, "position": n, "active": True}).scalar_one()
                    for n, lens in enumerate(DEFAULT_LENSES)]
        connection.execute(insert(Source), [{"url": f"https://feeds.example/{n}.xml", "title": f"Feed {n}"}
                                            for n in range(40)])
        for start in range(0, candidates, 2000):
            rows = [{"slug": f"candidate-{n}", "name": f"Candidate {n}", "vendor": f"Vendor {n % 300}",
                     "score": 0.5 + (n % 50) / 100, "reasons": ["new version in title", "launch phrase"],
                     "state": "candidate", "canonical_key": f"bench:c{n}", "revision": 1,
                     "created_at": now - dt.timedelta(minutes=n), "category": CATEGORIES[n % len(CATEGORIES)]}
                    for n in range(start, min(candidates, start + 2000))]
            ids = connection.execute(insert(Tool).returning(Tool.id), rows).scalars().all()
            connection.execute(insert(Evidence), [{
                "tool_id": tool_id, "source_url": f"https://feeds.example/{tool_id % 40}.xml",
                "url": f"https://blog.example/posts/{tool_id}", "title": f"Introducing Candidate {tool_id}",
                "snippet": "<p>Now available: a new tool that does a thing, with a longer description.</p>",
                "kind": "detected"} for tool_id in ids])
        judged = connection.execute(insert(Tool).returning(Tool.id), [{
            "slug": f"judged-{n}", "name": f"Judged {n}", "vendor": "Acme", "score": 0.9, "reasons": ["seeded"],
            "state": "approved", "canonical_key": f"bench:j{n}", "revision": 2, "category": CATEGORIES[n % 6],
            "tagline": f"Judged tool number {n}", "entry_price": "Free", "description": "A judged tool. " * 8,
            "created_at": now - dt.timedelta(days=30)} for n in range(pairs * 2)]).scalars().all()
        verdicts = connection.execute(insert(Verdict).returning(Verdict.id, Verdict.tool_id), [{
            "tool_id": tool_id, "state": "completed", "ship_percent": 75, "opened_at": now, "completed_at": now}
            for tool_id in judged]).all()
        connection.execute(insert(Scorecard), [{
            "verdict_id": verdict_id, "seat_id": seat_id, "call": "ship" if k else "skip",
            "quote": "A short quote from this seat about the tool.", "submitted_at": now, "updated_at": now}
            for verdict_id, _ in verdicts for k, seat_id in enumerate(seat_ids)])
        connection.execute(insert(Comparison), [{
            "slug": f"judged-{2 * n}-vs-judged-{2 * n + 1}", "headline": f"Judged {2 * n} vs Judged {2 * n + 1}",
            "tool_a_id": judged[2 * n], "tool_b_id": judged[2 * n + 1], "category": CATEGORIES[(2 * n) % 6],
            "state": "published", "published_at": now - dt.timedelta(minutes=n), "position": 0, "created_at": now}
            for n in range(pairs)])
        return list(connection.execute(select(Comparison.slug)).scalars())


def fill_directory(engine: Engine, count: int) -> list[str]:
    """``count`` approved tools across ``DIRECTORY_CATEGORIES`` with made-up names and Zipf-worded taglines and
    descriptions, detected before today's candidates (approved tools are older than the queue); returns words
    and names to search for (as readers would: common and rare words, names)."""
    rng = random.Random(15)
    weights = [1 / (rank + 1) for rank in range(len(VOCABULARY))]
    now = dt.datetime.now(dt.UTC)
    names: list[str] = []
    with engine.begin() as connection:
        for start in range(0, count, 5000):
            rows = []
            for n in range(start, min(count, start + 5000)):
                name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize() + f" {n}"
                names.append(name)
                rows.append({"slug": f"tool-{n}", "name": name, "vendor": f"Vendor {n % 2000}", "score": 0.9,
                             "reasons": ["seeded"], "state": "approved", "canonical_key": f"bench:d{n}",
                             "revision": 2, "category": DIRECTORY_CATEGORIES[n % len(DIRECTORY_CATEGORIES)],
                             "tagline": " ".join(rng.choices(VOCABULARY, weights, k=6)),
                             "description": " ".join(rng.choices(VOCABULARY, weights, k=40)),
                             "entry_price": "Free", "created_at": now - dt.timedelta(days=60, minutes=n)})
            connection.execute(insert(Tool), rows)
    return ([rng.choice(names).split()[0] for _ in range(40)] + [" ".join(rng.choices(VOCABULARY, weights, k=2))
                                                                 for _ in range(40)]
            + [rng.choices(VOCABULARY, weights)[0] for _ in range(40)] + ["judged 12", "vendor 17"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _p50(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def _p99(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=100)[-1] * 1000, 1)


def measure(base: str, slugs: list[str], candidate_ids: list[int], rounds: int,
            queries: list[str]) -> dict[str, float | int]:
    with httpx.Client(base_url=base, timeout=30) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
        signed = client.post("/login", data={"email": "editor@bench.example", "password": PASSWORD,
                                             "csrf_token": token}, follow_redirects=True)
        assert signed.status_code == 200 and "Review queue" in signed.text, "sign-in failed"
        token = re.search(r'name="csrf_token" value="([^"]+)"', signed.text).group(1)  # type: ignore[union-attr]

        def timed(method: str, url: str, **kwargs: object) -> float:
            started = time.perf_counter()
            response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
            elapsed = time.perf_counter() - started
            assert response.status_code in (200, 303), f"{method} {url}: {response.status_code}"
            return elapsed

        for _ in range(5):  # warm up connections and caches
            timed("GET", "/editor/queue")
            timed("GET", f"/c/{slugs[0]}")
        queue = [timed("GET", "/editor/queue") for _ in range(rounds)]
        pages = [timed("GET", f"/c/{random.choice(slugs)}") for _ in range(rounds)]
        approvals = [timed("POST", f"/editor/queue/{tool_id}/approve", data={
            "csrf_token": token, "revision": "1", "entry_price": "$10/mo"}) for tool_id in candidate_ids[:rounds]]
        for query in queries[:5]:
            timed("GET", "/search", params={"q": query})
        searches = [timed("GET", "/search", params={"q": random.choice(queries)}) for _ in range(2 * rounds)]
        category_pages = [timed("GET", f"/category/{slugify(random.choice(DIRECTORY_CATEGORIES))}",
                                params={"page": random.choice((1, 1, 1, 2, 3, 10))}) for _ in range(2 * rounds)]
    return {"queue_page_ms_p50": _p50(queue), "comparison_page_ms_p50": _p50(pages), "approve_ms_p50": _p50(approvals),
            "queue_page_ms_p90": round(statistics.quantiles(queue, n=10)[-1] * 1000, 1),
            "comparison_page_ms_p90": round(statistics.quantiles(pages, n=10)[-1] * 1000, 1),
            "approve_ms_p90": round(statistics.quantiles(approvals, n=10)[-1] * 1000, 1),
            "search_ms_p50": _p50(searches), "search_ms_p99": _p99(searches),
            "category_page_ms_p50": _p50(category_pages), "category_page_ms_p99": _p99(category_pages),
            "requests_each": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="10,000 tools (1,000 candidates), 50 comparisons, 40 requests each")
    args = parser.parse_args()
    candidates, pairs, rounds, tools = (1000, 50, 40, 10_000) if args.quick else (10_000, 5000, 200, 100_000)
    name = f"verdicts_bench_{uuid.uuid4().hex[:8]}"
    url = create_database(ADMIN_URL, name)
    server = None
    try:
        engine = create_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        slugs = fill(engine, candidates, pairs)
        queries = fill_directory(engine, tools - candidates - 2 * pairs)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # fresh statistics and visibility map (index-only scans), as autovacuum keeps them in production
            connection.exec_driver_sql("VACUUM ANALYZE")
        with engine.connect() as connection:
            candidate_ids = list(connection.execute(
                select(Tool.id).where(Tool.state == "candidate").order_by(Tool.created_at.desc())).scalars())
        engine.dispose()
        print(f"filled {tools} tools ({candidates} candidates) and {pairs} comparisons "
              f"in {time.perf_counter() - started:.1f} s")
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VERDICTS_")}
        env.update({"VERDICTS_DATABASE_URL": url, "VERDICTS_REDIS_URL": REDIS_URL, "VERDICTS_SECRET_KEY": "bench-secret",
                    "VERDICTS_REDIS_NAMESPACE": f"verdicts-bench-{uuid.uuid4().hex[:8]}",
                    "VERDICTS_BASE_URL": f"http://127.0.0.1:{port}"})
        server_log = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stall the server's logging
        server = subprocess.Popen([sys.executable, "-m", "services.cli", "web", "--port", str(port)], env=env,
                                  stdout=server_log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                server_log.seek(0)
                raise SystemExit(f"the web server did not start: {server_log.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.2)
        figures: dict[str, float | int] = {"tools": tools, "candidates": candidates, "comparisons": pairs,
                                           **measure(base, slugs, candidate_ids, rounds, queries)}
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        drop_database(ADMIN_URL, name)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "web.json").write_text(json.dumps(figures, indent=2) + "\n")
    width = max(map(len, figures))
    print(f"{'figure':<{width}}  value   (target: p50 < 50 ms, search and category p99 <= 200 ms; "
          "machine shared with other work)")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(f"wrote {RESULTS / 'web.json'}")


if __name__ == "__main__":
    main()
