"""Entity resolution: which tool an entry speaks of, by canonical keys first and then by a fuzzy name.

A tool keeps every key it was seen under (tool_keys), so a GitHub release, a Hub model card and a
vendor's blog post that links to either land on one tool with several pieces of evidence.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db.models import Tool, ToolKey
from services.core.domain import Detection, ToolState

FUZZY_CUTOFF = 90
FUZZY_POOL = 1000
NUMBERS = re.compile(r"\d+")


def find_tool(session: Session, detection: Detection) -> Tool | None:
    keys = detection.keys
    if keys:
        # The strongest key wins: the entry's own (repository, model) before the ones it links to.
        known = dict(session.execute(select(ToolKey.key, ToolKey.tool_id).where(ToolKey.key.in_(keys))).all())
        known.update({key: tool_id for tool_id, key in session.execute(
            select(Tool.id, Tool.canonical_key).where(Tool.canonical_key.in_(keys))).all() if key not in known})
        for key in keys:
            if key in known:
                return _followed(session, session.get(Tool, known[key]))
    if detection.key and detection.key.startswith("name:"):
        return _fuzzy(session, detection.name)
    return None


def _fuzzy(session: Session, name: str) -> Tool | None:
    """A recent tool whose name matches closely and carries the same numbers ("Gemini 3.7" ≠ "Gemini 3.5")."""
    rows = session.execute(select(Tool.id, Tool.name).order_by(Tool.id.desc()).limit(FUZZY_POOL)).all()
    if not rows:
        return None
    numbers = NUMBERS.findall(name)
    choices = {tool_id: tool_name for tool_id, tool_name in rows if NUMBERS.findall(tool_name) == numbers}
    best = process.extractOne(name, choices, scorer=fuzz.token_sort_ratio, processor=str.lower,
                              score_cutoff=FUZZY_CUTOFF)
    return _followed(session, session.get(Tool, best[2])) if best else None


def _followed(session: Session, tool: Tool | None) -> Tool | None:
    """A merged tool stands for the tool it was merged into."""
    hops = 0
    while tool is not None and tool.state == ToolState.MERGED.value and tool.merged_into_id and hops < 10:
        tool = session.get(Tool, tool.merged_into_id)
        hops += 1
    return tool


def remember_keys(session: Session, tool: Tool, keys: tuple[str, ...]) -> None:
    """Record the keys this tool was seen under that no tool holds yet."""
    if not keys:
        return
    taken = set(session.scalars(select(ToolKey.key).where(ToolKey.key.in_(keys))))
    for key in keys:
        if key not in taken:
            session.add(ToolKey(tool_id=tool.id, key=key[:500]))
            taken.add(key)
