"""parse_retry_after: both forms of RFC 9110 §10.2.3, and whatever else a server sends."""

from __future__ import annotations

import datetime as dt

import pytest

from services.core.retry_after import parse_retry_after

NOW = dt.datetime(2026, 10, 21, 7, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("value", "seconds"), [("120", 120.0), ("0", 0.0), (" 7 ", 7.0), ("1.5", 1.5)])
def test_delay_seconds_are_read_as_seconds(value: str, seconds: float) -> None:
    # Given a Retry-After in delay-seconds, When it is read, Then it is that many seconds
    assert parse_retry_after(value) == seconds


def test_a_negative_delay_means_no_wait() -> None:
    assert parse_retry_after("-5") == 0.0


@pytest.mark.parametrize("value", [
    "Wed, 21 Oct 2026 07:28:00 GMT",  # IMF-fixdate, the preferred form
    "Wednesday, 21-Oct-26 07:28:00 GMT",  # obsolete RFC 850 form
    "Wed Oct 21 07:28:00 2026",  # obsolete asctime form: no zone, and HTTP-dates are GMT
    "Wed, 21 Oct 2026 07:28:00 -0000",  # a zone that says "UTC, origin unknown"
])
def test_an_http_date_is_read_as_the_seconds_from_now_until_then(value: str) -> None:
    # Given a Retry-After date 28 minutes after now, When it is read, Then the wait is 28 minutes
    assert parse_retry_after(value, now=NOW) == 28 * 60


def test_the_wait_until_a_date_is_measured_from_the_current_time_by_default() -> None:
    # Given a date an hour from now, When it is read without a given now, Then about an hour is left
    in_an_hour = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 3590 <= (parse_retry_after(in_an_hour) or 0) <= 3600


def test_a_naive_now_is_read_as_utc() -> None:
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now=NOW.replace(tzinfo=None)) == 28 * 60


def test_a_date_in_the_past_means_no_wait() -> None:
    assert parse_retry_after("Wed, 21 Oct 2026 06:00:00 GMT", now=NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "Wed, 32 Oct 2026 07:28:00 GMT",
                                   "Wed, 21 Oct 99999 07:28:00 GMT", "nan", "inf", "-inf", "1e400"])
def test_an_absent_or_unreadable_value_is_none(value: str | None) -> None:
    # Given a missing, blank, malformed or non-finite value, When it is read, Then there is no wait to honour
    assert parse_retry_after(value, now=NOW) is None


def test_a_wait_is_capped_when_the_caller_says_how_long_it_may_be() -> None:
    # Given a caller that waits at most 300 seconds
    # When a server asks for longer, in either form, or for less, Then the cap holds and shorter waits stay
    assert parse_retry_after("7200", at_most=300) == 300
    assert parse_retry_after("Wed, 21 Oct 2026 09:00:00 GMT", now=NOW, at_most=300) == 300
    assert parse_retry_after("120", at_most=300) == 120
    assert parse_retry_after("soon", at_most=300) is None
