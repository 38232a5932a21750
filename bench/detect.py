"""Detection and entity resolution scored on the project's own labeled set (bench/detect_labels.py).

Two figures: per entry, is it "a new tool, model or release" (precision, recall); and per pair of
true releases, were two sightings of the same tool put on one candidate and sightings of different
tools kept apart (pairwise precision, recall). Resolution runs the real pipeline code on a scratch
SQLite database. Prints a table and writes bench/results/detect.json.

    python bench/detect.py
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.detect_labels import CASES, Case
from services.core.db.migrate import upgrade
from services.core.db.models import Entry, Evidence, Source
from services.core.domain import ParsedEntry
from services.core.runtime import Runtime
from services.core.settings import load_settings
from services.ingest.adapters import release_tag
from services.ingest.detect import detect
from services.ingest.parser import clean_html
from services.ingest.store import store_entries

RESULTS = Path(__file__).with_name("results")


def entry_of(case: Case, n: int) -> ParsedEntry:
    entry = ParsedEntry(guid=f"case-{n}", title=case.title, link=case.link, summary=clean_html(case.summary),
                        published_at=None)
    tag = release_tag(entry) if case.kind == "github-releases" else None
    return ParsedEntry(**{**entry.__dict__, "version": tag})


def ratio(hits: int, total: int) -> float:
    return round(hits / total, 3) if total else 1.0


def entry_scores() -> tuple[dict[str, float], list[tuple[Case, float, str]]]:
    tp = fp = fn = 0
    misses = []
    for n, case in enumerate(CASES):
        found = detect(entry_of(case, n))
        truth = case.tool is not None
        tp += found.is_release and truth
        fp += found.is_release and not truth
        fn += truth and not found.is_release
        if found.is_release != truth:
            misses.append((case, found.score, "; ".join(found.reasons)))
    return {"precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn)}, misses


def resolution_scores() -> dict[str, float]:
    """Run every case through store_entries, then compare the tools found with the labels, pairwise."""
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings({}, database_url=f"sqlite:///{folder}/detect.db", var_dir=folder,
                                 secret_key="bench-only")
        rt = Runtime.from_settings(settings)
        upgrade(rt.engine)
        with rt.sessions() as session, session.begin():
            sources: dict[str, Source] = {}
            for n, case in enumerate(CASES):
                source = sources.get(case.source)
                if source is None:
                    source = sources[case.source] = Source(url=case.source, kind=case.kind)
                    session.add(source)
                    session.flush()
                store_entries(session, [(source, [entry_of(case, n)])])
            tool_of = dict(session.execute(select(Entry.guid, Evidence.tool_id).join(Evidence,
                                                                                       Evidence.entry_id == Entry.id)).all())
        rt.engine.dispose()
    labeled = [(f"case-{n}", case.tool) for n, case in enumerate(CASES) if case.tool is not None]
    tp = fp = fn = 0
    for (guid_a, tool_a), (guid_b, tool_b) in itertools.combinations(labeled, 2):
        same_truth = tool_a == tool_b
        found_a, found_b = tool_of.get(guid_a), tool_of.get(guid_b)
        same_found = found_a is not None and found_a == found_b
        tp += same_truth and same_found
        fp += same_found and not same_truth
        fn += same_truth and not same_found
    expected_tools = len({tool for _, tool in labeled})
    return {"pair_precision": ratio(tp, tp + fp), "pair_recall": ratio(tp, tp + fn),
            "expected_tools": expected_tools, "candidates": len(set(tool_of.values()))}


def main() -> None:
    console = Console()
    entries, misses = entry_scores()
    resolution = resolution_scores()
    table = Table("measure", "value", title=f"Detection on {len(CASES)} labeled entries")
    table.add_row("entries: precision", f"{entries['precision']:.3f}")
    table.add_row("entries: recall", f"{entries['recall']:.3f}")
    table.add_row("same tool, pairwise: precision", f"{resolution['pair_precision']:.3f}")
    table.add_row("same tool, pairwise: recall", f"{resolution['pair_recall']:.3f}")
    table.add_row("tools expected / tools found", f"{resolution['expected_tools']} / {resolution['candidates']}")
    console.print(table)
    for case, score, reasons in misses:
        console.print(f"  miss: {'release' if case.tool else 'noise'} scored {score:.2f}: {case.title!r} ({reasons})")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "detect.json").write_text(json.dumps({"cases": len(CASES), **entries, **resolution}, indent=2) + "\n")


if __name__ == "__main__":
    main()
