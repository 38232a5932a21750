"""The labelled corpus: every entry of the captured feeds (``../shared/feeds``) and of our own
(``labels/feeds``), each with our label.

``labels/*.jsonl`` holds one line per entry: ``feed`` (file name), ``guid``, ``title`` (to read
along), ``label`` (``new`` | ``update`` | ``noise``), ``tools`` (each ``{"name", "key", "version"}``;
empty for noise), ``low_confidence`` (a judgement call) and ``note``. Feeds are parsed by the same
adapters the poller uses, so the corpus sees what production sees.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from services.core.domain import ParsedEntry, SourceFacts
from services.ingest import hub
from services.ingest.adapters import GitHubReleasesAdapter, parse_document
from services.ingest.fetcher import FetchResult

LABELS = Path(__file__).with_name("labels")
OWN_FEEDS = LABELS / "feeds"
#: Where the captured feeds sit in a checkout: ../shared/feeds beside the project.
SHARED_FEEDS = Path(__file__).resolve().parents[4] / "shared" / "feeds"
CLASSES = ("new", "update", "noise")


@dataclass(frozen=True)
class LabelledEntry:
    """One entry of one feed, as parsed, with our label."""

    feed: str
    source: SourceFacts
    entry: ParsedEntry
    label: str
    tools: tuple[dict[str, str | None], ...]
    low_confidence: bool

    @property
    def is_release(self) -> bool:
        return self.label != "noise"


def read_feed(path: Path) -> tuple[SourceFacts, list[ParsedEntry]]:
    """A feed file's entries as the poller would parse them, and what the source looks like.

    A Hub models API answer (``.json``) is read as the Hub adapter reads it; a feed whose own link
    is a GitHub releases page as a GitHub releases source (tags from the entries); any other as a
    feed. Raises ParseError for a file that is none of these.
    """
    body = path.read_bytes()
    if path.suffix == ".json":
        now = dt.datetime.now(dt.UTC)
        entries = [e for e in (hub.model_entry(m, now) for m in hub.models_page(body)) if e is not None]
        return SourceFacts(kind="hf-models", url="https://huggingface.co/api/models", title="Hub models"), entries
    parsed = parse_document(FetchResult(url=f"file:///{path.name}", status=200, body=body))
    link = parsed.link or ""
    if "github.com/" in link and link.rstrip("/").endswith("/releases"):
        parsed = GitHubReleasesAdapter().parse(FetchResult(url=link + ".atom", status=200, body=body))
        return SourceFacts(kind="github-releases", url=link + ".atom", title=parsed.title), parsed.entries
    return SourceFacts(kind="feed", url=link, title=parsed.title), parsed.entries


def feed_paths(shared: Path = SHARED_FEEDS) -> list[Path]:
    """Every feed file of the corpus, captured ones first, in name order."""
    captured = sorted(p for p in shared.glob("*") if p.suffix in (".xml", ".json")) if shared.exists() else []
    return captured + sorted(p for p in OWN_FEEDS.glob("*") if p.suffix in (".xml", ".json"))


def labels() -> dict[tuple[str, str], dict[str, object]]:
    """The labels by (feed file name, entry guid)."""
    found: dict[tuple[str, str], dict[str, object]] = {}
    for path in sorted(LABELS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found[(row["feed"], row["guid"])] = row
    return found


def load_corpus(shared: Path = SHARED_FEEDS) -> list[LabelledEntry]:
    """Every labelled entry of every feed; raises LookupError naming the first entry without a label
    (the corpus is complete or it is not used)."""
    known = labels()
    corpus: list[LabelledEntry] = []
    for path in feed_paths(shared):
        source, entries = read_feed(path)
        for entry in entries:
            row = known.get((path.name, entry.guid))
            if row is None:
                raise LookupError(f"no label for {path.name} / {entry.guid} ({entry.title!r})")
            if row["label"] not in CLASSES:
                raise LookupError(f"unknown label {row['label']!r} for {path.name} / {entry.guid}")
            corpus.append(LabelledEntry(path.name, source, entry, str(row["label"]),
                                        tuple(row.get("tools") or ()), bool(row.get("low_confidence"))))  # type: ignore[arg-type]
    return corpus
