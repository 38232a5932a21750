"""Detection: releases score high with reasons an editor can check; incidents and essays score low."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

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


def test_an_entry_naming_several_tools_yields_one_detection_each_listing_all_names() -> None:
    # Given an entry that announces two models
    found = detect(_entry("Introducing Muse Image and Muse Video", "https://ai.example.org/blog/muse"))
    # Then each is a detection of its own, with the entry's score and reasons, and each lists both names
    assert [d.name for d in found] == ["Muse Image", "Muse Video"]
    assert [d.key for d in found] == ["name:muse-image", "name:muse-video"]
    assert len({(d.score, d.reasons) for d in found}) == 1
    assert all(d.names == ("Muse Image", "Muse Video") for d in found)


def test_a_quantized_copy_on_the_hub_is_evidence_for_the_model_it_copies() -> None:
    from services.core.domain import SourceFacts

    hub_source = SourceFacts(kind="hf-models", url="https://huggingface.co/api/models")
    original = detect(_entry("Qwen/Qwen3-8B", "https://huggingface.co/Qwen/Qwen3-8B"), hub_source)[0]
    # Given a re-upload named after the model, and one that names its base model in a tag
    copy = detect(_entry("someone/Qwen3-8B-GGUF", "https://huggingface.co/someone/Qwen3-8B-GGUF"), hub_source)[0]
    tagged = detect(replace(_entry("bob/qwen-small-q4", "https://huggingface.co/bob/qwen-small-q4"),
                            tags=("base_model:quantized:Qwen/Qwen3-8B",)), hub_source)[0]
    # Then both are keyed as the original model, not as new tools of their own
    assert copy.name == "Qwen3-8B" and set(copy.keys) & set(original.keys)
    assert tagged.key == original.key == "hf:qwen/qwen3-8b"
    assert any("copy of Qwen3-8B" in reason for reason in copy.reasons)


def test_detections_carry_the_version_of_the_model_that_scored_them() -> None:
    from services.ingest.detector.model import current_model

    found = detect(_entry("Introducing Gemini 3.7 Flash", "https://blog.example.org/gemini-3-7-flash"))[0]
    assert found.model_version == current_model().version and found.model_version.startswith("m-")


def test_items_of_a_changelog_are_updates_of_its_product_only_when_shaped_like_changelog_entries() -> None:
    from services.core.domain import SourceFacts

    changelog = SourceFacts(kind="feed", url="https://forge.example.dev/changelog/rss.xml", title="Forge Changelog")
    # Given items on the changelog's own pages, one titled with a bare version and one with a feature's name
    bare = detect(_entry("3.4.2", "https://forge.example.dev/changelog#3-4-2"), changelog)[0]
    named = detect(_entry("Cloud Builds Start Faster", "https://forge.example.dev/changelog/08-19-26"), changelog)[0]
    # Then both are updates of the product, the bare one also keyed as that release
    assert (bare.kind, bare.name, bare.version, bare.key) == ("update", "Forge", "3.4.2", "name:forge")
    assert "release:forge@3.4.2" in bare.keys
    assert (named.kind, named.name, named.version) == ("update", "Forge", None)
    # Given a feed that only calls itself a changelog, whose items are notes and posts elsewhere
    titled_only = SourceFacts(kind="feed", url="https://acme.example.org/feed.json", title="Acme changelog")
    note = detect(_entry("Same id, other item", "https://acme.example.org/other"), titled_only)[0]
    # Then its items are judged as any feed's: not updates of "Acme", and a plain note is no release
    assert note.kind == "new" and not note.is_release
    assert not any("changelog" in reason for reason in note.reasons)


def test_a_post_without_a_launch_verb_on_a_page_named_for_the_tool_is_a_release_of_that_tool() -> None:
    # Given posts that announce a tool without a launch verb, on pages whose address is the tool's name
    ledger = detect(_entry("Ledger for teams that close the books", "https://lumen.example/news/ledger"))
    sketches = detect(_entry("Sketches in web, iOS, and Android", "https://lumen.example/news/lumen-sketches"))
    # Then each is a release named for the tool, and the reasons say why
    assert [(d.is_release, d.name) for d in ledger + sketches] == [(True, "Ledger"), (True, "Sketches")]
    assert "its page is named for 'Ledger'" in ledger[0].reasons


def test_a_listicle_and_a_customer_story_with_a_figure_are_not_releases() -> None:
    # Given a count opening a title, and a customer's result on a page named for the customer
    listicle = detect(_entry("7 new ways to plan a trip with Atlas", "https://lumen.example/news/trip-planning"))[0]
    story = detect(_entry("Brightline cuts onboarding time by 55% using Ledger",
                          "https://lumen.example/customers/brightline"))[0]
    # Then neither is a release, and the story's figure is among the reasons
    assert not listicle.is_release and not story.is_release
    assert any("by 55%" in reason for reason in story.reasons)


def test_a_changelog_item_named_for_a_feature_is_an_update_of_the_product() -> None:
    from services.core.domain import SourceFacts

    changelog = SourceFacts(kind="feed", url="https://lumen.example/changelog", title="Lumen Changelog")
    found = detect(_entry("Shared folders", "https://lumen.example/changelog/shared-folders"), changelog)[0]
    assert found.is_release and (found.kind, found.name) == ("update", "Lumen")
