"""Ties: a changelog source tied to the tool it is the changelog of, so its bare-version items are
updates of that tool and land on the same candidate as the GitHub release of the same version.

A tie is set by an editor (``verdicts feeds tie ID --tool KEY``, or on the sources page, where it
can be cleared too) or inferred: when the bare
versions of a changelog's new items match releases already recorded for one GitHub repository —
at least two of them, or the only one — the source is tied to that repository's key.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db.models import AuditEntry, Evidence, Source, Tool
from services.ingest.detector.versions import plain_version
from services.ingest.errors import TieError
from services.ingest.resolve import known_tools
from services.ingest.sources import get_source

#: How many versions must match one repository's releases before a source is tied to it.
MATCHES_NEEDED = 2


def infer_tie(session: Session, source: Source, versions: Iterable[str]) -> str | None:
    """Tie ``source`` to the one GitHub repository whose recorded releases match ``versions``.

    Returns the key tied to (also set on ``source.tool_key``), or None when no repository matches
    enough versions or two match equally well.
    """
    wanted = {plain_version(v) for v in versions}
    if not wanted:
        return None
    spelled = wanted | {f"v{v}" for v in wanted}
    rows = session.execute(select(Tool.canonical_key, Evidence.version).join(Evidence, Evidence.tool_id == Tool.id)
                           .where(Evidence.version.in_(spelled), Tool.canonical_key.like("github:%"))).all()
    matched: dict[str, set[str]] = {}
    for key, version in rows:
        matched.setdefault(key, set()).add(plain_version(version))
    needed = min(MATCHES_NEEDED, len(wanted))
    best = sorted(((len(found), key) for key, found in matched.items() if len(found) >= needed), reverse=True)
    if not best or (len(best) > 1 and best[0][0] == best[1][0]):
        return None
    source.tool_key = best[0][1]
    return source.tool_key


def tie_source(session: Session, source_id: int, tool_key: str, user_id: int | None = None) -> Source:
    """Tie a source to the tool known by ``tool_key`` (a canonical key or any key a tool holds; a
    merged tool stands for the tool it was merged into), and write who did it (``user_id``; None from the command line) to the audit log as ``source.tie``.

    Raises SourceNotFound for an unknown source, TieError for an unknown key.
    """
    source = get_source(session, source_id)
    key = tool_key.strip()
    tool = known_tools(session, {key}).get(key) if key else None
    if tool is None:
        raise TieError(f"no tool is known by the key {key!r}")
    source.tool_key = tool.canonical_key or key
    session.add(AuditEntry(user_id=user_id, action="source.tie", subject=f"source:{source.id}",
                           detail={"tool_key": source.tool_key}))
    return source


def untie_source(session: Session, source_id: int, user_id: int | None = None) -> Source:
    """Clear a source's tie (its items are judged by their shape again), audit-logged as ``source.untie``
    with the key it had. Raises SourceNotFound for an unknown source."""
    source = get_source(session, source_id)
    session.add(AuditEntry(user_id=user_id, action="source.untie", subject=f"source:{source.id}",
                           detail={"tool_key": source.tool_key}))
    source.tool_key = None
    return source

