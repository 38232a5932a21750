"""Claims: a worker takes the sources it is about to poll, so two workers never poll one at once.

A claim is a compare-and-set on ``sources.claimed_until``; it lapses by itself, so the sources of
a worker that died come free again.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import or_, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from services.core.db.base import utcnow
from services.core.db.models import Source
from services.core.domain import SourceState
from services.ingest.adapters import SourceView
from services.ingest.fetcher import FetchPolicy

CLAIM_SLACK_SECONDS = 60
#: The longest a batch of polls may run (the actors' time limit): a claim never needs to outlive
#: it, so the sources of a batch whose worker died are free again within this, plus the slack.
BATCH_TIME_LIMIT = dt.timedelta(minutes=30)


class Claim(NamedTuple):
    """A source taken for a poll: its kind, what its adapter may know of it, and its interval."""

    kind: str
    view: SourceView
    interval_seconds: int


def lease_for(policy: FetchPolicy, sources: int) -> dt.timedelta:
    """How long a batch of ``sources`` holds its claims: each source's worst case (a fetch per
    redirect hop, each up to the timeout), but never beyond the batch's time limit plus slack."""
    worst = dt.timedelta(seconds=(policy.timeout_seconds * 11 + CLAIM_SLACK_SECONDS) * sources)
    return min(worst, BATCH_TIME_LIMIT + dt.timedelta(seconds=CLAIM_SLACK_SECONDS))


def claim(session: Session | Connection, source_id: int, lease: dt.timedelta) -> Claim | None:
    """Compare-and-set: take the source for ``lease`` if it is active and nobody holds it; None
    otherwise (also when there is no such source)."""
    return claim_many(session, [source_id], lease).get(source_id)


def claim_many(session: Session | Connection, source_ids: list[int], lease: dt.timedelta) -> dict[int, Claim]:
    """Compare-and-set in one statement: take, for ``lease``, those of the sources that are active
    and held by nobody; returns their claims by source id (the others are left out).

    PostgreSQL re-checks the condition on a row another transaction just updated, so two workers
    never both take a source. Runs in the caller's transaction.
    """
    now = utcnow()
    rows = session.execute(
        update(Source)
        .where(Source.id.in_(source_ids), Source.state == SourceState.ACTIVE,
               or_(Source.claimed_until.is_(None), Source.claimed_until < now))
        .values(claimed_until=now + lease)
        .returning(Source.id, Source.kind, Source.url, Source.etag, Source.last_modified, Source.watermark,
                   Source.poll_interval_seconds)
        .execution_options(synchronize_session=False)
    ).all()
    return {source_id: Claim(kind, SourceView(url, etag, last_modified, watermark), interval)
            for source_id, kind, url, etag, last_modified, watermark, interval in rows}
