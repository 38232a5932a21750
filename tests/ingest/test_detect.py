"""Detection: releases score high with reasons an editor can check; incidents and essays score low."""

from __future__ import annotations

import datetime as dt

from services.core.domain import ParsedEntry
from services.ingest.detect import detect


def _entry(title: str, link: str) -> ParsedEntry:
    return ParsedEntry(guid=link, title=title, link=link, summary="", published_at=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))


def test_a_github_release_is_a_release_keyed_by_repository() -> None:
    found = detect(_entry("v2.0.0", "https://github.com/acme/widget/releases/tag/v2.0.0"))[0]
    assert found.is_release
    assert found.key == "github:acme/widget"
    assert "GitHub release v2.0.0" in found.reasons


def test_a_prerelease_tag_is_recognised_and_scored_lower() -> None:
    stable = detect(_entry("v2.0.0", "https://github.com/acme/widget/releases/tag/v2.0.0"))[0]
    rc = detect(_entry("v2.1.0rc1", "https://github.com/acme/widget/releases/tag/v2.1.0rc1"))[0]
    assert rc.score < stable.score
    assert any("pre-release" in reason for reason in rc.reasons)


def test_an_introduction_on_a_blog_is_a_release_named_after_the_product() -> None:
    found = detect(_entry("Introducing Gemini 3.7 Flash", "https://blog.example.org/gemini-3-7-flash"))[0]
    assert found.is_release
    assert found.name == "Gemini 3.7 Flash"
    assert found.key == "name:gemini-3-7-flash"


def test_an_incident_is_not_a_release() -> None:
    assert not detect(_entry("Elevated errors on requests to Claude Opus 5", "https://status.example.org/i/1"))[0].is_release
