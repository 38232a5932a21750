"""Entity resolution: which tool an entry speaks of, by canonical keys first and then by a fuzzy name.

A tool keeps every key it was seen under (tool_keys), so a GitHub release, a Hub model card and a
vendor's blog post that links to either land on one tool with several pieces of evidence.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.core.db.models import Tool, ToolKey
from services.core.domain import ToolState
from services.core.slugs import slugify
from services.ingest.detector.keys import normalized_name

FUZZY_CUTOFF = 90
FUZZY_POOL = 200
NUMBERS = re.compile(r"\d+")


def known_tools(session: Session, keys: set[str]) -> dict[str, Tool]:
    """The tool behind each of ``keys`` that some tool already holds (merged tools followed)."""
    if not keys:
        return {}
    rows = session.execute(
        select(ToolKey.key, ToolKey.tool_id).where(ToolKey.key.in_(keys))
        .union_all(select(Tool.canonical_key, Tool.id).where(Tool.canonical_key.in_(keys)))
    ).all()
    ids: dict[str, int] = {}
    for key, tool_id in rows:
        ids.setdefault(key, tool_id)
    if not ids:
        return {}
    tools = {tool.id: tool for tool in session.scalars(select(Tool).where(Tool.id.in_(set(ids.values()))))}
    return {key: _followed(session, tools[tool_id]) for key, tool_id in ids.items()}  # type: ignore[misc]


class SimilarNames:
    """Tools whose names may match a batch's unresolved names, fetched in one query, scored by rapidfuzz.

    Only tools whose name starts with the same first word as one of the names are fetched, so the
    database does the coarse cut; a name matches when the score reaches FUZZY_CUTOFF and both names
    carry the same numbers ("Gemini 3.7" is not "Gemini 3.5").
    """

    def __init__(self, session: Session, tools: list[Tool]) -> None:
        self.session = session
        self.tools = tools

    def add(self, tool: Tool) -> None:
        self.tools.append(tool)

    def best(self, name: str) -> Tool | None:
        numbers = NUMBERS.findall(name)
        choices = {n: tool.name for n, tool in enumerate(self.tools) if NUMBERS.findall(tool.name) == numbers}
        if not choices:
            return None
        found = process.extractOne(name, choices, scorer=fuzz.token_sort_ratio, processor=_comparable,
                                   score_cutoff=FUZZY_CUTOFF)
        return _followed(self.session, self.tools[found[2]]) if found else None


def similar_names(session: Session, names: list[str]) -> SimilarNames:
    """The tools whose name may match one of ``names``: those whose name, or a ``name:`` key, starts
    with the first word of one of them (words as ``keys.normalized_name`` makes them: NFKC,
    case-folded, letters of any script). The keys carry the cut for names outside ASCII, which the
    database's ``lower()`` may not fold (SQLite's does not)."""
    firsts = sorted({normalized_name(name).split("-")[0] for name in names} - {""})
    if not firsts:
        return SimilarNames(session, [])
    by_key = select(ToolKey.tool_id).where(or_(*(ToolKey.key.like(f"name:{first}%") for first in firsts)))
    query = (select(Tool).where(or_(*(func.lower(Tool.name).like(f"{first}%") for first in firsts),
                                    Tool.id.in_(by_key)))
             .order_by(Tool.id.desc()).limit(FUZZY_POOL))
    return SimilarNames(session, list(session.scalars(query)))


def _comparable(name: str) -> str:
    """A name as fuzzy matching compares it: normalized (``keys.normalized_name``), words apart."""
    return normalized_name(name).replace("-", " ")


class SlugBook:
    """Unique slugs for the new tools of one batch; the taken ones are read once, on first use."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.taken: set[str] = set()
        self.asked: set[str] = set()

    def take(self, name: str) -> str:
        base = slugify(name)
        if base not in self.asked:
            self.asked.add(base)
            self.taken |= set(self.session.scalars(select(Tool.slug).where(Tool.slug.like(f"{base}%"))))
        slug, n = base, 2
        while slug in self.taken:
            slug, n = f"{base}-{n}", n + 1
        self.taken.add(slug)
        return slug


def _followed(session: Session, tool: Tool | None) -> Tool | None:
    """A merged tool stands for the tool it was merged into."""
    hops = 0
    while tool is not None and tool.state == ToolState.MERGED and tool.merged_into_id and hops < 10:
        tool = session.get(Tool, tool.merged_into_id)
        hops += 1
    return tool
