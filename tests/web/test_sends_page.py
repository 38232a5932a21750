"""The editor's send page: send, watch progress, pause, resume, cancel, resend an ambiguous batch."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core.db.models import DeliveryBatch
from services.core.runtime import Runtime
from services.delivery.progress import summary
from services.delivery.send import send_batch
from services.digest import compose
from services.mail.messages import Uncertain
from services.ops import store
from tests import factories
from tests.web.conftest import add_user, sign_in


class FailingMailer:
    def send(self, mail: object) -> str:
        raise AssertionError("unused")

    def send_batch(self, mail: object) -> None:
        raise Uncertain("connection reset after the request was written")


def _compiled(rt: Runtime, readers: int) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        factories.confirmed_subscribers(session, readers)
        compose.compile_week(session, rt.settings, "2026-W48")


def _editor(rt: Runtime, client: TestClient) -> str:
    add_user(rt, "editor@example.org", "editor")
    return sign_in(client, "editor@example.org")


def test_the_editor_sends_pauses_resumes_and_cancels(rt: Runtime, client: TestClient) -> None:
    # Given a compiled digest for 2,500 readers and a signed-in editor
    _compiled(rt, 2500)
    token = _editor(rt, client)
    page = client.get("/editor/sends/2026-W48")
    assert "Send to 2500 recipient(s)" in page.text
    # When they press send, Then three batches wait and the page shows 0% handed off
    assert client.post("/editor/sends/2026-W48/send", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    page = client.get("/editor/sends/2026-W48")
    assert re.search(r'id="send-percent">0%', page.text) and "Pause" in page.text
    # When they pause, Then the page offers resume; when they cancel, the rest is closed
    client.post("/editor/sends/2026-W48/pause", data={"csrf_token": token})
    assert "Resume" in client.get("/editor/sends/2026-W48").text
    client.post("/editor/sends/2026-W48/resume", data={"csrf_token": token})
    client.post("/editor/sends/2026-W48/cancel", data={"csrf_token": token})
    with rt.sessions() as session:
        assert set(session.scalars(select(DeliveryBatch.state))) == {"failed"}
        assert summary(session, 1).control == "cancelled"


def test_a_post_without_the_csrf_token_or_the_editor_role_changes_nothing(rt: Runtime, client: TestClient) -> None:
    _compiled(rt, 10)
    _editor(rt, client)
    assert client.post("/editor/sends/2026-W48/send", follow_redirects=False).status_code in (400, 403)
    anonymous = TestClient(client.app, base_url="https://verdicts.example.org")
    assert anonymous.post("/editor/sends/2026-W48/send", follow_redirects=False).status_code in (303, 403)
    with rt.sessions() as session:
        assert session.scalar(select(DeliveryBatch.id)) is None


def test_an_ambiguous_batch_is_listed_with_its_recipients_and_resent_on_request(rt: Runtime,
                                                                                client: TestClient) -> None:
    # Given a send whose only batch turned ambiguous
    _compiled(rt, 3)
    token = _editor(rt, client)
    client.post("/editor/sends/2026-W48/send", data={"csrf_token": token})
    with rt.sessions() as session:
        batch_id = session.scalar(select(DeliveryBatch.id))
    send_batch(rt.sessions, rt.settings, FailingMailer(), batch_id, "m1")
    # When the editor opens the page, Then the batch and its recipients are listed with a resend button
    page = client.get("/editor/sends/2026-W48").text
    assert "Ambiguous batches" in page and "reader0@example.org" in page and "Resend batch 1" in page
    # When they resend it, Then a new pending batch carries the same recipients
    client.post(f"/editor/sends/2026-W48/batches/{batch_id}/resend", data={"csrf_token": token})
    with rt.sessions() as session:
        states = session.execute(select(DeliveryBatch.number, DeliveryBatch.state).order_by(DeliveryBatch.number)).all()
    assert states == [(1, "ambiguous"), (2, "pending")]
    assert "Ambiguous batches" not in client.get("/editor/sends/2026-W48").text


def test_ops_may_resend_an_ambiguous_batch_but_not_start_a_send(rt: Runtime, client: TestClient) -> None:
    # Given a send whose only batch turned ambiguous, started by an editor
    _compiled(rt, 3)
    editor = TestClient(client.app, base_url="https://verdicts.example.org")
    editor_token = _editor(rt, editor)
    editor.post("/editor/sends/2026-W48/send", data={"csrf_token": editor_token})
    with rt.sessions() as session:
        batch_id = session.scalar(select(DeliveryBatch.id))
    send_batch(rt.sessions, rt.settings, FailingMailer(), batch_id, "m1")
    # When someone from ops signs in, Then they see the batch, may resend it, and may not start a send
    add_user(rt, "ops@example.org", "ops")
    token = sign_in(client, "ops@example.org")
    assert "Resend batch 1" in client.get("/editor/sends/2026-W48").text
    assert client.post("/editor/sends/2026-W48/send", data={"csrf_token": token},
                       follow_redirects=False).status_code == 403
    client.post(f"/editor/sends/2026-W48/batches/{batch_id}/resend", data={"csrf_token": token})
    with rt.sessions() as session:
        states = session.execute(select(DeliveryBatch.number, DeliveryBatch.state).order_by(DeliveryBatch.number)).all()
    assert states == [(1, "ambiguous"), (2, "pending")]
    # And the ops page no longer lists the batch as waiting for a decision
    with rt.sessions() as session:
        assert [send.ambiguous for send in store.sends(session)] == [[]]


def test_the_send_page_shows_recipients_per_topic_variant(rt: Runtime, client: TestClient) -> None:
    # Given a compiled digest of a Developer Tools comparison, and readers: three with no topic, two who
    # picked developer-tools, one who picked a topic nothing in it matches
    from services.core.db.models import Subscriber

    _compiled(rt, 3)
    with rt.sessions() as session, session.begin():
        for address, topics in [("dev1@example.org", ["developer-tools"]), ("dev2@example.org", ["developer-tools"]),
                                ("audio@example.org", ["audio"])]:
            factories.confirmed_subscriber(session, address).topics = topics
        assert session.scalar(select(Subscriber.topics).where(Subscriber.email == "audio@example.org")) == ["audio"]
    token = _editor(rt, client)
    # When the editor opens the send page, and again after sending
    before = client.get("/editor/sends/2026-W48").text
    client.post("/editor/sends/2026-W48/send", data={"csrf_token": token})
    after = client.get("/editor/sends/2026-W48").text
    # Then both list the versions with their recipients: everything for five, nothing sent to one
    for page in (before, after):
        table = page[page.index('id="variants"'):]
        assert re.search(r"<td>[^<]*<bdi>Alpha vs Beta</bdi> · <bdi>New this week</bdi></td><td>5<", table)
        assert re.search(r"no matching section: not sent</td><td>1<", table)
