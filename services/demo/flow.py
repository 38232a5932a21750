"""`verdicts demo`: the whole flow once, in embedded mode, thinly but for real."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from services.core import broker, outbox_actors
from services.core.db.models import Digest, Source, Tool
from services.core.domain import DigestState, ToolState, iso_week
from services.core.runtime import Runtime
from services.demo import sample_sources
from services.demo.feed_server import FeedServer
from services.demo.seed import seed
from services.digest import compose
from services.ingest.actors import poll_source

SETTLE_SECONDS = 60


@dataclass
class DemoReport:
    editor_email: str
    editor_password: str | None
    comparison_slug: str
    week: str
    candidates: list[str] = field(default_factory=list)
    outbox_files: list[Path] = field(default_factory=list)


def run(rt: Runtime, say: Callable[[str], None]) -> DemoReport:
    """The flow over ``rt`` (booted, its database migrated), narrated line by line through ``say``."""
    settings = rt.settings
    say(f"1. The database, at the newest schema: {settings.database_url}")

    say("2. Seeding an editor, the panel's four seats and one finished comparison")
    with rt.sessions() as session, session.begin():
        seeded = seed(session)

    with FeedServer() as server:
        say(f"3. Serving the demo's feeds at {server.base_url} and polling them")
        with rt.sessions() as session, session.begin():
            ids = sample_sources.register(session, server)
        for source_id in ids:
            poll_source.send(source_id)
        broker.current().join("ingest", timeout=SETTLE_SECONDS * 1000)
    with rt.sessions() as session, session.begin():
        sample_sources.pause(session, ids)
    with rt.sessions() as session:
        for source in session.scalars(select(Source).where(Source.id.in_(ids))):
            say(f"   {source.url}: {source.title or '?'} — {source.last_error or 'ok'}")
        candidates = [t.name for t in session.scalars(
            select(Tool).where(Tool.state == ToolState.CANDIDATE).order_by(Tool.id))]
    say(f"   {len(candidates)} candidate(s) wait for review: {', '.join(candidates) or 'none'}")

    week = iso_week(dt.datetime.now(dt.timezone.utc).date())
    say(f"4. Compiling the digest of {week} and sending it through the {_mailer_name(rt)}")
    started = time.time()
    with rt.sessions() as session, session.begin():
        digest = compose.compile_week(session, settings, week, force=True)
        assert digest is not None
        compose.approve(session, digest.id)
        digest_id = digest.id
    _settle(rt, digest_id)
    outbox = sorted(p for p in settings.outbox_dir.glob("*.eml") if p.stat().st_mtime >= started - 1)
    return DemoReport(seeded.editor_email, seeded.editor_password, seeded.comparison_slug, week, candidates, outbox)


def _mailer_name(rt: Runtime) -> str:
    return "file outbox" if rt.settings.sendgrid_api_key is None else "SendGrid API"


def _settle(rt: Runtime, digest_id: int) -> None:
    """Relay events and let the in-process worker drain until the digest is sent."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        outbox_actors.relay_and_sweep()
        for queue in ("events", "mail"):
            broker.current().join(queue, timeout=SETTLE_SECONDS * 1000)
        with rt.sessions() as session:
            digest = session.get(Digest, digest_id)
            if digest is not None and digest.state == DigestState.SENT:
                return
        time.sleep(0.05)
    raise RuntimeError("the digest did not finish sending within a minute")
