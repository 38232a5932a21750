"""Store: the parsed entries of polled sources become entry rows, once each.

New entries are inserted with an ``entry.ingested`` event each, entries the publisher edited are
updated in place, deleted ones stay deleted (a tombstone), and the new ones go on to detection and
the candidates step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import NamedTuple

from sqlalchemy import insert, null, select, update
from sqlalchemy.orm import Session

from services.core import events
from services.core.db.base import utcnow
from services.core.db.models import Entry, EntryTombstone, Event, Source
from services.core.domain import ParsedEntry, SourceFacts
from services.ingest.candidates import Stored, queue_candidates
from services.ingest.detect import detect
from services.ingest.detector.model import Model
from services.ingest.detector.signals import is_changelog
from services.ingest.detector.versions import item_version
from services.ingest.parser import content_hash
from services.ingest.ties import infer_tie

#: Bulk inserts go to the tables (Core), not through the ORM's bulk path: same rows, less work per row.
ENTRIES, EVENTS = (model.__table__ for model in (Entry, Event))


class StoreCounts(NamedTuple):
    """What storing one source's entries did."""

    new_entries: int = 0
    new_candidates: int = 0
    updated_entries: int = 0


def store_entries(session: Session, batch: Sequence[tuple[Source, list[ParsedEntry]]],
                  threshold: float | None = None, model: Model | None = None) -> dict[int, StoreCounts]:
    """Store the entries of one or more sources (each with its parsed entries) in the caller's
    transaction: those not seen before are added, edited ones updated, tools detected among the new
    by ``model`` (None: the shipped one; an entry counts as a release from ``threshold``; None: the
    model's own).
    Returns the counts per source id, one for every source of the batch.

    Written with set-based statements (one SELECT for what is known or buried, one multi-row INSERT
    … RETURNING for the new entries, one for their events), each once for the whole batch: per-row
    ORM work, or a statement per source, would cost more than parsing the feeds did. Database
    errors propagate (the caller's transaction is then to be rolled back).
    """
    counts = {source.id: [0, 0, 0] for source, _ in batch}
    wanted = {(source.id, entry.guid) for source, entries in batch for entry in entries}
    if not wanted:
        return {source_id: StoreCounts() for source_id in counts}
    source_ids, guids = list(counts), list({guid for _, guid in wanted})
    seen = session.execute(
        select(Entry.source_id, Entry.guid, Entry.id, Entry.content_hash)
        .where(Entry.source_id.in_(source_ids), Entry.guid.in_(guids))
        .union_all(select(EntryTombstone.source_id, EntryTombstone.guid, null(), null())
                   .where(EntryTombstone.source_id.in_(source_ids), EntryTombstone.guid.in_(guids)))
    ).all()
    known = {(source_id, guid): (entry_id, digest) for source_id, guid, entry_id, digest in seen}
    fresh: list[tuple[Source, ParsedEntry, str]] = []
    for source, entries in batch:
        for item in entries:
            digest = content_hash(item)
            found = known.get((source.id, item.guid))
            if found is not None:
                entry_id, stored_digest = found
                if entry_id is not None and stored_digest != digest:  # edited by the publisher: keep the latest text
                    session.execute(update(Entry).where(Entry.id == entry_id).values(
                        title=item.title, link=item.link, summary=item.summary, content_hash=digest))
                    known[(source.id, item.guid)] = (entry_id, digest)
                    counts[source.id][2] += 1
                continue  # known, or a tombstone: a deleted entry does not come back
            known[(source.id, item.guid)] = (None, digest)
            fresh.append((source, item, digest))
    if fresh:
        now = utcnow()
        ids = session.scalars(
            insert(ENTRIES).returning(ENTRIES.c.id, sort_by_parameter_order=True),
            [{"source_id": source.id, "guid": item.guid, "link": item.link, "title": item.title,
              "summary": item.summary, "author": item.author, "tags": list(item.tags), "content_hash": digest,
              "published_at": item.published_at, "fetched_at": now} for source, item, digest in fresh],
        ).all()
        stored = [Stored(entry_id, source, item) for entry_id, (source, item, _) in zip(ids, fresh, strict=True)]
        session.execute(insert(EVENTS), [events.row("entry.ingested", entry_id=entry.id, source_id=entry.source.id)
                                         for entry in stored])
        for entry in stored:
            counts[entry.source.id][0] += 1
        facts = _source_facts(session, stored)
        sightings = [(entry, found) for entry in stored
                     for found in detect(entry.item, facts[entry.source.id], model, threshold)]
        for source_id, new_candidates in queue_candidates(session, sightings).items():
            counts[source_id][1] = new_candidates
    return {source_id: StoreCounts(*numbers) for source_id, numbers in counts.items()}


def _source_facts(session: Session, stored: list[Stored]) -> dict[int, SourceFacts]:
    """What the detector may know of each source of ``stored``; an untied changelog source whose new
    items are versions (``versions.item_version``) is tied first when those versions match one
    repository's releases."""
    titles: dict[int, tuple[Source, list[str]]] = {}
    for entry in stored:
        titles.setdefault(entry.source.id, (entry.source, []))[1].append(entry.item.title)
    facts: dict[int, SourceFacts] = {}
    for source_id, (source, source_titles) in titles.items():
        seen = SourceFacts(kind=str(source.kind), url=source.url, title=source.title, tool_key=source.tool_key)
        if source.tool_key is None and is_changelog(seen):
            tied = infer_tie(session, source, [v for v in map(item_version, source_titles) if v])
            seen = replace(seen, tool_key=tied) if tied else seen
        facts[source_id] = seen
    return facts
