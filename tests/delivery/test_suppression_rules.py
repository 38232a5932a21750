"""classify(): what one Event Webhook event means for its address, after SendGrid's Event Webhook reference."""

from __future__ import annotations

import pytest

from services.delivery.suppression_rules import Disposition, classify


@pytest.mark.parametrize("event", [
    {"event": "bounce", "type": "bounce"}, {"event": "bounce"},
    {"event": "dropped", "reason": "Bounced Address"}, {"event": "dropped", "reason": "Invalid"},
    {"event": "dropped", "reason": " bounced address "},
])
def test_a_hard_bounce_or_a_drop_for_an_undeliverable_address_suppresses_at_once(event: dict[str, str]) -> None:
    assert classify(event) == Disposition.SUPPRESS


@pytest.mark.parametrize("event", [
    {"event": "unsubscribe"}, {"event": "group_unsubscribe"}, {"event": "spamreport"},
    {"event": "dropped", "reason": "Unsubscribed Address"}, {"event": "dropped", "reason": "Spam Reporting Address"},
])
def test_the_persons_own_opt_out_or_a_drop_because_of_it_is_an_opt_out(event: dict[str, str]) -> None:
    assert classify(event) == Disposition.OPT_OUT


def test_a_blocked_bounce_is_a_soft_bounce() -> None:
    # Given SendGrid's temporary, reputation-based refusal, Then it only counts towards a run
    assert classify({"event": "bounce", "type": "blocked"}) == Disposition.SOFT_BOUNCE


def test_a_delivery_is_the_end_of_a_run() -> None:
    assert classify({"event": "delivered"}) == Disposition.DELIVERED


@pytest.mark.parametrize("event", [
    {"event": "dropped", "reason": "Invalid SMTPAPI header"},
    {"event": "dropped", "reason": "Recipient List over Package Quota"},
    {"event": "dropped", "reason": "Spam Content (if spam checker app enabled)"},
    {"event": "dropped"}, {"event": "deferred", "attempt": "5"}, {"event": "processed"}, {"event": "open"},
    {"event": "click"}, {"event": "something new"},
])
def test_drops_about_the_message_deferrals_and_engagement_say_nothing_about_the_address(
        event: dict[str, str]) -> None:
    assert classify(event) == Disposition.IGNORE
