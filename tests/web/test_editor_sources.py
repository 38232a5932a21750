"""The editor's sources page: list with state and errors, add (with feed discovery), pause, resume, poll now,
OPML import and export."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core.db.models import Source
from services.core.domain import SourceKind, SourceState
from services.core.runtime import Runtime
from services.ingest.refresh import refresh_source
from services.ingest.sources import add_source
from tests.local_http import LocalServer, Reply, serving
from tests.web.conftest import add_user, client_with, sign_in

FEED = b"<rss version='2.0'><channel><title>Acme news</title><item><title>Hi</title><guid>1</guid></item></channel></rss>"


@pytest.fixture
def http() -> Iterator[LocalServer]:
    with serving() as server:
        yield server


def _editor(rt: Runtime, client: TestClient) -> str:
    add_user(rt, "editor@example.org", "editor")
    return sign_in(client, "editor@example.org")


def test_the_page_shows_each_source_with_its_state_and_last_error(rt: Runtime, client: TestClient,
                                                                  http: LocalServer) -> None:
    # Given a working source and one that answers 503
    http.routes["/ok"] = Reply(body=FEED)
    http.routes["/down"] = Reply(503, b"busy", {"Retry-After": "600"})
    with rt.sessions() as session, session.begin():
        ids = [add_source(session, http.url(p), SourceKind.FEED).id for p in ("/ok", "/down")]
    for source_id in ids:
        refresh_source(rt.sessions, source_id, rt.settings)
    _editor(rt, client)
    # When the editor opens the page
    page = client.get("/editor/sources")
    # Then both rows show; the failing one says what went wrong, with the status and the count
    assert page.status_code == 200
    assert "Acme news" in page.text and http.url("/down") in page.text
    assert "throttled" in page.text and "HTTP 503" in page.text and "1 failure(s) in a row" in page.text
    assert 'id="count-failing">1<' in page.text


def test_a_source_that_moved_onto_a_watched_feed_shows_as_disabled_with_the_source_it_redirects_to(
        rt: Runtime, client: TestClient, http: LocalServer) -> None:
    # Given two aliases of one feed, watched as two sources and polled, and then the alias
    # redirecting for good to the feed
    for path in ("/feed", "/alias"):
        http.routes[path] = Reply(body=FEED)
    with rt.sessions() as session, session.begin():
        feed, alias = (add_source(session, http.url(p), SourceKind.FEED).id for p in ("/feed", "/alias"))
    for source_id in (feed, alias):
        refresh_source(rt.sessions, source_id, rt.settings)
    http.routes["/alias"] = Reply(301, headers={"Location": "/feed"})
    refresh_source(rt.sessions, alias, rt.settings)
    _editor(rt, client)
    # When the editor opens the page
    page = client.get("/editor/sources")
    # Then the alias is disabled and says which source watches its feed now
    assert f'id="source-{alias}" data-state="disabled"' in page.text
    assert f"now redirects to source {feed}" in page.text
    assert 'id="count-disabled">1<' in page.text and 'id="count-failing">0<' in page.text


def test_an_editor_adds_a_web_page_and_gets_the_feed_it_announces(rt: Runtime, client: TestClient,
                                                                   http: LocalServer) -> None:
    # Given a blog page that announces its feed with a relative <link rel="alternate">
    http.routes["/blog"] = Reply(body=b'<!doctype html><html><head><link rel="alternate" type="application/rss+xml" '
                                      b'href="/blog/feed.xml"></head><body>hello</body></html>')
    http.routes["/blog/feed.xml"] = Reply(body=FEED)
    token = _editor(rt, client)
    # When the editor adds the page
    response = client.post("/editor/sources", data={"url": http.url("/blog"), "kind": "feed", "csrf_token": token},
                           follow_redirects=True)
    # Then the feed's URL is watched, and the page says so
    assert "Added source" in response.text
    with rt.sessions() as session:
        assert session.scalars(select(Source.url)).all() == [http.url("/blog/feed.xml")]


def test_a_page_whose_feeds_do_not_parse_is_refused_with_a_form_error_keeping_what_was_typed(
        rt: Runtime, client: TestClient, http: LocalServer) -> None:
    # Given a WordPress-style page whose only alternates are its REST API and a feed that is no feed
    http.routes["/about/"] = Reply(body=b'<!doctype html><html><head><link rel="https://api.w.org/" href="/wp-json/">'
                                        b'<link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/7">'
                                        b'<link rel="alternate" type="application/rss+xml" href="/feed/"></head></html>')
    http.routes["/feed/"] = Reply(body=b"<!doctype html><html><body>Not found</body></html>")
    token = _editor(rt, client)
    # When the editor adds the page
    response = client.post("/editor/sources", data={"url": http.url("/about/"), "kind": "feed", "title": "Acme & co",
                                                     "csrf_token": token})
    # Then the form comes back refused, saying why, with what was typed still in it, and nothing is stored
    assert response.status_code == 422
    assert 'role="alert"' in response.text and "Not added" in response.text and "none reads as one" in response.text
    assert f'value="{http.url("/about/")}"' in response.text and 'value="Acme &amp; co"' in response.text
    with rt.sessions() as session:
        assert session.scalars(select(Source.url)).all() == []


def test_an_address_the_ssrf_guard_forbids_is_refused_with_a_form_error(rt: Runtime, http: LocalServer) -> None:
    # Given settings that keep private and local networks out, and a working feed on this machine
    client = client_with(rt, allow_private_networks=False)
    http.routes["/feed.xml"] = Reply(body=FEED)
    token = _editor(rt, client)
    # When the editor adds it
    response = client.post("/editor/sources", data={"url": http.url("/feed.xml"), "kind": "feed",
                                                     "csrf_token": token})
    # Then it is refused as a forbidden address, nothing was fetched and nothing is stored
    assert response.status_code == 422 and "only public addresses" in response.text
    assert http.requests == []
    with rt.sessions() as session:
        assert session.scalars(select(Source.url)).all() == []


def test_pause_resume_and_poll_now(rt: Runtime, client: TestClient, http: LocalServer) -> None:
    http.routes["/ok"] = Reply(body=FEED)
    with rt.sessions() as session, session.begin():
        source_id = add_source(session, http.url("/ok"), SourceKind.FEED).id
    token = _editor(rt, client)
    client.post(f"/editor/sources/{source_id}/pause", data={"csrf_token": token})
    with rt.sessions() as session:
        assert session.get(Source, source_id).state == SourceState.PAUSED.value
    refused = client.post(f"/editor/sources/{source_id}/poll", data={"csrf_token": token}, follow_redirects=True)
    assert "resume it first" in refused.text
    client.post(f"/editor/sources/{source_id}/resume", data={"csrf_token": token})
    polled = client.post(f"/editor/sources/{source_id}/poll", data={"csrf_token": token}, follow_redirects=True)
    assert "will be polled" in polled.text
    with rt.sessions() as session:
        assert session.get(Source, source_id).state == SourceState.ACTIVE.value


def test_without_the_editor_role_or_the_csrf_token_nothing_changes(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        source_id = add_source(session, "https://feeds.example.org/rss", SourceKind.FEED).id
    # A signed-out visitor is sent to the sign-in page; a reviewer is refused
    assert client.get("/editor/sources", follow_redirects=False).status_code == 303
    add_user(rt, "reviewer@example.org", "reviewer", lens="builder")
    token = sign_in(client, "reviewer@example.org")
    assert client.get("/editor/sources").status_code == 403
    assert client.post(f"/editor/sources/{source_id}/pause", data={"csrf_token": token}).status_code == 403
    # An editor without the token is refused too
    client.post("/logout", data={"csrf_token": token})
    _editor(rt, client)
    assert client.post(f"/editor/sources/{source_id}/pause", data={}).status_code == 403
    with rt.sessions() as session:
        assert session.get(Source, source_id).state == SourceState.ACTIVE.value


def test_an_editor_ties_a_changelog_to_a_tool_and_clears_it_and_both_are_audit_logged(
        rt: Runtime, client: TestClient) -> None:
    from services.core.db.models import AuditEntry, Tool

    # Given a changelog source and a known tool
    with rt.sessions() as session, session.begin():
        source_id = add_source(session, "https://forge.example.dev/changelog.xml", SourceKind.FEED).id
        session.add(Tool(slug="forge", name="forge", canonical_key="github:acme-labs/forge"))
    token = _editor(rt, client)
    # When the editor ties the source to the tool's key on the sources page
    tied = client.post(f"/editor/sources/{source_id}/tie", data={"tool_key": "github:acme-labs/forge",
                                                                 "csrf_token": token}, follow_redirects=True)
    # Then the source is tied, the page says so and shows the key in the row
    assert f"Source {source_id} is tied to github:acme-labs/forge." in tied.text
    assert 'value="github:acme-labs/forge"' in tied.text
    # And a key no tool holds is refused, leaving the tie as it was
    refused = client.post(f"/editor/sources/{source_id}/tie", data={"tool_key": "github:nobody/nothing",
                                                                    "csrf_token": token}, follow_redirects=True)
    assert "Not tied: no tool is known by the key" in refused.text
    with rt.sessions() as session:
        assert session.get(Source, source_id).tool_key == "github:acme-labs/forge"
    # When the editor clears the key
    cleared = client.post(f"/editor/sources/{source_id}/tie", data={"tool_key": "", "csrf_token": token},
                          follow_redirects=True)
    # Then the source is no longer tied, and the tie and its clearing are in the audit log with who did them
    assert f"Source {source_id} is no longer tied to a tool." in cleared.text
    with rt.sessions() as session:
        assert session.get(Source, source_id).tool_key is None
        logged = session.execute(select(AuditEntry.action, AuditEntry.subject, AuditEntry.detail, AuditEntry.user_id)
                                 .order_by(AuditEntry.id)).all()
    assert [(a, s, d) for a, s, d, _ in logged] == [
        ("source.tie", f"source:{source_id}", {"tool_key": "github:acme-labs/forge"}),
        ("source.untie", f"source:{source_id}", {"tool_key": "github:acme-labs/forge"})]
    assert all(user_id is not None for *_, user_id in logged)


OPML = (b'<?xml version="1.0"?><opml version="1.0"><body><outline text="AI">'
        b'<outline text="Acme" xmlurl="https://acme.example.org/rss" ttrss:updateInterval="0"/></outline>'
        b'<outline text="Bad" xmlUrl="file:///etc/passwd"/></body></opml>')


def test_an_editor_imports_an_opml_file_and_exports_the_sources_back(rt: Runtime, client: TestClient) -> None:
    # Given an editor and an OPML file with one good feed in a folder and one refused outline
    token = _editor(rt, client)
    # When it is uploaded with the CSRF token, and the sources exported
    done = client.post("/editor/sources/opml", data={"csrf_token": token},
                       files={"file": ("subscriptions", OPML, "application/octet-stream")}, follow_redirects=True)
    exported = client.get("/editor/sources/opml")
    # Then the good feed is a source tagged with its folder, the refused one is reported
    assert done.status_code == 200 and 'id="opml-import"' in done.text and 'href="/editor/sources/opml"' in done.text
    assert "Imported 1 source(s) from subscriptions" in done.text and "file:///etc/passwd" in done.text
    with rt.sessions() as session:
        [source] = session.scalars(select(Source))
    assert (source.url, source.title, source.tags) == ("https://acme.example.org/rss", "Acme", ["AI"])
    assert "tags: <bdi>AI</bdi>" in done.text
    # And the export is an OPML download listing it
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/x-opml")
    assert "attachment" in exported.headers["content-disposition"]
    assert 'xmlUrl="https://acme.example.org/rss"' in exported.text


def test_an_opml_upload_needs_the_csrf_token_and_a_readable_file(rt: Runtime, client: TestClient) -> None:
    # Given an editor
    token = _editor(rt, client)
    # When a file is posted without the token, and a file that is no OPML with it
    forged = client.post("/editor/sources/opml", files={"file": ("a.opml", OPML, "text/xml")})
    broken = client.post("/editor/sources/opml", data={"csrf_token": token},
                         files={"file": ("notes.txt", b"not xml", "text/plain")})
    # Then the first is refused, the second answers 422 with why, and nothing was added
    assert forged.status_code == 403
    assert broken.status_code == 422 and 'id="import-error"' in broken.text and "not an XML document" in broken.text
    with rt.sessions() as session:
        assert session.scalars(select(Source)).all() == []
