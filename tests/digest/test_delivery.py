"""Delivery: batches written before sending, at most once each; a redelivered claim turns ambiguous."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from services.core.db.models import DeliveryBatch, Digest
from services.core.domain import BatchState, OutgoingMail
from services.core.runtime import Runtime
from services.core.tokens import unsign
from services.digest import compose, delivery
from services.digest.mailers import FileMailer
from tests import factories


class CountingMailer:
    def __init__(self, fail_after: int | None = None) -> None:
        self.sent: list[OutgoingMail] = []
        self.fail_after = fail_after

    def send(self, mail: OutgoingMail) -> str:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise ConnectionError("endpoint went away")
        self.sent.append(mail)
        return str(len(self.sent))


def _approved_digest(rt: Runtime, subscribers: int) -> int:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        for n in range(subscribers):
            factories.confirmed_subscriber(session, f"reader{n}@example.org")
        digest = compose.compile_week(session, rt.settings, "2026-W48")
        compose.approve(session, digest.id)
        return digest.id


def test_the_recipients_are_cut_into_batches_once(rt: Runtime) -> None:
    digest_id = _approved_digest(rt, 5)
    with rt.sessions() as session, session.begin():
        first = delivery.start_send(session, digest_id, batch_size=2)
    with rt.sessions() as session, session.begin():
        again = delivery.start_send(session, digest_id, batch_size=2)
    assert len(first) == 3 and again == first


def test_each_recipient_gets_personal_links_and_one_click_unsubscribe_headers(rt: Runtime) -> None:
    digest_id = _approved_digest(rt, 2)
    with rt.sessions() as session, session.begin():
        [batch_id] = delivery.start_send(session, digest_id)
    mailer = CountingMailer()
    assert delivery.send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1") == "sent"
    assert [m.to for m in mailer.sent] == ["reader0@example.org", "reader1@example.org"]
    first = mailer.sent[0]
    assert first.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = first.headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://verdicts.example.org/unsubscribe/")
    assert url in first.html and url in first.text
    assert "[[" not in first.html and "[[" not in first.text
    with rt.sessions() as session:
        subscriber_id = session.get(DeliveryBatch, batch_id).subscriber_ids[0]
        assert session.get(Digest, digest_id).state == "sent"
    assert unsign(rt.settings.secret(), "unsubscribe", url.rsplit("/", 1)[1]) == subscriber_id


def test_a_redelivered_message_finds_its_batch_sending_and_marks_it_ambiguous(rt: Runtime) -> None:
    # Given a batch claimed by message m1 whose worker died mid-send (left `sending`)
    digest_id = _approved_digest(rt, 3)
    with rt.sessions() as session, session.begin():
        [batch_id] = delivery.start_send(session, digest_id)
        batch = session.get(DeliveryBatch, batch_id)
        batch.state, batch.claimed_by = BatchState.SENDING.value, "m1"
    # When a different message for the batch arrives, Then it leaves the batch alone
    mailer = CountingMailer()
    assert delivery.send_batch(rt.sessions, rt.settings, mailer, batch_id, "m2") == "sending"
    # When m1 itself comes back, Then the batch turns ambiguous and nothing is sent again
    assert delivery.send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1") == "ambiguous"
    assert mailer.sent == []


def test_a_failed_hand_off_marks_the_batch_failed_with_the_error(rt: Runtime) -> None:
    digest_id = _approved_digest(rt, 3)
    with rt.sessions() as session, session.begin():
        [batch_id] = delivery.start_send(session, digest_id)
    assert delivery.send_batch(rt.sessions, rt.settings, CountingMailer(fail_after=1), batch_id, "m1") == "failed"
    with rt.sessions() as session:
        assert "endpoint went away" in session.get(DeliveryBatch, batch_id).error


def test_the_file_mailer_writes_a_complete_eml_and_the_html_beside_it(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path, "Verdicts <digest@example.org>")
    mailer.send(OutgoingMail(to="a@example.org", subject="Alpha vs Beta — and more", html="<p>hi</p>", text="hi",
                             headers={"List-Unsubscribe": "<https://x.example.org/u/1>",
                                      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}))
    [eml] = list(tmp_path.glob("*.eml"))
    assert eml.with_suffix(".html").read_text() == "<p>hi</p>"
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Alpha vs Beta — and more"
    assert message["List-Unsubscribe"] == "<https://x.example.org/u/1>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(("plain",)).get_content().strip() == "hi"
    assert not list(tmp_path.glob("*.tmp"))
