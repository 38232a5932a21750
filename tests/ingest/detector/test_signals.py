"""Rule signals: the shapes of launches and non-launches an editor can check (issue 11's kinds)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.core.domain import ParsedEntry, SourceFacts
from services.ingest.detector.signals import opens_with_name, read, rule_signals

BLOG = SourceFacts(kind="feed", url="https://lumen.example/news", title="Lumen News")


def _signals(title: str, link: str, source: SourceFacts = BLOG) -> dict[str, str]:
    entry = ParsedEntry(guid=link, title=title, link=link, summary="",
                        published_at=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    return {s.name: s.words for s in rule_signals(read(entry, source))}


def test_a_page_named_for_the_tool_is_a_launch_shape_without_a_launch_verb() -> None:
    # Given titles with no launch verb whose page addresses are the tools' names (one with a product-line word)
    ledger = _signals("Ledger for teams that close the books", "https://lumen.example/news/ledger")
    sketches = _signals("Sketches in web, iOS, and Android", "https://lumen.example/news/lumen-sketches")
    # Then the address names the tool, and the entry counts as shaped like a launch
    assert ledger["named_address"] == "its page is named for 'Ledger'"
    assert sketches["named_address"] == "its page is named for 'Sketches'"
    assert "launch_shape" in ledger and "launch_shape" in sketches


@pytest.mark.parametrize(("title", "link"), [
    ("Reward Shaping in Practice", "https://essays.example/2026-05-01-reward-shaping"),  # a dated post
    ("Notes on evaluation harnesses", "https://lumen.example/blog/notes-on-evaluation-harnesses"),  # the headline
    ("Agents", "https://essays.example/agents.html"),  # the title is only the name: the address is the headline
])
def test_an_address_that_dates_or_repeats_the_headline_names_no_tool(title: str, link: str) -> None:
    # Given an article whose address is its headline or sits behind a date, Then it is not a page named for a tool
    found = _signals(title, link)
    assert "named_address" not in found and "launch_shape" not in found


def test_a_feature_powered_by_a_model_is_told_like_a_launch() -> None:
    # Given a feature announced by the model it runs on
    found = _signals("Smart replies in Inbox. Powered by Kestrel 2.", "https://lumen.example/news/smart-replies")
    # Then it is the same launch signal as "Introducing …", pooled with the other launch shapes
    assert found["launch_phrase"] == "title says 'Powered by Kestrel 2'"
    assert found["launch_shape"] == "shaped like a launch"


@pytest.mark.parametrize(("title", "opens"), [
    ("Kestrel 2 brings voice control to every car", True),
    ("Ήλιος 2 φέρνει φωνή σε κάθε αυτοκίνητο", True),
    ("7 new ways to plan a trip with Atlas", False),  # a count, not a name
    ("Отчёт о сбое 3 марта", False),  # lower-case words before a date
    ("Improving Kestrel 2's safety checks", False),  # a verb opens it
])
def test_only_a_versioned_proper_name_opening_the_title_counts_as_opening_with_a_name(title: str, opens: bool) -> None:
    assert opens_with_name(title) is opens


def test_a_customer_story_reporting_a_figure_reads_like_news() -> None:
    found = _signals("Brightline cuts onboarding time by 55% using Ledger", "https://lumen.example/customers/brightline")
    assert found["newsy"] == "title reads like news or an essay ('by 55%')"


def test_a_changelog_item_named_for_a_feature_is_shaped_like_a_release_history_item() -> None:
    # Given a changelog whose items carry feature names, not versions
    changelog = SourceFacts(kind="feed", url="https://lumen.example/changelog", title="Lumen Changelog")
    found = _signals("Shared folders", "https://lumen.example/changelog/shared-folders", changelog)
    # Then the item is a changelog entry, pooled with the other release shapes
    assert "changelog_entry" in found
    assert found["release_shape"] == "shaped like an item of a release history"
