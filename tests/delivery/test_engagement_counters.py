"""How clicked links are grouped for the engagement report."""

from __future__ import annotations

import pytest

from services.delivery.engagement_counters import link_label


@pytest.mark.parametrize("base", ["https://verdicts.example.org", "https://example.org/verdicts",
                                  "https://example.org/a/b"])
@pytest.mark.parametrize("personal", ["unsubscribe", "prefs", "vote"])
def test_a_personal_link_loses_its_token_under_any_base_path(base: str, personal: str) -> None:
    # Given two readers' copies of one personal link, under a public base URL with or without a path of its own
    mine, theirs = f"{base}/{personal}/TOKEN-OF-ONE", f"{base}/{personal}/TOKEN-OF-ANOTHER?x=1#top"
    # When each is labelled for the report
    labels = {link_label(mine), link_label(theirs)}
    # Then both are one row that shows no token
    assert labels == {f"{base}/{personal}/…"}


def test_a_public_link_keeps_its_path_and_query_and_loses_only_its_fragment() -> None:
    assert link_label("https://example.org/blog/post?id=7#comments") == "https://example.org/blog/post?id=7"
