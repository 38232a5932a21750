"""The demo's starting data: an editor, the four panel seats, and one finished comparison."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db.base import utcnow
from services.core.db.models import Subscriber, Tool, User, Verdict
from services.core.domain import Call, Role, SubscriberState, ToolState, VerdictState
from services.core.passwords import hash_password
from services.review import comparisons, panel, queue
from services.review.tool_edits import ToolEdits

EDITOR_EMAIL = "editor@example.org"
SUBSCRIBER_EMAIL = "reader@example.org"

TOOLS = (
    {
        "name": "Llama 4 Maverick Fine-Tuning Toolkit",
        "vendor": "Meta",
        "category": "Developer Tools",
        "tagline": "Official LoRA and RLHF toolkit for fine-tuning Llama 4 Maverick",
        "entry_price": "Free",
        "description": "Recipes, configs and trainers from Meta for adapting Llama 4 Maverick with LoRA adapters "
                       "and RLHF, from a single GPU up to a cluster.",
        "homepage": "https://github.com/meta-llama",
        "calls": (
            ("builder", Call.SHIP, "The LoRA recipes ran on one GPU on the first try; the configs read like docs."),
            ("skeptic", Call.SKIP, "RLHF is still a research project here: reward-model tooling is thin."),
            ("strategist", Call.SHIP, "An official path for tuning Maverick makes it a safer base for teams."),
            ("buyer", Call.SHIP, "Free and permissive; the only bill is your GPUs."),
        ),
    },
    {
        "name": "Mistral 3 Small",
        "vendor": "Mistral",
        "category": "Developer Tools",
        "tagline": "7B on-device model with function calling, Apache 2.0",
        "entry_price": "Free",
        "description": "A 7B model tuned for laptops and phones, with native function calling and an Apache 2.0 "
                       "licence that puts no strings on commercial use.",
        "homepage": "https://mistral.ai",
        "calls": (
            ("builder", Call.SHIP, "Tool calls parse cleanly, and it fits in 8 GB with room to spare."),
            ("skeptic", Call.SHIP, "Small enough to audit, honest about its limits in the model card."),
            ("strategist", Call.SKIP, "The on-device lane is crowded; hard to see a lasting edge."),
            ("buyer", Call.SHIP, "Apache 2.0 and no per-seat fees: an easy yes for procurement."),
        ),
    },
)


@dataclass(frozen=True)
class SeedReport:
    editor_email: str
    editor_password: str | None
    comparison_slug: str


def seed(session: Session) -> SeedReport:
    """Idempotent: a second run finds everything in place and creates nothing."""
    password = None
    editor = session.scalar(select(User).where(User.email == EDITOR_EMAIL))
    if editor is None:
        password = secrets.token_urlsafe(12)
        editor = User(email=EDITOR_EMAIL, role=Role.EDITOR, password_hash=hash_password(password))
        session.add(editor)
        session.flush()
    seats = {seat.lens: seat for seat in panel.ensure_seats(session)}
    tool_ids = [_finished_tool(session, editor, seats, facts) for facts in TOOLS]
    existing = comparisons.by_slug(session, "llama-4-maverick-fine-tuning-toolkit-vs-mistral-3-small")
    comparison = existing or comparisons.create(
        session, tool_ids[0], tool_ids[1],
        editor_note="Two free ways to get a capable model of your own: tune Meta's big one, or ship Mistral's small one.")
    comparisons.publish(session, comparison.id)
    if session.scalar(select(Subscriber).where(Subscriber.email == SUBSCRIBER_EMAIL)) is None:
        session.add(Subscriber(email=SUBSCRIBER_EMAIL, state=SubscriberState.CONFIRMED, confirmed_at=utcnow()))
    session.flush()
    return SeedReport(EDITOR_EMAIL, password, comparison.slug)


def _finished_tool(session: Session, editor: User, seats: dict, facts: dict) -> int:  # type: ignore[type-arg]
    tool = session.scalar(select(Tool).where(Tool.name == facts["name"]))
    if tool is None:
        tool = Tool(slug=facts["name"].lower().replace(" ", "-"), name=facts["name"], score=1.0,
                    reasons=["seeded by the demo"], canonical_key=f"demo:{facts['name'].lower()}")
        session.add(tool)
        session.flush()
    if tool.state == ToolState.CANDIDATE:
        edits = ToolEdits(**{k: facts[k] for k in ("vendor", "category", "tagline", "entry_price", "description",
                                                      "homepage")})
        queue.approve(session, tool.id, editor, edits)
    verdict = session.scalar(select(Verdict).where(Verdict.tool_id == tool.id))
    assert verdict is not None
    if verdict.state != VerdictState.COMPLETED:
        for lens, call, quote in facts["calls"]:
            panel.submit(session, verdict.id, seats[lens].id, call, quote)
    return tool.id
