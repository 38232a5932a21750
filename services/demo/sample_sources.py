"""The demo's sample feeds as sources: one source per feed file, at the feed server of the current run.

Each run serves the files on a new local port, so a run finds the sources an earlier run left (same file
name, on 127.0.0.1 at a port now dead) and moves them to this run's server instead of adding more.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db.models import Source
from services.core.domain import SourceKind, SourceState
from services.demo.feed_server import FeedServer
from services.ingest import sources

#: Where the feed server listens (``FeedServer``), at a port of its own each run.
LOCAL = "http://127.0.0.1:"
#: Why the sample sources are paused once the demo's flow is done (its feed server has stopped).
SERVER_STOPPED = "the demo's feed server has stopped"


def register(session: Session, server: FeedServer) -> list[int]:
    """The ids of the sample sources, one per feed file of ``server``, active and due now.

    A source of an earlier run for the same file is moved to ``server``'s URL and made active again
    (keeping its entries and caching headers); further leftovers for that file, which runs before this
    rule added, are deleted with their entries. A file no run has served yet gets a new source.
    """
    earlier = _earlier_runs(session, server)
    ids = []
    for url in server.urls():
        previous = earlier.get(urlsplit(url).path, [])
        for leftover in previous[1:]:
            session.delete(leftover)
        session.flush()  # a leftover may hold the URL this run's port reuses
        if not previous:
            kind = SourceKind.GITHUB_RELEASES if url.endswith(".atom") else SourceKind.FEED
            ids.append(sources.add_source(session, url, kind).id)
            continue
        previous[0].url = url
        ids.append(sources.set_state(session, previous[0].id, SourceState.ACTIVE).id)
    session.flush()
    return ids


def pause(session: Session, ids: list[int]) -> None:
    """Pause the sample sources ``ids`` once their server is gone, so the scheduler stops polling them."""
    for source_id in ids:
        sources.set_state(session, source_id, SourceState.PAUSED, reason=SERVER_STOPPED)


def _earlier_runs(session: Session, server: FeedServer) -> dict[str, list[Source]]:
    """URL path of a feed file of ``server`` → the sources on 127.0.0.1 at any port that serve it, oldest first."""
    paths = {urlsplit(url).path for url in server.urls()}
    found: dict[str, list[Source]] = {}
    for source in session.scalars(select(Source).where(Source.url.like(f"{LOCAL}%")).order_by(Source.id)):
        path = urlsplit(source.url).path
        if path in paths:
            found.setdefault(path, []).append(source)
    return found
