"""The public archive: every sent digest as a web page and an Atom feed entry.

The archive copy is rendered from the same sections and templates as the mail, in public mode:
no per-subscriber link at all (votes point at the comparison page, the footer at the archive and
the subscribe page).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.core import links
from services.core.db.models import Digest
from services.core.domain import DigestState
from services.core.settings import Settings
from services.digest import content
from services.digest.compose import render

FEED_LIMIT = 20


@dataclass(frozen=True)
class ArchivedComparison:
    title: str
    url: str


@dataclass(frozen=True)
class ArchivedDigest:
    week: str
    subject: str
    preheader: str
    sent_at: str
    url: str
    comparisons: list[ArchivedComparison]


def sent(session: Session, limit: int | None = None) -> list[Digest]:
    """Sent digests, the newest first, at most ``limit`` (None: all)."""
    return list(session.scalars(_newest_sent(select(Digest)).limit(limit)))


def sent_weeks(session: Session) -> list[tuple[str, dt.datetime]]:
    """The week and sending time of every sent digest, the newest first, without the rest of the row (the
    sitemap's list)."""
    return [(week, at) for week, at in session.execute(_newest_sent(select(Digest.week, Digest.sent_at)))]


def _newest_sent(query: Select) -> Select:  # type: ignore[type-arg]
    """``query`` over digests narrowed to the sent ones, the newest first."""
    return query.where(Digest.state == DigestState.SENT).order_by(Digest.sent_at.desc(), Digest.week.desc())


def readable_week(session: Session, week: str) -> Digest | None:
    """The digest of ``week`` once it has started going out: its "read it on the web" link works from
    the first delivered mail on, while the list and the feed wait until the whole send is done."""
    return session.scalar(select(Digest).where(
        Digest.week == week, Digest.state.in_((DigestState.SENDING, DigestState.SENT))))


def entry(settings: Settings, digest: Digest) -> ArchivedDigest:
    assert digest.sent_at is not None, "only sent digests are archived"
    return ArchivedDigest(
        week=digest.week, subject=digest.subject, preheader=digest.preheader,
        sent_at=digest.sent_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        url=links.archive(settings, digest.week),
        comparisons=[ArchivedComparison(str(section["title"]), str(section["url"]))
                     for section in content.comparisons_of(digest.sections)],
    )


def public_html(settings: Settings, digest: Digest) -> str:
    return render(settings, digest, public=True).html
