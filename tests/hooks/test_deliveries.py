"""Deliveries end to end against a real local receiver: fan-out to the endpoints that asked, Standard
Webhooks signatures the receiver verifies, retries after a failure, attempts recorded, replays, the SSRF
guard at delivery time."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook

from services.core import limits, ssrf
from services.core.db.base import utcnow
from services.core.db.models import AuditEntry, HookAttempt, HookDelivery
from services.core.domain import HookDeliveryState
from services.core.runtime import Runtime
from services.core.settings import Settings
from services.hooks import deliveries, endpoints, sender, signing
from services.hooks.errors import HookBusy, HookNotFound
from services.review import queue
from tests import factories
from tests.event_driver import handle_recorded_events
from tests.hooks.conftest import Receiver, dripping
from tests.local_http import Reply


def _endpoint(rt: Runtime, url: str, *types: str, allow_private: bool = True) -> tuple[int, str]:
    with rt.sessions() as session, session.begin():
        made = endpoints.register(session, url, "", list(types), allow_private_networks=allow_private, user_id=None)
        return made.endpoint.id, made.secret


def _settings(rt: Runtime, **changes: object) -> Settings:
    return rt.settings.model_copy(update=changes)


def _run_due(rt: Runtime, settings: Settings | None = None) -> list[HookDeliveryState | None]:
    """What the scheduler's tick and the worker do: claim what is due, attempt each claim once."""
    claims = deliveries.claim_due(rt.sessions, deliveries.lease_seconds(rt.settings))
    return [deliveries.attempt(rt.sessions, settings or rt.settings, delivery_id, claim)
            for delivery_id, claim in claims]


def _attempts(rt: Runtime, delivery_id: int) -> list[tuple[int, int | None, str | None]]:
    with rt.sessions() as session:
        return [(a.number, a.status_code, a.error) for a in session.scalars(
            select(HookAttempt).where(HookAttempt.delivery_id == delivery_id).order_by(HookAttempt.number))]


def _make_due(rt: Runtime) -> None:
    """As if the backoff had passed: every pending delivery is due now."""
    with rt.sessions() as session, session.begin():
        session.execute(update(HookDelivery).where(HookDelivery.state == HookDeliveryState.PENDING)
                        .values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))


def _approve_a_candidate(rt: Runtime, name: str = "Widget") -> int:
    """Approve a new candidate and let the worker handle the recorded events (the fan-out to endpoints)."""
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, name).id
        queue.approve(session, tool_id, None)
    handle_recorded_events(rt)
    return tool_id


def test_an_event_reaches_only_the_endpoints_that_asked_for_it_signed_so_the_receiver_verifies_it(
        rt: Runtime, receiver: Receiver) -> None:
    # Given one endpoint told of approvals, one of published comparisons
    _, approvals_secret = _endpoint(rt, receiver.listen("/approvals"), "tool.approved")
    _endpoint(rt, receiver.listen("/comparisons"), "comparison.published")
    # When a candidate is approved, the worker handles the event, and the tick and worker run
    tool_id = _approve_a_candidate(rt)
    assert _run_due(rt) == [HookDeliveryState.SUCCEEDED]
    # Then only the approvals endpoint got one POST, which standardwebhooks verifies with its secret
    assert receiver.at("/comparisons") == []
    [post] = receiver.at("/approvals")
    message = Webhook(approvals_secret).verify(post.body, post.headers)
    assert message["type"] == "tool.approved" and message["data"]["tool_id"] == tool_id
    assert message["data"]["tool"]["name"] == "Widget"
    assert message["data"]["tool"]["url"].startswith("https://verdicts.example.org/t/")
    assert post.headers["webhook-id"].startswith("msg_") and post.headers["content-type"] == "application/json"
    # And a signature made with another secret, or over a changed body, is refused by the receiver's check
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(signing.new_secret()).verify(post.body, post.headers)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(approvals_secret).verify(post.body.replace(b"Widget", b"Gadget"), post.headers)


def test_an_endpoint_of_several_types_gets_each_and_nothing_is_sent_twice(rt: Runtime, receiver: Receiver) -> None:
    # Given an endpoint told of every type
    _endpoint(rt, receiver.listen("/all"), *endpoints.EVENT_TYPES)
    # When a comparison is published (two tools approved, two verdicts completed, one comparison published)
    with rt.sessions() as session, session.begin():
        slug = factories.published_comparison(session).slug
    handle_recorded_events(rt)
    _run_due(rt)
    _run_due(rt)  # a second tick finds nothing due
    # Then it got each of those five messages once, the comparison with its public URL
    types = sorted(json.loads(p.body)["type"] for p in receiver.at("/all"))
    assert types == ["comparison.published", "tool.approved", "tool.approved", "verdict.completed",
                     "verdict.completed"]
    [published] = [json.loads(p.body) for p in receiver.at("/all") if b"comparison.published" in p.body]
    assert published["data"]["comparison"]["url"] == f"https://verdicts.example.org/c/{slug}"


def test_a_delivery_answered_500_waits_its_backoff_is_tried_again_and_succeeds(rt: Runtime, receiver: Receiver) -> None:
    # Given an endpoint that answers 500 once, then 200
    _endpoint(rt, receiver.listen("/flaky", 500, 200), "tool.approved")
    _approve_a_candidate(rt)
    # When the first attempt fails
    assert _run_due(rt) == [HookDeliveryState.PENDING]
    # Then it is recorded, and the delivery is not due again before its backoff (30 s ± 20 %)
    with rt.sessions() as session:
        delivery = session.scalars(select(HookDelivery)).one()
        wait = (delivery.next_attempt_at - utcnow()).total_seconds()  # type: ignore[operator]
    assert 20 < wait <= 36
    assert _run_due(rt) == []
    # When the backoff has passed and the tick runs again
    _make_due(rt)
    assert _run_due(rt) == [HookDeliveryState.SUCCEEDED]
    # Then two attempts are recorded (status, error) and both POSTs carried the same webhook-id
    assert [(n, status) for n, status, _ in _attempts(rt, delivery.id)] == [(1, 500), (2, 200)]
    assert _attempts(rt, delivery.id)[0][2] == "HTTP 500: receiver says no"
    first, second = receiver.at("/flaky")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert first.body == second.body


def test_the_wait_doubles_per_failed_attempt_up_to_the_cap(rt: Runtime) -> None:
    settings = _settings(rt, hook_retry_base_seconds=10.0, hook_retry_max_seconds=60.0)
    waits = [deliveries.backoff_seconds(n, settings) for n in range(1, 6)]
    for wait, expected in zip(waits, [10, 20, 40, 60, 60], strict=True):
        assert expected * 0.8 <= wait <= expected * 1.2


def test_a_delivery_fails_after_its_last_attempt_and_replaying_the_failed_sends_the_same_message(
        rt: Runtime, receiver: Receiver) -> None:
    # Given an endpoint that answers 503 twice and then 204, and deliveries tried at most twice
    endpoint_id, secret = _endpoint(rt, receiver.listen("/down", 503, 503, 204), "tool.approved")
    settings = _settings(rt, hook_max_attempts=2)
    _approve_a_candidate(rt)
    # When both attempts fail
    assert _run_due(rt, settings) == [HookDeliveryState.PENDING]
    _make_due(rt)
    assert _run_due(rt, settings) == [HookDeliveryState.FAILED]
    _make_due(rt)
    assert _run_due(rt, settings) == []  # a failed delivery is not tried again by itself
    # When an editor replays every failed delivery (twice: the second finds none left)
    with rt.sessions() as session, session.begin():
        [again] = deliveries.replay_failed(session, endpoint_id, user_id=None)
        again_id, original_id = again.id, again.replay_of_id
        assert deliveries.replay_failed(session, endpoint_id, user_id=None) == []
    assert _run_due(rt, settings) == [HookDeliveryState.SUCCEEDED]
    # Then the replay went out with the same webhook-id and body, verifiably signed
    posts = receiver.at("/down")
    assert len(posts) == 3 and posts[2].body == posts[0].body
    assert posts[2].headers["webhook-id"] == posts[0].headers["webhook-id"]
    Webhook(secret).verify(posts[2].body, posts[2].headers)
    with rt.sessions() as session:
        original = session.get_one(HookDelivery, original_id)
        assert original.state == HookDeliveryState.FAILED and original.replayed_as_id == again_id
        assert original.finished_at is not None
        assert [(a.action, a.subject) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
                if a.action.startswith("hook.")] == [("hook.add", f"hook:{endpoint_id}"),
                                                     ("hook.replay_failed", f"hook:{endpoint_id}"),
                                                     ("hook.replay_failed", f"hook:{endpoint_id}")]


def test_replaying_one_delivery_is_refused_while_it_is_still_being_tried(rt: Runtime, receiver: Receiver) -> None:
    endpoint_id, _ = _endpoint(rt, receiver.listen("/slow", 500), "tool.approved")
    _approve_a_candidate(rt)
    with rt.sessions() as session:
        delivery_id = session.scalars(select(HookDelivery.id)).one()
    with rt.sessions() as session, pytest.raises(HookBusy):
        deliveries.replay(session, endpoint_id, delivery_id, user_id=None)
    with rt.sessions() as session, pytest.raises(HookNotFound):
        deliveries.replay(session, endpoint_id + 1, delivery_id, user_id=None)


def test_an_address_that_turned_private_is_refused_at_delivery_and_not_tried_again(
        rt: Runtime, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an endpoint registered while its name resolved to a public address, under the default policy
    port = receiver.server.httpd.server_address[1]
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["93.184.215.14"])
    _endpoint(rt, f"http://hooks.example.org:{port}/in", "tool.approved", allow_private=False)
    _approve_a_candidate(rt)
    # When the name now resolves to loopback (DNS rebinding) and the delivery is attempted
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["127.0.0.1"])
    assert _run_due(rt, _settings(rt, allow_private_networks=False)) == [HookDeliveryState.FAILED]
    # Then nothing reached the receiver, and the one attempt says why
    assert receiver.received == []
    with rt.sessions() as session:
        delivery = session.scalars(select(HookDelivery)).one()
    [(number, status, error)] = _attempts(rt, delivery.id)
    assert status is None and error is not None and error.startswith("forbidden_address")


def test_a_claim_is_used_once_and_a_lost_one_is_handed_out_again_when_its_lease_ends(
        rt: Runtime, receiver: Receiver) -> None:
    # Given a due delivery claimed by a tick whose message was lost
    _endpoint(rt, receiver.listen("/once"), "tool.approved")
    _approve_a_candidate(rt)
    [(delivery_id, lost)] = deliveries.claim_due(rt.sessions, lease=60)
    assert deliveries.claim_due(rt.sessions, lease=60) == []  # leased: no second hand-out
    # When the lease has run out, a tick hands it out again with a new claim
    with rt.sessions() as session, session.begin():
        session.execute(update(HookDelivery).values(claimed_until=utcnow() - dt.timedelta(seconds=1)))
    [(same_id, claim)] = deliveries.claim_due(rt.sessions, lease=60)
    # Then the lost claim no longer works, the new one works once, and the receiver got one POST
    assert same_id == delivery_id
    assert deliveries.attempt(rt.sessions, rt.settings, delivery_id, lost) is None
    assert deliveries.attempt(rt.sessions, rt.settings, delivery_id, claim) == HookDeliveryState.SUCCEEDED
    assert deliveries.attempt(rt.sessions, rt.settings, delivery_id, claim) is None
    assert len(receiver.at("/once")) == 1


def test_an_unreachable_endpoint_records_the_error_and_the_duration(rt: Runtime, receiver: Receiver) -> None:
    # Given an endpoint whose port nothing listens on
    port = receiver.server.httpd.server_address[1]
    receiver.server.httpd.server_close()
    _endpoint(rt, f"http://127.0.0.1:{port}/gone", "tool.approved")
    _approve_a_candidate(rt)
    # When it is attempted, Then the attempt has no status, a network error and a duration, and it will be retried
    assert _run_due(rt) == [HookDeliveryState.PENDING]
    with rt.sessions() as session:
        attempt = session.scalars(select(HookAttempt)).one()
    assert attempt.status_code is None and attempt.error is not None and attempt.error.startswith("network: ")
    assert attempt.duration_ms >= 0


def test_an_attempt_that_outlived_its_lease_never_changes_the_delivery_a_later_attempt_settled(
        rt: Runtime, receiver: Receiver) -> None:
    # Given a due delivery handed to a worker
    _endpoint(rt, receiver.listen("/in"), "tool.approved")
    _approve_a_candidate(rt)
    [(delivery_id, first)] = deliveries.claim_due(rt.sessions, lease=60)
    later: list[HookDeliveryState | None] = []

    def stalled_post(*args: object, **kwargs: object) -> sender.Outcome:
        # While this attempt is stalled its lease runs out, a tick hands the delivery out again and
        # that attempt succeeds
        with rt.sessions() as session, session.begin():
            session.execute(update(HookDelivery).values(claimed_until=utcnow() - dt.timedelta(seconds=1)))
        [(_, second)] = deliveries.claim_due(rt.sessions, lease=60)
        later.append(deliveries.attempt(rt.sessions, rt.settings, delivery_id, second))
        return sender.Outcome(None, 90_000, "timeout: ReadTimeout after 10 s")

    # When the stalled attempt finally comes back, failed
    assert deliveries.attempt(rt.sessions, rt.settings, delivery_id, first, post=stalled_post) is None
    # Then the delivery stays succeeded, with the one attempt that counted
    assert later == [HookDeliveryState.SUCCEEDED]
    with rt.sessions() as session:
        delivery = session.get_one(HookDelivery, delivery_id)
        assert (delivery.state, delivery.attempts, delivery.last_error) == (HookDeliveryState.SUCCEEDED, 1, None)
    assert [(n, status) for n, status, _ in _attempts(rt, delivery_id)] == [(1, 200)]


def test_a_delivery_taken_by_a_worker_is_not_handed_out_again_while_its_attempt_runs(
        rt: Runtime, receiver: Receiver) -> None:
    # Given a delivery whose message waited in the queue until the lease of its hand-out had run out
    _endpoint(rt, receiver.listen("/in"), "tool.approved")
    _approve_a_candidate(rt)
    [(delivery_id, claim)] = deliveries.claim_due(rt.sessions, lease=0)
    handed_out_meanwhile: list[list[tuple[int, str]]] = []

    def post(*args: object, **kwargs: object) -> sender.Outcome:
        handed_out_meanwhile.append(deliveries.claim_due(rt.sessions, lease=60))
        return sender.Outcome(204, 5)

    # When the worker takes it and posts, Then no tick hands it out meanwhile (taking it restarted the
    # lease, which outlasts the attempt's deadline), and the attempt counts
    assert deliveries.attempt(rt.sessions, rt.settings, delivery_id, claim, post=post) == HookDeliveryState.SUCCEEDED
    assert handed_out_meanwhile == [[]]
    assert deliveries.lease_seconds(rt.settings) > rt.settings.hook_deadline_seconds


def test_a_receiver_that_drips_its_answer_fails_the_attempt_at_the_deadline_and_is_tried_again(rt: Runtime) -> None:
    # Given an endpoint whose receiver sends its answer a byte at a time, and a small attempt deadline
    with dripping("drip") as slow:
        _endpoint(rt, slow.url, "tool.approved")
        _approve_a_candidate(rt)
        # When the delivery is attempted
        states = _run_due(rt, _settings(rt, hook_deadline_seconds=0.5, hook_timeout_seconds=30))
    # Then the attempt is over, recorded as a deadline failure, and the delivery waits for its retry
    assert states == [HookDeliveryState.PENDING]
    with rt.sessions() as session:
        delivery = session.scalars(select(HookDelivery)).one()
        assert delivery.attempts == 1 and delivery.claim is None and delivery.next_attempt_at is not None
    assert _attempts(rt, delivery.id) == [(1, None, "deadline: no whole answer within 0.5 s")]


def test_a_refusal_with_nul_escape_and_bidi_characters_is_stored_clean_and_counts_as_an_attempt(
        rt: Runtime, receiver: Receiver) -> None:
    # Given a receiver whose refusal holds a NUL, a terminal escape sequence, a bidi override and line breaks
    receiver.server.routes["/odd"] = Reply(500, "bad\x00 \x1b[31mred\u202e\r\nthing\x07".encode())
    _endpoint(rt, receiver.url("/odd"), "tool.approved")
    _approve_a_candidate(rt)
    # When it is attempted, Then the attempt is stored (not lost to a database error) with the text cleaned
    assert _run_due(rt) == [HookDeliveryState.PENDING]
    with rt.sessions() as session:
        delivery = session.scalars(select(HookDelivery)).one()
        assert delivery.attempts == 1 and delivery.last_error == "HTTP 500: bad [31mred thing"
    assert _attempts(rt, delivery.id) == [(1, 500, "HTTP 500: bad [31mred thing")]


def test_stored_error_text_is_one_clean_line_of_bounded_length() -> None:
    assert deliveries.stored_error("x" * 5000 + "\x00") == "x" * limits.ERROR_TEXT
    assert deliveries.stored_error("\x00\u202e") is None and deliveries.stored_error(None) is None


def test_a_delivery_is_replayed_once_and_replaying_it_again_names_its_replay(rt: Runtime, receiver: Receiver) -> None:
    # Given a delivery that failed its only attempt
    endpoint_id, _ = _endpoint(rt, receiver.listen("/no", 500), "tool.approved")
    _approve_a_candidate(rt)
    assert _run_due(rt, _settings(rt, hook_max_attempts=1)) == [HookDeliveryState.FAILED]
    with rt.sessions() as session:
        delivery_id = session.scalars(select(HookDelivery.id)).one()
    # When it is replayed twice (a form sent twice)
    with rt.sessions() as session, session.begin():
        again_id = deliveries.replay(session, endpoint_id, delivery_id, user_id=None).id
    with rt.sessions() as session, pytest.raises(HookBusy, match=f"already replayed as delivery {again_id}"):
        deliveries.replay(session, endpoint_id, delivery_id, user_id=None)
    # Then there is one replay, and one audit entry for it
    with rt.sessions() as session:
        assert session.scalars(select(HookDelivery.replay_of_id).order_by(HookDelivery.id)).all() == [None, delivery_id]
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.action == "hook.replay")).all() == [
            "hook.replay"]
