"""Small builders for test data, going through the real domain functions."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from services.core.db.base import utcnow
from services.core.db.models import Comparison, Digest, Subscriber, Tool
from services.core.domain import Call, SubscriberState
from services.core.settings import Settings
from services.core.slugs import unique_slug
from services.digest import compose
from services.review import comparisons, panel, queue
from services.review.tool_edits import ToolEdits


def candidate(session: Session, name: str, score: float = 0.8) -> Tool:
    tool = Tool(slug=unique_slug(session, Tool.slug, name), name=name, score=score, reasons=["test"],
                canonical_key=f"name:{name.lower()}")
    session.add(tool)
    session.flush()
    return tool


def judged_tool(session: Session, name: str, calls: tuple[Call, ...], category: str = "Developer Tools") -> Tool:
    """An approved tool whose verdict the panel completed with ``calls`` (one per seat)."""
    seats = panel.ensure_seats(session)
    tool = candidate(session, name)
    queue.approve(session, tool.id, None, ToolEdits(category=category, tagline=f"{name} tagline", entry_price="Free",
                                                    description=f"{name} description"))
    verdict_id = tool_verdict_id(session, tool)
    for seat, call in zip(seats, calls, strict=True):
        panel.submit(session, verdict_id, seat.id, call, f"{seat.lens} on {name}: {call.value}")
    return tool


def tool_verdict_id(session: Session, tool: Tool) -> int:
    from sqlalchemy import select

    from services.core.db.models import Verdict

    return session.scalar(select(Verdict.id).where(Verdict.tool_id == tool.id))  # type: ignore[return-value]


def published_comparison(session: Session, a: str = "Alpha", b: str = "Beta") -> Comparison:
    first = judged_tool(session, a, (Call.SHIP, Call.SHIP, Call.SHIP, Call.SKIP))
    second = judged_tool(session, b, (Call.SHIP, Call.SKIP, Call.SKIP, Call.SKIP))
    comparison = comparisons.create(session, first.id, second.id, editor_note="A note")
    comparisons.publish(session, comparison.id)
    return comparison


def confirmed_subscriber(session: Session, email: str) -> Subscriber:
    subscriber = Subscriber(email=email, state=SubscriberState.CONFIRMED.value, confirmed_at=utcnow())
    session.add(subscriber)
    session.flush()
    return subscriber


def confirmed_subscribers(session: Session, readers: int) -> None:
    """``readers`` confirmed subscribers, reader0@example.org, reader1@example.org, …, in one bulk insert."""
    confirmed_at = utcnow()
    rows = [{"email": f"reader{n}@example.org", "state": SubscriberState.CONFIRMED.value, "confirmed_at": confirmed_at}
            for n in range(readers)]
    if rows:  # SQLAlchemy reads an empty list as one row of defaults
        session.execute(insert(Subscriber), rows)


def approved_digest(session: Session, settings: Settings, readers: int, week: str = "2026-W48") -> int:
    """A published comparison, ``readers`` confirmed subscribers and the week's digest, approved; its id."""
    published_comparison(session)
    confirmed_subscribers(session, readers)
    digest = compose.compile_week(session, settings, week)
    compose.approve(session, digest.id)
    return digest.id


def sent_digest(session: Session, settings: Settings, week: str) -> Digest:
    """The digest of ``week`` compiled from what is published, approved and sent (to nobody when no
    subscriber is confirmed, so it is sent at once)."""
    from services.delivery.send import start_send

    digest = compose.compile_week(session, settings, week)
    compose.approve(session, digest.id)
    start_send(session, digest.id)
    return digest
