"""The engagement counters a processed webhook batch adds to, aggregated per batch.

A batch's fresh events (``webhook_processing``) are summed in memory and written with one upsert per table:
events per digest, kind and clock hour (``digest_event_counts``), clicks per link (``digest_link_clicks``),
and who clicked or opened at least once (``digest_engagements``) — never one UPDATE per event on a shared
row. Rows are written in key order, so two batches adding to the same counters lock them in one order.

Kinds (SendGrid's Event Webhook event types, with ``bounce`` split by its ``type``): ``delivered``,
``deferred``, ``bounce_hard`` (``type`` "bounce", or none), ``bounce_soft`` (``type`` "blocked"), ``dropped``,
``spamreport``, ``unsubscribe`` (also ``group_unsubscribe``), ``open``, ``click``. ``processed`` and the
resubscribe events count nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core import limits, links
from services.core.db.models import Digest, DigestEngagement, DigestEventCount, DigestLinkClick, Subscriber
from services.delivery import bulk_sql

KINDS = ("delivered", "deferred", "bounce_hard", "bounce_soft", "dropped", "spamreport", "unsubscribe", "open",
         "click")
_SAME_KIND = {"delivered": "delivered", "deferred": "deferred", "dropped": "dropped", "spamreport": "spamreport",
              "unsubscribe": "unsubscribe", "group_unsubscribe": "unsubscribe", "open": "open", "click": "click"}
#: Kinds whose subscribers are remembered, for unique clickers and openers.
ENGAGED = ("click", "open")
#: Paths whose last part is a personal token: a click on one is counted as the path with the token left out.
PERSONAL_PATHS = (links.UNSUBSCRIBE_PATH, links.PREFERENCES_PATH, links.VOTE_PATH, links.CONFIRM_PATH)


class Event(Protocol):
    """What the counters read of one fresh event (``webhook_processing.Incoming``)."""

    @property
    def sg_event_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def digest_id(self) -> int | None: ...
    @property
    def at(self) -> float: ...
    @property
    def bounce_type(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...


def counter_kind(kind: str, bounce_type: str | None) -> str | None:
    """The counter an event adds to (one of ``KINDS``), or None for an event no counter takes."""
    if kind == "bounce":
        return "bounce_soft" if bounce_type == "blocked" else "bounce_hard"
    return _SAME_KIND.get(kind)


def link_label(url: str) -> str:
    """A clicked URL as the report groups it: without its fragment, and a personal link (unsubscribe,
    preferences, vote, confirm; under any base path) without its token, so every reader's copy of one link is
    one row; clipped to ``limits.CLICKED_URL``, without NUL characters (PostgreSQL text holds none)."""
    try:
        parts = urlsplit(url.strip().replace("\x00", ""))
    except ValueError:  # not a URL (an unclosed IPv6 bracket…): counted as written
        return limits.clip(url.replace("\x00", ""), limits.CLICKED_URL)
    path, query = parts.path, parts.query
    for prefix in PERSONAL_PATHS:
        at = path.find(prefix)  # after the public base URL's own path, when it has one (https://host/verdicts/…)
        if at >= 0:
            path, query = path[:at] + prefix + "…", ""
            break
    return limits.clip(urlunsplit((parts.scheme, parts.netloc, path, query, "")), limits.CLICKED_URL)


def _hour(hours: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(hours * 3600, dt.timezone.utc)


def add(session: Session, fresh: Sequence[Event], subscriber_of: dict[str, int]) -> None:
    """Add ``fresh`` (events applied for the first time) to their digests' counters.

    ``subscriber_of`` maps an event's ``sg_event_id`` to its subscriber's id. Events naming no digest of ours
    (none, or one since deleted) count nowhere; engagement rows are kept only for subscribers still on file.
    """
    counts: Counter[tuple[int, str, int]] = Counter()   # (digest, kind, hours since the Unix epoch)
    clicks: Counter[tuple[int, str]] = Counter()
    engaged: set[tuple[int, str, int]] = set()
    for event in fresh:
        kind = counter_kind(event.kind, event.bounce_type)
        if event.digest_id is None or kind is None:
            continue
        counts[(event.digest_id, kind, int(event.at // 3600))] += 1
        if kind == "click" and event.url:
            clicks[(event.digest_id, link_label(event.url))] += 1
        if kind in ENGAGED and event.sg_event_id in subscriber_of:
            engaged.add((event.digest_id, kind, subscriber_of[event.sg_event_id]))
    if not counts:
        return
    digests = set(session.scalars(select(Digest.id).where(bulk_sql.one_of(session, Digest.id,
                                                                         sorted({key[0] for key in counts})))))
    bulk_sql.insert_rows(session, DigestEventCount.__table__,
                         [{"digest_id": d, "kind": k, "hour": _hour(h), "count": n}
                          for (d, k, h), n in sorted(counts.items()) if d in digests],
                         conflict=["digest_id", "kind", "hour"], add="count")
    bulk_sql.insert_rows(session, DigestLinkClick.__table__,
                         [{"digest_id": d, "url": u, "clicks": n} for (d, u), n in sorted(clicks.items()) if d in digests],
                         conflict=["digest_id", "url"], add="clicks")
    if engaged:
        known = set(session.scalars(select(Subscriber.id).where(
            bulk_sql.one_of(session, Subscriber.id, sorted({e[2] for e in engaged})))))
        bulk_sql.insert_rows(session, DigestEngagement.__table__,
                             [{"digest_id": d, "kind": k, "subscriber_id": s} for d, k, s in sorted(engaged)
                              if d in digests and s in known],
                             conflict=["digest_id", "kind", "subscriber_id"])
