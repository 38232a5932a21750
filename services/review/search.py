"""Full-text search over approved tools and published comparisons, ranked, on PostgreSQL and SQLite alike.

The index is built by migration 0011: PostgreSQL's weighted ``search_vector`` columns (English
configuration; a tool's name and tagline weigh A, vendor and category B, description C; a comparison's
headline A, category B, editor's note C) ranked by ``ts_rank``, or SQLite's FTS5 tables (porter stemming)
ranked by ``bm25`` with the same order of weights.

On PostgreSQL ranking reads each matching row, so a word most rows carry ("ai" in a directory of AI
tools) would rank the whole table: there the rank is taken over at most ``WINDOW`` rows that have the
words in their name or tagline (``search_title``) and ``WINDOW`` that have them anywhere. A rarer query
(fewer matches than the window: a name, most words) is ranked over every match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.orm import Session

from services.core.db.models import Comparison, Tool, Verdict
from services.core.domain import ComparisonState, ToolState
from services.review.comparisons import WITH_TOOLS

#: Words of a query that count; the rest are ignored (a query is a handful of words, not a document).
MAX_TERMS = 8
#: The longest query read, in characters.
MAX_QUERY = 200
#: Matches ranked per tier on PostgreSQL (see above).
WINDOW = 200
_WORD = re.compile(r"\w+")

#: bm25 weights per FTS5 column, in the migration's column order (name, tagline, vendor, category, description).
_TOOL_WEIGHTS = "10.0, 10.0, 3.0, 3.0, 1.0"
_COMPARISON_WEIGHTS = "10.0, 3.0, 1.0"


@dataclass(frozen=True)
class ToolHit:
    slug: str
    name: str
    tagline: str | None
    category: str | None
    panel_ship_percent: int | None


@dataclass(frozen=True)
class ComparisonHit:
    slug: str
    title: str
    headline: str
    category: str | None
    #: The two tools' names, A then B (pages isolate each one: ``services.web.rendering.versus``).
    names: tuple[str, str]


@dataclass(frozen=True)
class Results:
    query: str
    tools: list[ToolHit]
    comparisons: list[ComparisonHit]


def terms(query: str) -> list[str]:
    """The words of ``query`` (letters, digits, underscores; lower-cased), at most ``MAX_TERMS`` of them.

    Anything else (quotes, operators, punctuation) is a separator, so no query can break the search syntax.
    """
    return [word.lower() for word in _WORD.findall(query[:MAX_QUERY])][:MAX_TERMS]


def search(session: Session, query: str, limit: int = 20) -> Results:
    """Approved tools and published comparisons matching every word of ``query`` (the last word also as a
    prefix), best first: at most ``limit`` tools and ``limit // 2`` comparisons. A query without words
    finds nothing. Words are stemmed (English), so "assistants" finds "assistant"."""
    words = terms(query)
    if not words:
        return Results(query, [], [])
    postgres = session.get_bind().dialect.name == "postgresql"
    ranked = _ranked_postgres if postgres else _ranked_sqlite
    tool_ids = ranked(session, "tools", words, ToolState.APPROVED.value, limit)
    comparison_ids = ranked(session, "comparisons", words, ComparisonState.PUBLISHED.value, max(1, limit // 2))
    return Results(query, _tools(session, tool_ids), _comparisons(session, comparison_ids))


def _ranked_postgres(session: Session, table: str, words: list[str], state: str, limit: int) -> list[int]:
    tsquery = " & ".join(words[:-1] + [words[-1] + ":*"])
    tier = (f"(SELECT id, ts_rank(search_vector, q) AS rank FROM {table}, to_tsquery('english', :q) AS q "
            "WHERE {column} @@ q AND state = :state LIMIT :window)")
    return list(session.scalars(text(
        f"SELECT id FROM ({tier.format(column='search_title')} UNION ALL {tier.format(column='search_vector')}) "
        "AS hits GROUP BY id ORDER BY max(rank) DESC, id DESC LIMIT :limit"),
        {"q": tsquery, "state": state, "limit": limit, "window": WINDOW}))


def _ranked_sqlite(session: Session, table: str, words: list[str], state: str, limit: int) -> list[int]:
    match = " ".join([f'"{word}"' for word in words[:-1]] + [f'"{words[-1]}"*'])
    weights = _TOOL_WEIGHTS if table == "tools" else _COMPARISON_WEIGHTS
    return list(session.scalars(text(
        f"SELECT {table}.id FROM {table}_fts JOIN {table} ON {table}.id = {table}_fts.rowid "
        f"WHERE {table}_fts MATCH :q AND {table}.state = :state "
        f"ORDER BY bm25({table}_fts, {weights}), {table}.id DESC LIMIT :limit"),
        {"q": match, "state": state, "limit": limit}))


def _tools(session: Session, ids: list[int]) -> list[ToolHit]:
    if not ids:
        return []
    rows = {tool.id: (tool, ship) for tool, ship in session.execute(
        select(Tool, Verdict.ship_percent).outerjoin(Verdict, Verdict.tool_id == Tool.id).where(Tool.id.in_(ids)))}
    return [tool_hit(tool, ship) for tool, ship in (rows[i] for i in ids if i in rows)]


def tool_hit(tool: Tool, ship: int | None) -> ToolHit:
    """``tool`` as listed, with its panel ship % ``ship`` (None before a verdict)."""
    return ToolHit(tool.slug, tool.name, tool.tagline, tool.category, ship)


def _comparisons(session: Session, ids: list[int]) -> list[ComparisonHit]:
    if not ids:
        return []
    rows = {c.id: c for c in listed_comparisons(session, Comparison.id.in_(ids))}
    return [comparison_hit(rows[i]) for i in ids if i in rows]


def listed_comparisons(session: Session, *where: ColumnElement[bool], limit: int | None = None) -> list[Comparison]:
    """The comparisons matching every condition of ``where``, the latest published first (then the highest
    id), at most ``limit`` (None: all), their two tools loaded along."""
    return list(session.scalars(select(Comparison).where(*where).options(*WITH_TOOLS)
                                .order_by(Comparison.published_at.desc(), Comparison.id.desc()).limit(limit)))


def comparison_hit(comparison: Comparison) -> ComparisonHit:
    """A comparison as listed (its tools loaded): "A vs B", the headline, the category."""
    return ComparisonHit(comparison.slug, f"{comparison.tool_a.name} vs {comparison.tool_b.name}",
                         comparison.headline, comparison.category, (comparison.tool_a.name, comparison.tool_b.name))
