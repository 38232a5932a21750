"""A-vs-B comparisons of tools with completed verdicts, and the view of one for pages and mail."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from services.core import events, limits
from services.core.db.base import utcnow
from services.core.db.models import AuditEntry, Comparison, PanelSeat, Scorecard, Tool, User, Verdict
from services.core.domain import ComparisonState, VerdictState
from services.core.slugs import unique_slug
from services.core.text import checked_text
from services.review.errors import ComparisonError, ComparisonNotFound
from services.review.votes import community_percent

#: Loader options that read the two tools of every comparison a query returns in one more query each,
#: not two lazy loads a comparison.
WITH_TOOLS = (selectinload(Comparison.tool_a), selectinload(Comparison.tool_b))


@dataclass(frozen=True)
class ToolSide:
    id: int
    slug: str
    name: str
    vendor: str | None
    category: str | None
    tagline: str | None
    entry_price: str | None
    description: str | None
    homepage: str | None
    panel_ship_percent: int | None
    community_percent: int | None


@dataclass(frozen=True)
class ScorecardRow:
    lens: str
    a_call: str | None
    a_quote: str | None
    b_call: str | None
    b_quote: str | None


@dataclass(frozen=True)
class ComparisonView:
    id: int
    slug: str
    title: str
    headline: str
    category: str | None
    editor_note: str | None
    state: str
    a: ToolSide
    b: ToolSide
    scorecard: list[ScorecardRow]


def create(session: Session, tool_a_id: int, tool_b_id: int, headline: str | None = None,
           editor_note: str | None = None, user: User | None = None) -> Comparison:
    """A draft comparison of two tools with completed verdicts, titled "A vs B" unless ``headline`` says.

    Headline and note are cleaned as ``_headline_and_note`` says. Raises ``ComparisonError`` for the same
    tool twice, a missing tool, one without a completed verdict, or a headline or note too long.
    """
    headline, editor_note = _headline_and_note(headline, editor_note, required=False)
    if tool_a_id == tool_b_id:
        raise ComparisonError("a comparison needs two different tools")
    tools = [session.get(Tool, tool_a_id), session.get(Tool, tool_b_id)]
    if None in tools:
        raise ComparisonError("both tools must exist")
    a, b = tools  # type: ignore[misc]
    for tool in (a, b):
        verdict = session.scalar(select(Verdict).where(Verdict.tool_id == tool.id))
        if verdict is None or verdict.state != VerdictState.COMPLETED:
            raise ComparisonError(f"{tool.name!r} has no completed verdict yet")
    title = f"{a.name} vs {b.name}"
    comparison = Comparison(slug=unique_slug(session, Comparison.slug, title), headline=headline or title,
                            tool_a_id=a.id, tool_b_id=b.id, category=a.category or b.category,
                            editor_note=editor_note or None)
    session.add(comparison)
    session.flush()
    _audit(session, user, "comparison.create", comparison)
    return comparison


def _headline_and_note(headline: str | None, editor_note: str | None, *, required: bool) -> tuple[str, str]:
    """Both cleaned by ``services.core.text.checked_text`` (the headline on one line, the note on several);
    raises ``ComparisonError`` naming the field for one over ``limits.HEADLINE`` or ``limits.EDITOR_NOTE``
    characters, or an empty headline when ``required``."""
    return (checked_text(headline, field="headline", max_length=limits.HEADLINE, required=required,
                         refuse=ComparisonError),
            checked_text(editor_note, field="editor's note", max_length=limits.EDITOR_NOTE, multiline=True,
                         refuse=ComparisonError))


def _get(session: Session, comparison_id: int) -> Comparison:
    comparison = session.get(Comparison, comparison_id)
    if comparison is None:
        raise ComparisonNotFound(f"no comparison with id {comparison_id}")
    return comparison


def update(session: Session, comparison_id: int, *, headline: str, editor_note: str | None, position: int,
           swap_sides: bool = False, user: User | None = None) -> Comparison:
    """Edit a comparison's headline, note and place in the digest's order; optionally swap A and B.

    Headline and note are cleaned as ``_headline_and_note`` says. Raises ``ComparisonNotFound``, or
    ``ComparisonError`` for a headline outside 1 to ``limits.HEADLINE`` characters or a note over
    ``limits.EDITOR_NOTE``.
    """
    comparison = _get(session, comparison_id)
    headline, editor_note = _headline_and_note(headline, editor_note, required=True)
    comparison.headline = headline
    comparison.editor_note = editor_note or None
    comparison.position = position
    if swap_sides:
        comparison.tool_a_id, comparison.tool_b_id = comparison.tool_b_id, comparison.tool_a_id
    session.flush()
    session.expire(comparison, ["tool_a", "tool_b"])
    _audit(session, user, "comparison.edit", comparison)
    return comparison


def publish(session: Session, comparison_id: int, user: User | None = None) -> Comparison:
    """Publish a comparison (idempotent): the next digest carries it. Raises ``ComparisonNotFound``."""
    comparison = _get(session, comparison_id)
    if comparison.state != ComparisonState.PUBLISHED:
        comparison.state = ComparisonState.PUBLISHED
        comparison.published_at = utcnow()
        events.record(session, "comparison.published", comparison_id=comparison.id)
        _audit(session, user, "comparison.publish", comparison)
    return comparison


def _audit(session: Session, user: User | None, action: str, comparison: Comparison) -> None:
    session.add(AuditEntry(user_id=user.id if user else None, action=action, subject=f"comparison:{comparison.id}",
                           detail={"headline": comparison.headline}))


@dataclass(frozen=True)
class Suggestion:
    category: str
    a: Tool
    b: Tool


def suggestions(session: Session, limit: int = 20, scan: int = 300) -> list[Suggestion]:
    """Pairs of tools with completed verdicts in the same category, not compared yet, most recent first.

    A pair's recency is that of its older verdict, so a pair appears as soon as both are ready;
    only the ``scan`` most recently completed verdicts are considered.
    """
    done = session.execute(
        select(Tool, Verdict.completed_at).join(Verdict, Verdict.tool_id == Tool.id)
        .where(Verdict.state == VerdictState.COMPLETED, Tool.category.is_not(None))
        .order_by(Verdict.completed_at.desc(), Tool.id.desc()).limit(scan)
    ).all()
    ids = [tool.id for tool, _ in done]
    paired = {frozenset(pair) for pair in session.execute(
        select(Comparison.tool_a_id, Comparison.tool_b_id)
        .where(or_(Comparison.tool_a_id.in_(ids), Comparison.tool_b_id.in_(ids))))} if ids else set()
    found: list[tuple[object, Suggestion]] = []
    for i, (newer, newer_at) in enumerate(done):
        for older, older_at in done[i + 1:]:
            if older.category == newer.category and frozenset((newer.id, older.id)) not in paired:
                found.append((older_at, Suggestion(newer.category or "", newer, older)))
    found.sort(key=lambda item: item[0], reverse=True)  # type: ignore[arg-type, return-value]
    return [suggestion for _, suggestion in found[:limit]]


def drafts_and_published(session: Session, limit: int = 200) -> list[Comparison]:
    """Every comparison for the editors' list: drafts first, then by place and recency."""
    return list(session.scalars(
        select(Comparison).options(*WITH_TOOLS)
        .order_by((Comparison.state == ComparisonState.PUBLISHED), Comparison.position,
                  Comparison.created_at.desc()).limit(limit)))


def published(session: Session, limit: int = 50) -> list[Comparison]:
    """The ``limit`` newest published comparisons, newest first, their two tools loaded along."""
    return list(session.scalars(
        select(Comparison).where(Comparison.state == ComparisonState.PUBLISHED).options(*WITH_TOOLS)
        .order_by(Comparison.published_at.desc(), Comparison.id.desc()).limit(limit)
    ))


def view(session: Session, comparison: Comparison) -> ComparisonView:
    """The view of one comparison, as ``views`` makes it."""
    return views(session, [comparison])[0]


def views(session: Session, listed: list[Comparison]) -> list[ComparisonView]:
    """The views of ``listed``, in their order: both sides with their panel and community ship %, and the
    scorecard (a row per panel seat either tool has a call from, in seat order). Each of verdicts, votes,
    seats and scorecards is read once for all of them; tools not loaded yet (see ``WITH_TOOLS``) are read
    lazily."""
    if not listed:
        return []
    tool_ids = list({tool_id for c in listed for tool_id in (c.tool_a_id, c.tool_b_id)})
    verdicts = {v.tool_id: v for v in session.scalars(select(Verdict).where(Verdict.tool_id.in_(tool_ids)))}
    community = community_percent(session, tool_ids)
    seats = list(session.scalars(select(PanelSeat).order_by(PanelSeat.position, PanelSeat.id)))
    cards: dict[tuple[int, int], Scorecard] = {}
    verdict_tool = {v.id: v.tool_id for v in verdicts.values()}
    if verdict_tool:
        for card in session.scalars(select(Scorecard).where(Scorecard.verdict_id.in_(verdict_tool))):
            cards[(verdict_tool[card.verdict_id], card.seat_id)] = card

    def side(tool: Tool) -> ToolSide:
        verdict = verdicts.get(tool.id)
        return ToolSide(tool.id, tool.slug, tool.name, tool.vendor, tool.category, tool.tagline, tool.entry_price,
                        tool.description, tool.homepage, verdict.ship_percent if verdict else None,
                        community[tool.id])

    def one(comparison: Comparison) -> ComparisonView:
        a, b = comparison.tool_a, comparison.tool_b
        rows = []
        for seat in seats:
            ca, cb = cards.get((a.id, seat.id)), cards.get((b.id, seat.id))
            if ca or cb:
                rows.append(ScorecardRow(seat.lens, ca and ca.call, ca and ca.quote, cb and cb.call,
                                         cb and cb.quote))
        return ComparisonView(comparison.id, comparison.slug, f"{a.name} vs {b.name}", comparison.headline,
                              comparison.category, comparison.editor_note, comparison.state, side(a), side(b), rows)

    return [one(comparison) for comparison in listed]


def by_slug(session: Session, slug: str) -> Comparison | None:
    return session.scalar(select(Comparison).where(Comparison.slug == slug))


def published_by_slug(session: Session, slug: str) -> Comparison:
    """The published comparison ``slug`` names. Raises ``ComparisonNotFound`` for no comparison or a draft."""
    found = by_slug(session, slug)
    if found is None or found.state != ComparisonState.PUBLISHED:
        raise ComparisonNotFound("No comparison by that name.")
    return found
