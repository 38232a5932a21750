"""The editable facts of a tool: one list, limits that match the columns, corrections checked before they apply."""

from __future__ import annotations

import pytest

from services.core.db.models import Tool
from services.review.errors import ReviewError
from services.review.tool_edits import EDITABLE_FIELDS, ToolEdits, cleaned


def test_each_editable_fact_is_a_tool_column_and_its_limit_is_the_columns_size() -> None:
    # Given the list of editable facts, When each is looked up on the tools table
    # Then it is a column there, limited exactly as long as the column; a multi-line fact is a Text column
    # (no length of its own) and has a limit of ours all the same
    for fact in EDITABLE_FIELDS:
        column_length = getattr(Tool.__table__.c[fact.name].type, "length", None)
        assert column_length == (None if fact.multiline else fact.max_length), fact.name
        assert fact.max_length > 0, fact.name


def test_corrections_are_trimmed_and_blank_ones_left_out() -> None:
    assert cleaned(ToolEdits(name="  Proper Name ", vendor="", tagline="   ", entry_price="Free")) == \
        {"name": "Proper Name", "entry_price": "Free"}
    assert cleaned(None) == {}


def test_a_correction_longer_than_its_fact_allows_is_refused_naming_the_limit() -> None:
    # Given a tagline one character over the limit
    tagline = next(fact for fact in EDITABLE_FIELDS if fact.name == "tagline")
    too_long = "x" * (tagline.max_length + 1)
    # When it is checked, Then it is refused with the limit named; one at the limit passes
    with pytest.raises(ReviewError, match=f"at most {tagline.max_length}"):
        cleaned(ToolEdits(tagline=too_long))
    assert cleaned(ToolEdits(tagline=too_long[1:])) == {"tagline": too_long[1:]}


def test_control_characters_in_a_correction_are_removed_and_only_the_description_keeps_lines() -> None:
    # Given corrections pasted from a slide: vertical tabs, a form feed, a NUL, Windows line ends
    edits = ToolEdits(name="Nimbus\x00 Coder", tagline="Ships\x0bfaster\r\nthan light\x0c",
                      description="First line\x0bsecond line\r\nthird\x00")
    # When they are cleaned, Then single-line facts are one line and the description keeps its lines
    assert cleaned(edits) == {"name": "Nimbus Coder", "tagline": "Ships faster than light",
                              "description": "First line\nsecond line\nthird"}
    # And a fact of nothing but control characters is left as it was
    assert cleaned(ToolEdits(vendor="\x0b\x00")) == {}
