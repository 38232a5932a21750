"""One POST of a webhook message: what counts as delivered, what an attempt reports, and its deadline."""

from __future__ import annotations

import pytest

from services.hooks import sender
from tests.hooks.conftest import Receiver, dripping
from tests.local_http import Reply


def _post(url: str) -> sender.Outcome:
    return sender.post(url, {"content-type": "application/json"}, '{"type":"tool.queued"}', timeout_seconds=5,
                       deadline_seconds=10, allow_private_networks=True)


def test_a_2xx_is_delivered_and_the_body_arrives_as_sent(receiver: Receiver) -> None:
    outcome = _post(receiver.listen("/in", 204))
    assert outcome.delivered and outcome.status == 204 and outcome.error is None and outcome.duration_ms >= 0
    assert receiver.at("/in")[0].body == b'{"type":"tool.queued"}'


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(receiver: Receiver) -> None:
    # Given an endpoint that redirects elsewhere
    receiver.listen("/elsewhere")
    receiver.server.routes["/moved"] = Reply(307, b"", {"Location": receiver.url("/elsewhere")})
    # When a message is posted to it, Then the redirect is the answer and nothing reaches the other path
    outcome = _post(receiver.url("/moved"))
    assert not outcome.delivered and outcome.status == 307 and outcome.error == "HTTP 307" and not outcome.final
    assert receiver.at("/elsewhere") == []


def test_a_long_refusal_is_kept_to_its_first_bytes(receiver: Receiver) -> None:
    receiver.server.routes["/chatty"] = Reply(400, b"x" * 4_000)
    outcome = _post(receiver.url("/chatty"))
    assert outcome.status == 400 and outcome.error == "HTTP 400: " + "x" * sender.ANSWER_BYTES


def test_a_scheme_other_than_http_is_refused_for_good() -> None:
    outcome = _post("file:///etc/passwd")
    assert outcome.status is None and outcome.final and outcome.error is not None
    assert outcome.error.startswith("forbidden_scheme")


@pytest.mark.parametrize("mode", ["drip", "hold"])
def test_a_receiver_that_never_finishes_answering_is_cut_off_at_the_attempts_deadline(mode: str) -> None:
    # Given a receiver that sends its status line a byte at a time (each read well within the timeout),
    # or holds the connection without a word
    with dripping(mode) as slow:
        # When a message is posted with a per-read timeout far longer than the whole attempt's deadline
        outcome = sender.post(slow.url, {"content-type": "application/json"}, "{}", timeout_seconds=30,
                              deadline_seconds=0.5, allow_private_networks=True)
    # Then the attempt ended at its deadline, as a failed attempt to be tried again, not a refusal
    assert outcome.status is None and not outcome.delivered and not outcome.final
    assert outcome.error == "deadline: no whole answer within 0.5 s"
    assert len(slow.connections) == 1


def test_at_most_the_first_bytes_of_a_refusal_are_read_from_a_receiver_that_keeps_sending(
        receiver: Receiver) -> None:
    # Given a receiver that refuses with a body far longer than what is kept
    receiver.server.routes["/flood"] = Reply(500, b"no" * 500_000)
    # When a message is posted, Then the attempt reports the refusal's first bytes only
    outcome = _post(receiver.url("/flood"))
    assert outcome.status == 500 and outcome.error == "HTTP 500: " + ("no" * 500)[:sender.ANSWER_BYTES]
