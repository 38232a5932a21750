"""Benchmark of the weekly digest: compile a digest of ten comparisons, then render it many times.

Render time is what the scheduler and every editor edit pay (Jinja → MJML → HTML, plus the plain
text); it is rendered once per digest, never per subscriber. Runs on a throwaway SQLite database.
Prints a table and writes bench/results/digest.json.

    python bench/digest.py [--comparisons N] [--renders N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db.migrate import upgrade
from services.core.db.models import Tool, Verdict
from services.core.domain import Call, iso_week
from services.core.runtime import Runtime
from services.core.settings import load_settings
from services.core.slugs import unique_slug
from services.digest import compose
from services.review import comparisons, panel, queue
from services.review.tool_edits import ToolEdits

RESULTS = Path(__file__).with_name("results")
CALLS = (Call.SHIP, Call.SHIP, Call.SKIP, Call.SHIP)


def _judged_tool(session: Session, name: str) -> Tool:
    """An approved tool whose verdict every panel seat completed, through the review package's functions."""
    tool = Tool(slug=unique_slug(session, Tool.slug, name), name=name, score=0.9, reasons=["bench"],
                canonical_key=f"bench:{name.lower()}")
    session.add(tool)
    session.flush()
    queue.approve(session, tool.id, None, ToolEdits(category="Developer Tools", tagline=f"{name}, in one line",
                                                    entry_price="$20/mo", description=f"What {name} does."))
    verdict_id = session.scalar(select(Verdict.id).where(Verdict.tool_id == tool.id))
    for seat, call in zip(panel.ensure_seats(session), CALLS, strict=False):
        panel.submit(session, verdict_id, seat.id, call, f"{seat.lens} on {name}")
    return tool


def run(rt: Runtime, count: int, renders: int) -> dict[str, float | int]:
    with rt.sessions() as session, session.begin():
        for n in range(count):
            a, b = _judged_tool(session, f"Tool {n}A"), _judged_tool(session, f"Tool {n}B")
            comparison = comparisons.create(session, a.id, b.id, editor_note="Which one ships first?")
            comparisons.publish(session, comparison.id)
    week = iso_week(dt.date.today())
    with rt.sessions() as session, session.begin():
        started = time.perf_counter()
        digest = compose.compile_week(session, rt.settings, week)
        compile_ms = (time.perf_counter() - started) * 1000
        assert digest is not None and sum(s["kind"] == "comparison" for s in digest.sections) == count
        timings = []
        for _ in range(renders):
            tick = time.perf_counter()
            compose.render_digest(rt.settings, digest)
            timings.append((time.perf_counter() - tick) * 1000)
        html_bytes = len((digest.html or "").encode("utf-8"))
        text_bytes = len((digest.text or "").encode("utf-8"))
    timings.sort()
    return {
        "comparisons": count,
        "renders": renders,
        "compile_ms_first": round(compile_ms, 2),
        "render_ms_p50": round(statistics.median(timings), 3),
        "render_ms_p95": round(timings[int(len(timings) * 0.95) - 1], 3),
        "html_bytes": html_bytes,
        "text_bytes": text_bytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparisons", type=int, default=10)
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings({}, database_url=f"sqlite:///{folder}/bench.db", secret_key="bench",
                                 var_dir=folder, outbox_dir=f"{folder}/outbox",
                                 base_url="https://verdicts.example.org")
        rt = Runtime.from_settings(settings)
        upgrade(rt.engine)
        figures = run(rt, args.comparisons, args.renders)
        rt.engine.dispose()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "digest.json").write_text(json.dumps(figures, indent=2) + "\n")
    width = max(map(len, figures))
    print(f"{'figure':<{width}}  value")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(f"render p50 {'under' if figures['render_ms_p50'] < 20 else 'OVER'} the 20 ms target")
    print(f"wrote {RESULTS / 'digest.json'}")


if __name__ == "__main__":
    main()
