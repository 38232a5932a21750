"""The editor's digest pages: compile, preview, edit, reorder, approve, send a test — behind sign-in and CSRF."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.core.db.models import Digest, Event, User
from services.core.passwords import hash_password
from services.core.runtime import Runtime
from services.digest import compose
from tests import factories
from tests.digest.templates import broken_templates
from tests.event_driver import handle_recorded_events
from tests.web.conftest import client_with

WEEK = "2026-W48"
PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _signed_in(rt: Runtime, client: TestClient, role: str = "editor") -> None:
    with rt.sessions() as session, session.begin():
        session.add(User(email=f"{role}@example.org", role=role, password_hash=hash_password(PASSWORD)))
    token = TOKEN.search(client.get("/login").text).group(1)
    response = client.post("/login", data={"email": f"{role}@example.org", "password": PASSWORD,
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303


def _token(client: TestClient, path: str) -> str:
    return TOKEN.search(client.get(path).text).group(1)


def _draft(rt: Runtime) -> int:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        factories.published_comparison(session, "Gamma", "Delta")
        return compose.compile_week(session, rt.settings, WEEK).id


def test_the_preview_shows_subject_both_frames_and_the_plain_text(rt: Runtime, client: TestClient) -> None:
    # Given a compiled draft and a signed-in editor
    _draft(rt)
    _signed_in(rt, client)
    # When the editor opens its preview
    page = client.get(f"/editor/digests/{WEEK}")
    # Then the subject, a desktop and a phone frame and the plain text are there, with the draft's controls
    assert page.status_code == 200
    assert "<h1><bdi>Alpha vs Beta — and more</bdi></h1>" in page.text
    assert 'title="Desktop preview"' in page.text and 'title="Phone preview"' in page.text
    assert 'width="375"' in page.text
    assert "== Gamma vs Delta (Developer Tools) ==" in page.text
    assert "Approve and send to subscribers" in page.text
    # And the framed HTML is the mail, with public stand-ins for personal links
    frame = client.get(f"/editor/digests/{WEEK}/html").text
    assert frame.lower().startswith("<!doctype html") and "[[" not in frame


def test_an_editor_edits_reorders_and_approves_a_draft(rt: Runtime, client: TestClient) -> None:
    digest_id = _draft(rt)
    _signed_in(rt, client)
    preview = f"/editor/digests/{WEEK}"
    # When the editor saves new text, moves the second comparison up and approves
    edit = client.post(f"{preview}/edit", data={"subject": "Two duels", "preheader": "Who ships?",
                                                "intro": "Hello readers.", "csrf_token": _token(client, preview)},
                       follow_redirects=False)
    with rt.sessions() as session:
        second = session.get(Digest, digest_id).sections[1]["id"]
    move = client.post(f"{preview}/move", data={"section": second, "step": "-1",
                                                "csrf_token": _token(client, preview)}, follow_redirects=False)
    approve = client.post(f"{preview}/approve", data={"csrf_token": _token(client, preview)}, follow_redirects=False)
    # Then each step redirects back to the preview, and the digest holds the changes and is approved
    assert [r.status_code for r in (edit, move, approve)] == [303, 303, 303]
    with rt.sessions() as session:
        digest = session.get(Digest, digest_id)
        assert (digest.subject, digest.preheader, digest.intro) == ("Two duels", "Who ships?", "Hello readers.")
        assert digest.sections[0]["id"] == second and digest.state != "draft"
        assert session.scalar(select(func.count()).select_from(Event).where(Event.type == "digest.approved")) == 1
    # And the page no longer offers edits
    assert "Approve and send to subscribers" not in client.get(preview).text


def test_a_post_without_the_forms_token_is_refused(rt: Runtime, client: TestClient) -> None:
    digest_id = _draft(rt)
    _signed_in(rt, client)
    response = client.post(f"/editor/digests/{WEEK}/approve", data={}, follow_redirects=False)
    assert response.status_code == 403
    with rt.sessions() as session:
        assert session.get(Digest, digest_id).state == "draft"


def test_send_a_test_mails_one_address_through_the_configured_mailer(rt: Runtime, client: TestClient) -> None:
    # Given a draft and the file outbox as the configured mailer
    _draft(rt)
    _signed_in(rt, client)
    preview = f"/editor/digests/{WEEK}"
    # When the editor sends a test to one address
    response = client.post(f"{preview}/test", data={"address": "me@example.org",
                                                    "csrf_token": _token(client, preview)}, follow_redirects=False)
    # Then nothing is mailed in the request; the worker mails it through the outbox of events
    assert response.status_code == 303
    assert list(rt.settings.outbox_dir.glob("*.eml")) == []
    handle_recorded_events(rt)
    # And one message is in the outbox, marked as a test, with no marker left and no subscriber's link
    [eml] = list(rt.settings.outbox_dir.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "me@example.org"
    assert message["Subject"] == "[Test] Alpha vs Beta — and more"
    text = message.get_body(("plain",)).get_content()
    assert "Alpha vs Beta" in text and "[[" not in text and "/unsubscribe/" not in text
    # And a bad address gets a clear error, nothing sent
    bad = client.post(f"{preview}/test", data={"address": "not-an-address", "csrf_token": _token(client, preview)})
    assert bad.status_code == 400 and "not an email address" in bad.text
    handle_recorded_events(rt)
    assert len(list(rt.settings.outbox_dir.glob("*.eml"))) == 1


def test_an_empty_week_compiles_only_when_the_editor_insists(rt: Runtime, client: TestClient) -> None:
    _signed_in(rt, client)
    listing = "/editor/digests"
    # When the editor compiles an empty week
    plain = client.post(f"{listing}/compile", data={"week": WEEK, "csrf_token": _token(client, listing)})
    # Then nothing is made, and the page says how to force it
    assert plain.status_code == 200 and "Nothing to send" in plain.text
    # When the editor ticks "compile even if empty"
    forced = client.post(f"{listing}/compile", data={"week": WEEK, "force": "true",
                                                     "csrf_token": _token(client, listing)}, follow_redirects=False)
    # Then the digest exists and the editor lands on its preview
    assert forced.status_code == 303 and forced.headers["location"] == f"/editor/digests/{WEEK}"
    page = client.get(listing).text
    assert f'href="/editor/digests/{WEEK}"' in page
    assert "<code>0 9 * * mon</code> (UTC)" in page and "an editor approves it here" in page


def test_digest_pages_need_the_editor_role(rt: Runtime, client: TestClient) -> None:
    _draft(rt)
    assert client.get(f"/editor/digests/{WEEK}", follow_redirects=False).status_code == 303
    _signed_in(rt, client, role="reviewer")
    assert client.get(f"/editor/digests/{WEEK}").status_code == 403
    assert client.get(f"/editor/digests/{WEEK}/html").status_code == 403


def test_an_unknown_or_malformed_week_is_not_found(rt: Runtime, client: TestClient) -> None:
    _signed_in(rt, client)
    assert client.get("/editor/digests/2026-W47").status_code == 404
    assert client.get("/editor/digests/last-week").status_code == 404


def test_compiling_a_malformed_week_says_what_is_wrong(rt: Runtime, client: TestClient) -> None:
    _signed_in(rt, client)
    response = client.post("/editor/digests/compile", data={"week": "next monday",
                                                            "csrf_token": _token(client, "/editor/digests")})
    assert response.status_code == 400 and "not an ISO week like 2026-W48" in response.text


@pytest.mark.parametrize("junk", ["\x0b", "\x0c", "\x00"], ids=["vertical-tab", "form-feed", "nul"])
def test_the_edit_form_strips_control_characters_and_never_answers_500(rt: Runtime, client: TestClient,
                                                                       junk: str) -> None:
    # Given a draft and an editor who pasted the character into every field of the edit form
    digest_id = _draft(rt)
    _signed_in(rt, client)
    preview = f"/editor/digests/{WEEK}"
    # When the form is saved
    edit = client.post(f"{preview}/edit", data={"subject": f"Two {junk}duels", "preheader": f"Who {junk}ships?",
                                                "intro": f"Hello {junk}readers.", "csrf_token": _token(client, preview)},
                       follow_redirects=False)
    # Then it is saved without the character, and the preview shows the re-rendered mail
    assert edit.status_code == 303
    with rt.sessions() as session:
        digest = session.get(Digest, digest_id)
        assert (digest.subject, digest.preheader) == ("Two duels", "Who ships?")
        assert junk not in digest.intro + digest.html + digest.text and "Hello" in digest.html
    assert client.get(preview).status_code == 200


def test_an_edit_that_does_not_fit_is_refused_naming_the_field(rt: Runtime, client: TestClient) -> None:
    digest_id = _draft(rt)
    _signed_in(rt, client)
    preview = f"/editor/digests/{WEEK}"
    # When the editor saves a subject one character too long
    edit = client.post(f"{preview}/edit", data={"subject": "x" * 301, "preheader": "", "intro": "",
                                                "csrf_token": _token(client, preview)})
    # Then the answer is a 400 that names the field and its limit, and the digest is as it was
    assert edit.status_code == 400 and "the subject is 301 characters long; at most 300 fit" in edit.text
    with rt.sessions() as session:
        assert session.get(Digest, digest_id).subject == "Alpha vs Beta — and more"


def test_a_digest_that_does_not_render_is_refused_naming_what_failed(rt: Runtime, tmp_path: Path) -> None:
    # Given templates the renderer refuses, and a published comparison
    client = client_with(rt, email_templates_dir=broken_templates(tmp_path))
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
    _signed_in(rt, client)
    # When the editor compiles the week
    listing = "/editor/digests"
    response = client.post(f"{listing}/compile", data={"week": WEEK, "csrf_token": _token(client, listing)})
    # Then the answer is a 400 naming the template that failed, and no digest is stored
    assert response.status_code == 400 and "could not be rendered: digest.mjml" in response.text
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 0


def test_approving_a_digest_without_a_body_is_refused(rt: Runtime, client: TestClient) -> None:
    # Given a draft whose mail was never rendered
    digest_id = _draft(rt)
    with rt.sessions() as session, session.begin():
        session.get(Digest, digest_id).html = ""
    _signed_in(rt, client)
    preview = f"/editor/digests/{WEEK}"
    # When the editor approves it
    response = client.post(f"{preview}/approve", data={"csrf_token": _token(client, preview)})
    # Then the answer is a 409 that says why, and nothing is approved
    assert response.status_code == 409 and "has an empty body" in response.text
    with rt.sessions() as session:
        assert session.get(Digest, digest_id).state == "draft"
        assert session.scalar(select(func.count()).select_from(Event).where(Event.type == "digest.approved")) == 0
