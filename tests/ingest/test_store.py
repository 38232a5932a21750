"""store_entries: each entry of a source is stored once."""

from __future__ import annotations

from services.core.runtime import Runtime
from services.ingest.refresh import refresh_source
from tests.ingest.samples import RELEASES, releases_source
from tests.local_http import LocalServer, Reply


def test_a_changed_feed_without_validators_stores_only_new_entries(rt: Runtime, http: LocalServer) -> None:
    http.routes["/releases.atom"] = Reply(body=RELEASES)
    source_id = releases_source(rt, http.url("/releases.atom"))
    refresh_source(rt.sessions, source_id, rt.settings)
    assert refresh_source(rt.sessions, source_id, rt.settings).new_entries == 0
