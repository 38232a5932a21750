"""Candidates: new entries that name a release become candidate tools for the review queue.

Each sighting is resolved to the tool it names (by canonical keys, then a fuzzy-matched name) or
opens a new candidate; every sighting is kept as evidence, and events say what happened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.core import events, limits
from services.core.db.models import Event, Evidence, Source, Tool, ToolKey
from services.core.domain import Detection, EvidenceKind, ParsedEntry, ToolState
from services.ingest import resolve

log = logging.getLogger(__name__)

#: Tries of resolution when other workers keep creating the same tools meanwhile.
RESOLVE_ATTEMPTS = 3
#: Bulk inserts go to the tables (Core), not through the ORM's bulk path: same rows, less work per row.
EVENTS, EVIDENCE, TOOL_KEYS = (model.__table__ for model in (Event, Evidence, ToolKey))


@dataclass(frozen=True)
class Stored:
    """A new entry as inserted: its id, the source it came from and the parsed values it was made from."""

    id: int
    source: Source
    item: ParsedEntry


def queue_candidates(session: Session, sightings: list[tuple[Stored, Detection]]) -> dict[int, int]:
    """Attach each release among ``sightings`` to the tool it names, or open a new candidate.

    Returns how many candidates are new, per source id (sources with none are left out). Runs in
    a savepoint of the caller's transaction: when another worker created one of the same tools a
    moment ago, the unique key says so once that worker has committed, and only this step is rolled
    back and done again (it then finds that tool); the entries already written stay. Raises
    IntegrityError when that still happens on the last of ``RESOLVE_ATTEMPTS`` tries.
    """
    for attempt in range(1, RESOLVE_ATTEMPTS + 1):
        try:
            with session.begin_nested():
                return _queue(session, sightings)
        except IntegrityError as exc:
            if attempt == RESOLVE_ATTEMPTS:
                raise
            log.info("a tool was created by another worker meanwhile (%s); resolving again", type(exc.orig).__name__)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _once_per_tool(outcomes: list[tuple[str, Tool, Stored, Detection]]) -> list[tuple[str, Tool, Stored, Detection]]:
    """One evidence row per (tool, entry): an entry naming one tool twice gives one sighting."""
    seen: set[tuple[int, int]] = set()
    kept = []
    for outcome in outcomes:
        mark = (id(outcome[1]), outcome[2].id)
        if mark not in seen:
            seen.add(mark)
            kept.append(outcome)
    return kept


def _queue(session: Session, sightings: list[tuple[Stored, Detection]]) -> dict[int, int]:
    """One try of queue_candidates.

    One lookup resolves the keys of the whole batch; sightings in the same batch that share a key
    (ten releases of one repository, or one release seen in two feeds) land on the same tool. A
    rejected tool keeps new sightings as evidence but does not come back to the queue; an approved
    one gets them as updates.
    """
    releases = [(entry, detection) for entry, detection in sightings if detection.is_release]
    if not releases:
        return {}
    with session.no_autoflush:
        by_key = resolve.known_tools(session, {key for _, detection in releases for key in detection.keys})
        unresolved = [d.name for _, d in releases if d.key and d.key.startswith("name:")
                      and not any(key in by_key for key in d.keys)]
        similar = resolve.similar_names(session, unresolved)
        slugs = resolve.SlugBook(session)
        new_keys: list[tuple[Tool, str]] = []
        outcomes: list[tuple[str, Tool, Stored, Detection]] = []
        for entry, detection in releases:
            tool = next((by_key[key] for key in detection.keys if key in by_key), None)
            if tool is None and detection.key and detection.key.startswith("name:"):
                tool = similar.best(detection.name)
            if tool is None:
                tool = Tool(slug=slugs.take(detection.name), name=detection.name, vendor=detection.vendor,
                            homepage=detection.homepage, version=detection.version, canonical_key=detection.key,
                            score=detection.score, reasons=list(detection.reasons),
                            model_version=detection.model_version)
                session.add(tool)
                similar.add(tool)
                outcome = "new"
            elif tool.state == ToolState.APPROVED:
                if detection.version:
                    tool.version = detection.version
                outcome = "update"
            else:
                outcome = "detected"
            for key in detection.keys:
                if key not in by_key:
                    by_key[key] = tool
                    new_keys.append((tool, key))
            outcomes.append((outcome, tool, entry, detection))
    outcomes = _once_per_tool(outcomes)
    session.flush()  # new tools get their ids
    session.execute(insert(EVIDENCE), [
        {"tool_id": tool.id, "entry_id": entry.id, "source_url": entry.source.url, "url": entry.item.link,
         "title": limits.clip(entry.item.title, limits.EVIDENCE_TITLE),
         "snippet": limits.clip(entry.item.summary, limits.EVIDENCE_SNIPPET), "version": detection.version,
         "names": list(detection.names) or None,
         "kind": EvidenceKind.UPDATE if outcome == "update" else EvidenceKind.DETECTED}
        for outcome, tool, entry, detection in outcomes])
    if new_keys:
        session.execute(insert(TOOL_KEYS), [{"tool_id": tool.id, "key": limits.clip(key, limits.TOOL_KEY)}
                                            for tool, key in new_keys])
    happened: list[dict[str, object]] = []
    new_per_source: dict[int, int] = {}
    for outcome, tool, entry, detection in outcomes:
        if outcome == "new":
            happened.append(events.row("tool.detected", tool_id=tool.id, entry_id=entry.id, score=detection.score))
            happened.append(events.row("tool.queued", tool_id=tool.id))
            new_per_source[entry.source.id] = new_per_source.get(entry.source.id, 0) + 1
        else:
            happened.append(events.row("tool.updated" if outcome == "update" else "tool.evidence_added",
                                       tool_id=tool.id, entry_id=entry.id))
    session.execute(insert(EVENTS), happened)  # what events.record() writes, in one statement for the batch
    return new_per_source
