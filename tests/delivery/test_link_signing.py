"""The fast link signer mints exactly the tokens ``services.core.tokens`` (itsdangerous) would."""

from __future__ import annotations

from pathlib import Path

import pytest
from itsdangerous import TimestampSigner

from services.core import links
from services.core.settings import Settings
from services.core.tokens import sign, unsign
from services.delivery.link_signing import LinkSigner
from tests.conftest import make_settings

NOW = 1_764_400_000
DIGEST_ID = 12345
#: Ids of every length from 1 to 13 digits: their payloads end on each base64 padding case.
SUBSCRIBER_IDS = [1, 42, 999, 1000, 65_535, 500_000, 1_000_001, 2**31 - 1, 10**12 + 7]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}")


@pytest.fixture
def frozen_itsdangerous(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: NOW)


def test_batch_links_are_the_tokens_itsdangerous_mints(settings: Settings, frozen_itsdangerous: None) -> None:
    # Given the fast signer and itsdangerous, both at the same second
    signer = LinkSigner(settings, NOW)
    secret, base = settings.secret(), settings.public_url
    # When the batch path mints every recipient's links
    minted = list(signer.links_for(SUBSCRIBER_IDS, DIGEST_ID))
    # Then each link, in order, carries byte for byte the token the core's sign() makes
    assert [m.subscriber_id for m in minted] == SUBSCRIBER_IDS
    for m in minted:
        assert m.unsubscribe == f"{base}/unsubscribe/{sign(secret, links.UNSUBSCRIBE, m.subscriber_id)}"
        assert m.preferences == f"{base}/prefs/{sign(secret, links.PREFERENCES, m.subscriber_id)}"
        assert m.ballot + "/7/ship" == links.ballot_vote(settings, m.subscriber_id, DIGEST_ID, 7, "ship")


def test_single_links_match_the_batch_links_and_verify(settings: Settings, frozen_itsdangerous: None) -> None:
    # Given one signer
    signer = LinkSigner(settings, NOW)
    [batch] = signer.links_for([77], DIGEST_ID)
    # Then the one-off methods mint the same URLs, and the web side's unsign reads them
    assert (signer.unsubscribe(77), signer.preferences(77), signer.ballot(77, DIGEST_ID)) == \
        (batch.unsubscribe, batch.preferences, batch.ballot)
    assert unsign(settings.secret(), links.BALLOT, batch.ballot.rsplit("/", 1)[1]) == [77, DIGEST_ID]


def test_a_token_signed_for_one_purpose_does_not_verify_for_another(settings: Settings) -> None:
    # Given an unsubscribe link, When it is read as a preferences token, Then it is refused
    [minted] = LinkSigner(settings).links_for([5], DIGEST_ID)
    with pytest.raises(ValueError):
        unsign(settings.secret(), links.PREFERENCES, minted.unsubscribe.rsplit("/", 1)[1])
    # And a ballot is no vote link of the kind signed per tool (nor the other way round)
    with pytest.raises(ValueError):
        unsign(settings.secret(), links.VOTE, minted.ballot.rsplit("/", 1)[1])
