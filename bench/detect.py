"""Detection scored leave-one-feed-out on the labelled corpus (services/ingest/detector/labels).

For each feed of the corpus, the model is fitted on every other feed and scores that feed's entries,
so no entry is scored by a model that saw its feed. Then every feed is stored through the real
store and candidates steps (a scratch SQLite database) with the model each feed was held out of,
twice: GitHub release feeds first, then last (a changelog may be polled before the releases). Figures, each beside the in-sample one (fitted on everything):

- recall of ``new`` and of ``update`` entries (a candidate was made or fed), precision (entries
  called releases that are labelled new or update);
- name accuracy: labelled tools of detected entries whose name is among the names detected for
  the entry (case and punctuation ignored);
- cross-source merges: labelled tools seen in two feeds whose entries landed on one candidate, in
  both orders.

Also the feature families compared, leave-one-feed-out. Prints a table; writes bench/results/detect.json.

    python bench/detect.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.core.db.migrate import upgrade
from services.core.db.models import Entry, Evidence, Source
from services.core.runtime import Runtime
from services.core.settings import load_settings
from services.ingest.detect import detect
from services.ingest.detector import training
from services.ingest.detector.corpus import LabelledEntry, load_corpus
from services.ingest.detector.features import ALL_FAMILIES
from services.ingest.detector.keys import comparable_name
from services.ingest.detector.model import Model
from services.ingest.store import store_entries

RESULTS = Path(__file__).with_name("results")
TARGETS = {"recall_new": 0.90, "recall_update": 0.95, "precision": 0.85, "name_accuracy": 0.80}
FAMILY_CHOICES = (("rule",), training.FAMILIES, ("rule", "kind", "title"), ALL_FAMILIES)


def ratio(hits: int, total: int) -> float:
    return round(hits / total, 3) if total else 1.0


def examples(rows: list[LabelledEntry]) -> list[training.Example]:
    return [training.Example(r.entry, r.source, r.is_release) for r in rows]


def models(corpus: list[LabelledEntry], families: tuple[str, ...], held_out: bool) -> dict[str, Model]:
    """The model that scores each feed: fitted without it (held_out) or on everything."""
    feeds = sorted({r.feed for r in corpus})
    if not held_out:
        everything = training.fit(examples(corpus), families=families)
        return dict.fromkeys(feeds, everything)
    return {feed: training.fit(examples([r for r in corpus if r.feed != feed]), families=families) for feed in feeds}


def entry_figures(corpus: list[LabelledEntry], by_feed: dict[str, Model]) -> tuple[dict[str, float], list[str]]:
    counts: dict[str, int] = defaultdict(int)
    misses = []
    for row in corpus:
        found = detect(row.entry, row.source, model=by_feed[row.feed])
        called = found[0].is_release
        counts[f"{row.label}_total"] += 1
        counts[f"{row.label}_called"] += called
        if called and row.is_release:
            names = {comparable_name(d.name) for d in found}
            for tool in row.tools:
                counts["names_total"] += 1
                counts["names_right"] += comparable_name(str(tool["name"])) in names
        if called != row.is_release:
            misses.append(f"{row.label:6} scored {found[0].score:.2f}: {row.feed[:28]} {row.entry.title[:60]!r}")
    called = counts["new_called"] + counts["update_called"] + counts["noise_called"]
    return {"recall_new": ratio(counts["new_called"], counts["new_total"]),
            "recall_update": ratio(counts["update_called"], counts["update_total"]),
            "precision": ratio(counts["new_called"] + counts["update_called"], called),
            "name_accuracy": ratio(counts["names_right"], counts["names_total"])}, misses


def merge_figures(corpus: list[LabelledEntry], by_feed: dict[str, Model]) -> dict[str, float]:
    """Store every feed through the real steps, GitHub release feeds first and then last; count
    labelled tools seen in two feeds that landed on one candidate in both orders."""
    pairs = [_merged_pairs(corpus, by_feed, releases_first) for releases_first in (True, False)]
    return {"cross_source_pairs": len(pairs[0]), "cross_source_merged": sum(all(p[k] for p in pairs) for k in pairs[0])}


def _merged_pairs(corpus: list[LabelledEntry], by_feed: dict[str, Model], releases_first: bool) -> dict[str, bool]:
    """For each labelled tool seen in two or more feeds: whether all its sightings share a candidate."""
    order = sorted({r.feed: r.source.kind for r in corpus}.items(),
                   key=lambda fk: ((fk[1] != "github-releases") == releases_first, fk[0]))
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings({}, database_url=f"sqlite:///{folder}/detect.db", var_dir=folder, secret_key="bench")
        rt = Runtime.from_settings(settings)
        upgrade(rt.engine)
        with rt.sessions() as session, session.begin():
            for feed, _ in order:
                rows = [r for r in corpus if r.feed == feed]
                source = Source(url=f"{rows[0].source.url}#{feed}", kind=rows[0].source.kind,
                                title=rows[0].source.title)
                session.add(source)
                session.flush()
                store_entries(session, [(source, [r.entry for r in rows])], model=by_feed[feed])
            found = session.execute(select(Source.url, Entry.guid, Evidence.tool_id)
                                    .join(Entry, Entry.source_id == Source.id)
                                    .join(Evidence, Evidence.entry_id == Entry.id)).all()
        rt.engine.dispose()
    tools_of: dict[tuple[str, str], set[int]] = defaultdict(set)
    for url, guid, tool_id in found:
        tools_of[(url.rsplit("#", 1)[1], guid)].add(tool_id)
    by_key: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for row in corpus:
        for tool in row.tools:
            by_key[str(tool["key"])][row.feed] |= tools_of.get((row.feed, row.entry.guid), set()) or {-1}
    return {key: len(set.intersection(*feeds.values()) - {-1}) > 0 for key, feeds in by_key.items() if len(feeds) > 1}


def main() -> None:
    console = Console()
    corpus = load_corpus()
    figures: dict[str, dict[str, float]] = {}
    misses: list[str] = []
    shipped: dict[str, float] = {}
    for mode, held_out in (("leave_one_feed_out", True), ("in_sample", False)):
        by_feed = models(corpus, training.FAMILIES, held_out)
        entries, missed = entry_figures(corpus, by_feed)
        figures[mode] = {**entries, **merge_figures(corpus, by_feed)}
        misses = misses or missed
        if held_out:  # the shipped families' leave-one-feed-out figures, not fitted again below
            shipped = entries
    families = {"+".join(f): shipped if f == training.FAMILIES else entry_figures(corpus, models(corpus, f, True))[0]
                for f in FAMILY_CHOICES}
    table = Table("measure", "leave one feed out", "in sample", "target",
                  title=f"Detection on {len(corpus)} labelled entries of {len({r.feed for r in corpus})} feeds")
    for name in (*TARGETS, "cross_source_merged", "cross_source_pairs"):
        table.add_row(name, str(figures["leave_one_feed_out"][name]), str(figures["in_sample"][name]),
                      str(TARGETS.get(name, "all pairs" if name == "cross_source_merged" else "")))
    console.print(table)
    compared = Table("features (leave one feed out)", *TARGETS)
    for name, values in families.items():
        compared.add_row(name, *(str(values[k]) for k in TARGETS))
    console.print(compared)
    for miss in misses:
        console.print(f"  miss: {miss}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "detect.json").write_text(json.dumps({"entries": len(corpus), **figures, "families": families},
                                                    indent=2) + "\n")


if __name__ == "__main__":
    main()
