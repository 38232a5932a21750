"""Editors' decisions as training examples, and refitting only when it does not do worse.

An approved or merged candidate's entries are releases; a rejected candidate's entries are not.
``refit`` holds back every ``HELD_BACK``-th example (corpus and decisions alike, in a fixed order),
fits on the rest, and keeps the new model only when it agrees with the held-back labels at least as
well (F1) as the current model does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db.models import Entry, Evidence, Source, Tool
from services.core.domain import ParsedEntry, SourceFacts, ToolState
from services.ingest.detector.model import Model
from services.ingest.detector.training import Example, agreement, fit

HELD_BACK = 5
POSITIVE = (ToolState.APPROVED, ToolState.MERGED)


def decision_examples(session: Session) -> list[Example]:
    """One example per entry behind a decided tool: approved/merged positive, rejected negative."""
    rows = session.execute(
        select(Entry, Source, Tool.state).join(Evidence, Evidence.entry_id == Entry.id)
        .join(Tool, Tool.id == Evidence.tool_id).join(Source, Source.id == Entry.source_id)
        .where(Tool.state.in_([*POSITIVE, ToolState.REJECTED])).order_by(Entry.id)).all()
    examples: dict[int, Example] = {}
    for entry, source, state in rows:
        parsed = ParsedEntry(guid=entry.guid, title=entry.title, link=entry.link, summary=entry.summary,
                             published_at=entry.published_at, author=entry.author, tags=tuple(entry.tags or ()))
        facts = SourceFacts(kind=str(source.kind), url=source.url, title=source.title, tool_key=source.tool_key)
        examples[entry.id] = Example(parsed, facts, state in POSITIVE)
    return list(examples.values())


@dataclass(frozen=True)
class Refit:
    """A refit's outcome: the model to use, and both models' F1 on the held-back examples."""

    model: Model
    replaced: bool
    current_f1: float
    candidate_f1: float
    held_back: int


def refit(current: Model, examples: Sequence[Example]) -> Refit:
    """Fit on all but the held-back examples; keep the fit only if it scores at least as well.

    Raises ValueError when the training part holds only one class.
    """
    held = [e for n, e in enumerate(examples) if n % HELD_BACK == HELD_BACK - 1]
    rest = [e for n, e in enumerate(examples) if n % HELD_BACK != HELD_BACK - 1]
    candidate = fit(rest, threshold=current.threshold, families=current.families)
    current_f1, candidate_f1 = agreement(current, held).f1, agreement(candidate, held).f1
    better = candidate_f1 >= current_f1
    return Refit(fit(examples, current.threshold, current.families) if better else current, better, current_f1,
                 candidate_f1, len(held))
