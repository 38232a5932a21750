"""Delivery: batches written before sending, at most once each; a redelivered claim turns ambiguous."""

from __future__ import annotations

import email
import time
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.core.db.models import DeliveryBatch, Digest, Subscriber
from services.core.domain import BatchState, DigestState
from services.core.runtime import Runtime
from services.core.tokens import unsign
from services.delivery import subscribers
from services.delivery.controls import cancel, pause, resend, resume
from services.delivery.errors import EmptyDigest
from services.delivery.progress import ambiguous_batches, summary
from services.delivery.send import RetryPolicy, close_stuck, recipient_count, send_batch, start_send
from services.digest import compose
from services.mail.mailers import FileMailer
from services.mail.messages import BatchMail, OutgoingMail, Rejected, Throttled, Uncertain
from tests import factories

NO_WAIT = RetryPolicy(attempts=3, min_wait=0, max_wait=0, sleep=lambda _seconds: None)


class ScriptedMailer:
    """Records each batch handed over; raises the scripted failures first."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.batches: list[BatchMail] = []
        self.attempts = 0

    def send(self, mail: OutgoingMail) -> str:
        raise AssertionError("digests go out in batches")

    def send_batch(self, mail: BatchMail) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.batches.append(mail)


def _approved_digest(rt: Runtime, subscribers: int) -> int:
    with rt.sessions() as session, session.begin():
        return factories.approved_digest(session, rt.settings, subscribers)


def _one_batch(rt: Runtime, subscribers: int) -> tuple[int, int]:
    digest_id = _approved_digest(rt, subscribers)
    with rt.sessions() as session, session.begin():
        [batch_id] = start_send(session, digest_id)
    return digest_id, batch_id


def _batch(rt: Runtime, batch_id: int) -> DeliveryBatch:
    with rt.sessions() as session:
        return session.get(DeliveryBatch, batch_id)


def test_the_recipients_are_cut_into_batches_once(rt: Runtime) -> None:
    # Given an approved digest and five confirmed readers
    digest_id = _approved_digest(rt, 5)
    # When the send is started twice with batches of two
    with rt.sessions() as session, session.begin():
        first = start_send(session, digest_id, batch_size=2)
    with rt.sessions() as session, session.begin():
        again = start_send(session, digest_id, batch_size=2)
    # Then three batches exist, once
    assert len(first) == 3 and again == first


def test_the_snapshot_leaves_out_pending_unsubscribed_and_suppressed_addresses(rt: Runtime) -> None:
    # Given two confirmed readers, a pending one, an unsubscribed one and a suppressed one
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        keep = [factories.confirmed_subscriber(session, f"keep{n}@example.org").id for n in range(2)]
        session.add(Subscriber(email="pending@example.org"))
        session.add(Subscriber(email="gone@example.org", state="unsubscribed"))
        bounced = factories.confirmed_subscriber(session, "bounced@example.org")
        bounced.suppressed_reason, bounced.suppressed_at = "bounce", bounced.created_at
        digest = compose.compile_week(session, rt.settings, "2026-W48")
        compose.approve(session, digest.id)
        counted = recipient_count(session)
        # When the send starts
        [batch_id] = start_send(session, digest.id)
    # Then only the two confirmed, unsuppressed readers are in it, as counted beforehand
    assert _batch(rt, batch_id).subscriber_ids == keep and counted == 2


def test_each_recipient_gets_personal_links_headers_and_tracking_ids(rt: Runtime) -> None:
    # Given a batch of two readers
    digest_id, batch_id = _one_batch(rt, 2)
    mailer = ScriptedMailer()
    # When it is sent
    assert send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1", NO_WAIT) == "sent"
    # Then one request carried both, each with their own signed links and List-Unsubscribe, the one-click
    # List-Unsubscribe-Post once for all of them
    [mail] = mailer.batches
    assert [r.address for r in mail.recipients] == ["reader0@example.org", "reader1@example.org"]
    first = mail.recipients[0]
    subscriber_id = _batch(rt, batch_id).subscriber_ids[0]
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert all("List-Unsubscribe-Post" not in r.headers for r in mail.recipients)
    url = first.headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://verdicts.example.org/unsubscribe/")
    assert unsign(rt.settings.secret(), "unsubscribe", url.rsplit("/", 1)[1]) == subscriber_id
    assert first.values["[[unsubscribe_url]]"] == url
    assert "[[unsubscribe_url]]" in mail.html and "[[unsubscribe_url]]" in mail.text
    assert first.custom_args == {"digest_id": str(digest_id), "batch_id": str(batch_id),
                                 "subscriber_id": str(subscriber_id)}
    assert mail.categories == ("digest", "2026-W48")
    with rt.sessions() as session:
        assert session.get(Digest, digest_id).state == "sent"


def test_the_mailto_unsubscribe_is_added_when_configured(rt: Runtime, tmp_path: Path) -> None:
    # Given a mailto address for unsubscribes
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, str(rt.engine.url.render_as_string(hide_password=False)),
                             unsubscribe_mailto="unsubscribe@verdicts.example.org")
    _digest_id, batch_id = _one_batch(rt, 1)
    mailer = ScriptedMailer()
    # When the batch is sent
    send_batch(rt.sessions, settings, mailer, batch_id, "m1", NO_WAIT)
    # Then List-Unsubscribe carries the URL first and the mailto second
    header = mailer.batches[0].recipients[0].headers["List-Unsubscribe"]
    url, mailto = header.split(", ")
    assert url.startswith("<https://") and mailto.startswith("<mailto:unsubscribe@verdicts.example.org?subject=")


def test_every_batch_carries_the_list_id_and_feedback_id_once_for_all_its_recipients(rt: Runtime) -> None:
    # Given a batch of two readers of the 2026-W48 digest
    digest_id, batch_id = _one_batch(rt, 2)
    mailer = ScriptedMailer()
    # When it is sent
    send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1", NO_WAIT)
    # Then the batch's shared headers name the list (from the public host) and the campaign, sender last
    [mail] = mailer.batches
    assert mail.headers == {"List-Id": '"Verdicts weekly" <weekly.verdicts.example.org>',
                            "Feedback-ID": f"digest:2026-W48:{digest_id}:verdicts",
                            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert all("List-Id" not in r.headers for r in mail.recipients)


def test_an_unsubscribe_between_two_batches_of_one_send_is_honoured_by_the_next_batch(rt: Runtime) -> None:
    # Given a send cut into two batches of two, and the first batch sent
    digest_id = _approved_digest(rt, 4)
    with rt.sessions() as session, session.begin():
        first, second = start_send(session, digest_id, batch_size=2)
    mailer = ScriptedMailer()
    send_batch(rt.sessions, rt.settings, mailer, first, "m1", NO_WAIT)
    # When a reader of the second batch unsubscribes before it goes out
    with rt.sessions() as session, session.begin():
        subscribers.unsubscribe(session.get(Subscriber, _batch(rt, second).subscriber_ids[0]))
    send_batch(rt.sessions, rt.settings, mailer, second, "m2", NO_WAIT)
    # Then the second batch leaves them out
    assert [r.address for r in mailer.batches[1].recipients] == ["reader3@example.org"]


def test_a_redelivered_message_finds_its_batch_sending_and_marks_it_ambiguous(rt: Runtime) -> None:
    # Given a batch claimed by message m1 whose worker died mid-send (left `sending`)
    _digest_id, batch_id = _one_batch(rt, 3)
    with rt.sessions() as session, session.begin():
        batch = session.get(DeliveryBatch, batch_id)
        batch.state, batch.claimed_by = BatchState.SENDING.value, "m1"
    # When a different message for the batch arrives, Then it leaves the batch alone
    mailer = ScriptedMailer()
    assert send_batch(rt.sessions, rt.settings, mailer, batch_id, "m2", NO_WAIT) == "sending"
    # When m1 itself comes back, Then the batch turns ambiguous and nothing is sent again
    assert send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1", NO_WAIT) == "ambiguous"
    assert mailer.attempts == 0


def test_a_sent_batch_is_never_sent_again(rt: Runtime) -> None:
    # Given a batch already sent
    _digest_id, batch_id = _one_batch(rt, 2)
    mailer = ScriptedMailer()
    send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1", NO_WAIT)
    # When any message for it arrives again
    for message_id in ("m1", "m2"):
        assert send_batch(rt.sessions, rt.settings, mailer, batch_id, message_id, NO_WAIT) == "sent"
    # Then the endpoint saw one request
    assert mailer.attempts == 1


def test_a_throttled_batch_is_tried_again_and_honours_retry_after(rt: Runtime) -> None:
    # Given a mailer that answers 429 (Retry-After 7) then 500, then accepts
    _digest_id, batch_id = _one_batch(rt, 2)
    waits: list[float] = []
    policy_ = RetryPolicy(attempts=3, min_wait=0.5, max_wait=5, sleep=waits.append)
    mailer = ScriptedMailer(Throttled("HTTP 429", retry_after=7), Throttled("HTTP 500"))
    # When the batch is sent
    state = send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1", policy_)
    # Then it went out on the third try, after waiting what the server asked, then backing off
    assert state == "sent" and mailer.attempts == 3 and len(mailer.batches) == 1
    assert waits[0] == 7 and 0.5 <= waits[1] <= 5


def test_a_batch_still_throttled_after_every_attempt_fails_with_the_reason(rt: Runtime) -> None:
    _digest_id, batch_id = _one_batch(rt, 1)
    mailer = ScriptedMailer(*(Throttled("HTTP 500: internal error") for _ in range(3)))
    assert send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1", NO_WAIT) == "failed"
    assert "internal error" in _batch(rt, batch_id).error and mailer.attempts == 3


def test_a_rejected_batch_fails_at_once_with_sendgrids_words(rt: Runtime) -> None:
    _digest_id, batch_id = _one_batch(rt, 1)
    mailer = ScriptedMailer(Rejected("HTTP 400: The from address does not match a verified Sender Identity"))
    assert send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1", NO_WAIT) == "failed"
    assert mailer.attempts == 1
    assert "verified Sender Identity" in _batch(rt, batch_id).error


def test_a_request_that_may_have_arrived_turns_the_batch_ambiguous_not_retried(rt: Runtime) -> None:
    _digest_id, batch_id = _one_batch(rt, 1)
    mailer = ScriptedMailer(Uncertain("TimeoutError: timed out"))
    assert send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1", NO_WAIT) == "ambiguous"
    assert mailer.attempts == 1


def test_an_address_suppressed_after_the_snapshot_is_skipped_at_send_time(rt: Runtime) -> None:
    # Given a batch of two, and one of them bounces before the batch goes out
    _digest_id, batch_id = _one_batch(rt, 2)
    with rt.sessions() as session, session.begin():
        subscriber = session.get(Subscriber, _batch(rt, batch_id).subscriber_ids[0])
        subscriber.suppressed_reason, subscriber.suppressed_at = "bounce", subscriber.created_at
    mailer = ScriptedMailer()
    send_batch(rt.sessions, rt.settings, mailer, batch_id, "m1", NO_WAIT)
    assert [r.address for r in mailer.batches[0].recipients] == ["reader1@example.org"]


def test_a_paused_send_holds_its_batches_until_resumed_and_a_cancel_closes_them(rt: Runtime) -> None:
    # Given a digest cut into three batches, paused
    digest_id = _approved_digest(rt, 3)
    with rt.sessions() as session, session.begin():
        batch_ids = start_send(session, digest_id, batch_size=1)
        pause(session, digest_id)
    mailer = ScriptedMailer()
    # When a batch's message arrives, Then it waits (pending, nothing sent)
    assert send_batch(rt.sessions, rt.settings, mailer, batch_ids[0], "m1", NO_WAIT) == "pending"
    # When resumed, Then its batches are handed out again and one goes out
    with rt.sessions() as session, session.begin():
        assert resume(session, digest_id) == 3
    assert send_batch(rt.sessions, rt.settings, mailer, batch_ids[0], "m2", NO_WAIT) == "sent"
    # When cancelled, Then the rest are closed and the send has settled
    with rt.sessions() as session, session.begin():
        assert cancel(session, digest_id) == 2
    with rt.sessions() as session:
        progress = summary(session, digest_id)
    assert progress.settled and progress.recipients == {"sent": 1, "failed": 2} and progress.control == "cancelled"
    assert len(mailer.batches) == 1


def test_an_ambiguous_batch_is_listed_with_its_recipients_and_can_be_resent_once(rt: Runtime) -> None:
    # Given a batch that turned ambiguous
    digest_id, batch_id = _one_batch(rt, 2)
    send_batch(rt.sessions, rt.settings, ScriptedMailer(Uncertain("reset")), batch_id, "m1", NO_WAIT)
    with rt.sessions() as session:
        [listed] = ambiguous_batches(session)
    assert listed.recipients == ["reader0@example.org", "reader1@example.org"]
    # When ops resend it (twice, by a double click)
    with rt.sessions() as session, session.begin():
        again = resend(session, batch_id)
    with rt.sessions() as session, session.begin():
        assert resend(session, batch_id) == again
    # Then one new pending batch carries the same recipients and the ambiguous one is no longer listed
    assert _batch(rt, again).subscriber_ids == _batch(rt, batch_id).subscriber_ids
    with rt.sessions() as session:
        assert ambiguous_batches(session) == []
    mailer = ScriptedMailer()
    assert send_batch(rt.sessions, rt.settings, mailer, again, "m9", NO_WAIT) == "sent"
    with rt.sessions() as session:
        assert session.get(Digest, digest_id).state == "sent"


def test_the_file_mailer_writes_one_complete_eml_per_recipient(rt: Runtime, tmp_path: Path) -> None:
    # Given a batch of two through the file outbox
    _digest_id, batch_id = _one_batch(rt, 2)
    outbox = tmp_path / "out"
    send_batch(rt.sessions, rt.settings, FileMailer(outbox, "Verdicts <digest@example.org>"), batch_id, "m1",
                        NO_WAIT)
    # Then each .eml has its own links filled in, the one-click headers, and no leftover marker
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox.glob("*.eml")]
    assert sorted(m["To"] for m in messages) == ["reader0@example.org", "reader1@example.org"]
    for message in messages:
        url = message["List-Unsubscribe"].strip("<>")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = message.get_body(("plain",)).get_content()
        assert url in text and "[[" not in text
        assert message["X-Verdicts-Batch-Id"] == str(batch_id)
        assert message["List-Id"] == '"Verdicts weekly" <weekly.verdicts.example.org>'
        assert message["Feedback-ID"].startswith("digest:2026-W48:")
    assert not list(outbox.glob("*.tmp"))


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


def test_fast_links_are_the_tokens_the_web_side_verifies(rt: Runtime) -> None:
    # Given the fast signer and the core's itsdangerous links, at the same second
    from services.core import links
    from services.delivery.link_signing import LinkSigner

    now = int(time.time())
    signer = LinkSigner(rt.settings, now)
    # Then both mint the same tokens, and the core's unsign reads them
    if int(time.time()) == now:
        assert signer.unsubscribe(42) == links.unsubscribe(rt.settings, 42)
    token = signer.ballot(42, 7).rsplit("/", 1)[1]
    assert unsign(rt.settings.secret(), links.BALLOT, token, 3600) == [42, 7]
    assert unsign(rt.settings.secret(), links.PREFERENCES, signer.preferences(9).rsplit("/", 1)[1], 3600) == 9


def test_a_batch_left_sending_past_any_worker_s_time_limit_turns_ambiguous(rt: Runtime) -> None:
    # Given two batches `sending`: one started 31 minutes ago (its outcome never written), one just now
    import datetime as dt

    from services.core.db.base import utcnow

    digest_id = _approved_digest(rt, 2)
    with rt.sessions() as session, session.begin():
        old, fresh = (session.get(DeliveryBatch, i) for i in start_send(session, digest_id, batch_size=1))
        old.state, old.started_at = "sending", utcnow() - dt.timedelta(minutes=31)
        fresh.state, fresh.started_at = "sending", utcnow()
        old_id, fresh_id = old.id, fresh.id
    # When the scheduler's sweep runs
    with rt.sessions() as session, session.begin():
        assert close_stuck(session) == 1
    # Then only the old one is ambiguous, and the send is still open
    assert _batch(rt, old_id).state == "ambiguous" and _batch(rt, fresh_id).state == "sending"
    with rt.sessions() as session:
        assert not summary(session, digest_id).settled


def test_a_digest_without_a_body_is_never_cut_into_batches(rt: Runtime) -> None:
    # Given an approved digest whose mail has no body (a compile that failed half-way once left such rows)
    digest_id = _approved_digest(rt, 3)
    with rt.sessions() as session, session.begin():
        session.get(Digest, digest_id).html = ""
    # When its send is started, Then it is refused with the reason, and nothing is queued to go out
    with pytest.raises(EmptyDigest, match="2026-W48 has an empty body"), rt.sessions() as session, session.begin():
        start_send(session, digest_id)
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeliveryBatch)) == 0
        assert session.get(Digest, digest_id).state == DigestState.APPROVED
