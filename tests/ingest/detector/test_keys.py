"""Canonical keys: Unicode-aware names (NFKC, case-folded, any script's letters kept), never empty."""

from __future__ import annotations

import pytest

from services.ingest.detector.keys import comparable_name, name_key, normalized_name, release_key


@pytest.mark.parametrize(("name", "key"), [
    ("Gemini 3.7 Flash", "name:gemini-3-7-flash"),
    ("ＧＰＴ－５", "name:gpt-5"),                      # full-width forms fold to ASCII (NFKC)
    ("Straße Coder", "name:strasse-coder"),           # case folding, not lower-casing
    ("ﬁne-tuner", "name:fine-tuner"),                 # a ligature is its letters
    ("ГигаЧат 3", "name:гигачат-3"),
    ("通义千问 3.5", "name:通义千问-3-5"),
    ("Σοφία", "name:σοφία"),
    ("  Nimbus__2!! ", "name:nimbus-2"),
])
def test_a_name_key_is_nfkc_case_folded_and_keeps_the_letters_of_any_script(name: str, key: str) -> None:
    # Given a tool name, When its key is made, Then it is normalized and keeps its own letters
    assert name_key(name) == key


@pytest.mark.parametrize("name", ["", "   ", "—", "!!!", "🚀 ✨", "_"])
def test_a_name_without_a_letter_or_digit_has_no_key(name: str) -> None:
    # Given a name of only punctuation, symbols or space, Then no key is made (so none can be matched)
    assert normalized_name(name) == "" and name_key(name) is None
    assert release_key(name, "1.0.0") is None


def test_names_that_differ_only_in_case_width_and_punctuation_compare_equal() -> None:
    assert comparable_name("ＧＰＴ-5 Turbo") == comparable_name("gpt 5 TURBO") == "gpt5turbo"


def test_a_release_key_joins_a_name_and_a_version_without_its_tag_prefix() -> None:
    # Given the same release spelled by a changelog and by a GitHub tag
    # Then both give one key; without a version there is none
    assert release_key("Claude Code", "2.1.238") == release_key("claude-code", "v2.1.238") == "release:claude-code@2.1.238"
    assert release_key("claude-code", None) is None
