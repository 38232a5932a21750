"""The list's identity headers: List-Id (RFC 2919) and Gmail's Feedback-ID."""

from __future__ import annotations

from pathlib import Path

from services.delivery.list_headers import digest_headers
from tests.conftest import make_settings


def test_the_list_id_comes_from_the_public_host_unless_a_setting_names_it(tmp_path: Path) -> None:
    # Given settings with only a public URL, and settings naming the list and the sender id
    derived = make_settings(tmp_path, "sqlite://", base_url="https://news.example.com")
    named = make_settings(tmp_path, "sqlite://", list_id="digest.lists.example.net", feedback_sender_id="acme")
    # When the headers of digest 7 of 2026-W48 are built, Then each names its list and sender
    assert digest_headers(derived, 7, "2026-W48") == {"List-Id": '"Verdicts weekly" <weekly.news.example.com>',
                                                      "Feedback-ID": "digest:2026-W48:7:verdicts",
                                                      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert digest_headers(named, 7, "2026-W48") == {"List-Id": '"Verdicts weekly" <digest.lists.example.net>',
                                                    "Feedback-ID": "digest:2026-W48:7:acme",
                                                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def test_an_ipv6_public_host_gives_a_list_id_that_is_still_a_dotted_name(tmp_path: Path) -> None:
    # Given a public URL on an IPv6 literal (no dot-atom, so no valid List-Id of its own)
    settings = make_settings(tmp_path, "sqlite://", base_url="http://[::1]:8000")
    # Then the List-Id falls back to a dotted name
    assert digest_headers(settings, 1, "2026-W01")["List-Id"] == '"Verdicts weekly" <weekly.localhost>'
