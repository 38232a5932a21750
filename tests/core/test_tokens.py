"""Signed link tokens: keyed BLAKE2b through itsdangerous, and the HMAC-SHA1 tokens of links mailed before."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from services.core.tokens import TokenError, sign, unsign

SECRET = "a-secret-long-enough-for-tests"


def test_a_token_reads_back_for_its_purpose_only() -> None:
    # Given a token signed for unsubscribing
    token = sign(SECRET, "unsubscribe", 42)
    # Then it reads back for that purpose, and is refused for another purpose or another secret
    assert unsign(SECRET, "unsubscribe", token) == 42
    with pytest.raises(TokenError, match="not valid"):
        unsign(SECRET, "preferences", token)
    with pytest.raises(TokenError, match="not valid"):
        unsign("another-secret-entirely", "unsubscribe", token)


def test_a_tampered_token_is_refused_even_though_two_algorithms_are_tried() -> None:
    token = sign(SECRET, "vote", [1, 2, "ship"])
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(TokenError, match="not valid"):
        unsign(SECRET, "vote", tampered)


def test_a_link_mailed_before_the_switch_still_works_and_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a token as itsdangerous' default HMAC-SHA1 signed it (links already in inboxes)
    legacy = URLSafeTimedSerializer(SECRET, salt="verdicts:unsubscribe").dumps(7)
    # Then it still reads back, but not for another purpose, and not past its age
    assert unsign(SECRET, "unsubscribe", legacy) == 7
    assert legacy != sign(SECRET, "unsubscribe", 7)
    with pytest.raises(TokenError, match="not valid"):
        unsign(SECRET, "preferences", legacy)
    # And one signed a day ago is refused past an hour's age, as expired
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 86_400)
    old_token = URLSafeTimedSerializer(SECRET, salt="verdicts:confirm").dumps(7)
    monkeypatch.undo()
    with pytest.raises(TokenError, match="expired"):
        unsign(SECRET, "confirm", old_token, max_age_seconds=3600)
