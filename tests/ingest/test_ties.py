"""One release, one candidate: a product's changelog and its GitHub releases feed, in either order,
and ties set by an editor or inferred from matching versions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.core.db.models import Evidence, Source, Tool
from services.core.domain import SourceKind
from services.core.runtime import Runtime
from services.ingest.refresh import refresh_source
from services.ingest.sources import add_source
from services.ingest.ties import TieError, tie_source
from tests.local_http import LocalServer, Reply

VERSIONS = ("3.4.2", "3.4.1", "3.4.0")


def _changelog(*versions: str, dated: str = "") -> bytes:
    """A product changelog of our own making: items titled with a bare version (after ``dated``, a date
    glued to its front as some changelog pages render it), #fragments of one page."""
    items = "".join(f"<item><title>{dated}{v}</title><link>https://forge.example.dev/docs/changelog#{v.replace('.', '-')}</link>"
                    f"<guid isPermaLink=\"false\">changelog#{v}</guid></item>" for v in versions)
    return (f"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Forge changelog</title>"
            f"<link>https://forge.example.dev/docs/changelog</link>{items}</channel></rss>").encode()


def _releases(*versions: str) -> bytes:
    """The same product's GitHub releases.atom, tags prefixed with "v"."""
    entries = "".join(
        f"<entry><id>tag:github.com,2008:Repository/900001/v{v}</id><updated>2026-08-19T17:00:00Z</updated>"
        f"<link rel=\"alternate\" href=\"https://github.com/acme-labs/forge/releases/tag/v{v}\"/><title>v{v}</title>"
        f"<content type=\"html\">&lt;p&gt;Fixes.&lt;/p&gt;</content></entry>" for v in versions)
    return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">"
            f"<id>tag:github.com,2008:https://github.com/acme-labs/forge/releases</id><title>Release notes from forge"
            f"</title><updated>2026-08-20T10:00:00Z</updated>{entries}</feed>").encode()


def _watch(rt: Runtime, http: LocalServer) -> dict[str, int]:
    http.routes["/forge/changelog.xml"] = Reply(body=_changelog(*VERSIONS))
    http.routes["/forge/releases.atom"] = Reply(body=_releases(*VERSIONS))
    with rt.sessions() as session, session.begin():
        return {"changelog": add_source(session, http.url("/forge/changelog.xml"), SourceKind.FEED).id,
                "releases": add_source(session, http.url("/forge/releases.atom"), SourceKind.GITHUB_RELEASES).id}


def _tools_by_source(rt: Runtime) -> dict[int, set[int]]:
    with rt.sessions() as session:
        rows = session.execute(select(Source.id, Evidence.tool_id).join(Evidence, Evidence.source_url == Source.url)).all()
    found: dict[int, set[int]] = {}
    for source_id, tool_id in rows:
        found.setdefault(source_id, set()).add(tool_id)
    return found


@pytest.mark.parametrize("first", ["releases", "changelog"])
def test_a_changelog_and_the_github_releases_of_the_same_versions_land_on_one_candidate(
        rt: Runtime, http: LocalServer, first: str) -> None:
    # Given a product's bare-version changelog and its GitHub releases feed, with the same three versions
    ids = _watch(rt, http)
    # When one is polled before the other (either order)
    for name in (first, *(n for n in ids if n != first)):
        refresh_source(rt.sessions, ids[name], rt.settings)
    # Then there is one candidate, with a piece of evidence from each feed for each version
    tools = _tools_by_source(rt)
    assert tools[ids["changelog"]] == tools[ids["releases"]] and len(tools[ids["releases"]]) == 1
    with rt.sessions() as session:
        assert len(session.scalars(select(Tool)).all()) == 1
        evidence = session.execute(select(Evidence.source_url, Evidence.version)).all()
    versions_seen = {(url.rsplit("/", 1)[-1], v.removeprefix("v")) for url, v in evidence}
    assert versions_seen == {(f, v) for f in ("changelog.xml", "releases.atom") for v in VERSIONS}


def test_a_changelog_polled_after_the_releases_is_tied_to_the_repository(rt: Runtime, http: LocalServer) -> None:
    # Given the releases were polled first
    ids = _watch(rt, http)
    refresh_source(rt.sessions, ids["releases"], rt.settings)
    # When the changelog is polled
    refresh_source(rt.sessions, ids["changelog"], rt.settings)
    # Then its versions matched the repository's releases and the source is tied to it
    with rt.sessions() as session:
        assert session.get(Source, ids["changelog"]).tool_key == "github:acme-labs/forge"


def test_a_changelog_whose_titles_carry_a_glued_date_is_tied_by_their_versions(rt: Runtime, http: LocalServer) -> None:
    # Given the releases were polled first, and a changelog whose item titles have a date glued to the
    # version ("Aug 19, 20263.4.2"), which the detector reads as that version
    ids = _watch(rt, http)
    http.routes["/forge/changelog.xml"] = Reply(body=_changelog(*VERSIONS, dated="Aug 19, 2026"))
    refresh_source(rt.sessions, ids["releases"], rt.settings)
    # When the changelog is polled
    refresh_source(rt.sessions, ids["changelog"], rt.settings)
    # Then its versions matched the repository's releases: the source is tied, and one candidate holds both feeds
    with rt.sessions() as session:
        assert session.get(Source, ids["changelog"]).tool_key == "github:acme-labs/forge"
        assert len(session.scalars(select(Tool)).all()) == 1


def test_an_editor_ties_a_changelog_to_a_tool_by_any_key_it_holds(rt: Runtime, http: LocalServer) -> None:
    # Given a known repository (its releases polled) and an untied changelog of one of its later versions
    ids = _watch(rt, http)
    refresh_source(rt.sessions, ids["releases"], rt.settings)
    http.routes["/forge/changelog.xml"] = Reply(body=_changelog("3.5.0"))
    # When an editor ties the changelog to the repository, and the changelog is polled
    with rt.sessions() as session, session.begin():
        tie_source(session, ids["changelog"], "github:acme-labs/forge")
    refresh_source(rt.sessions, ids["changelog"], rt.settings)
    # Then its new version is an update of that tool, not a candidate of its own
    with rt.sessions() as session:
        assert session.scalars(select(Tool.canonical_key)).all() == ["github:acme-labs/forge"]
        assert "3.5.0" in session.scalars(select(Evidence.version)).all()


@pytest.mark.parametrize("key", ["github:nobody/nothing", "", "   "])
def test_a_tie_to_a_key_no_tool_holds_is_refused(rt: Runtime, http: LocalServer, key: str) -> None:
    # Given a changelog source and no tool known by the key
    ids = _watch(rt, http)
    # When an editor ties it to that key, Then it is refused and the source stays untied
    with rt.sessions() as session, session.begin(), pytest.raises(TieError):
        tie_source(session, ids["changelog"], key)
    with rt.sessions() as session:
        assert session.get(Source, ids["changelog"]).tool_key is None
