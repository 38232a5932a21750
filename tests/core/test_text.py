"""Typed text is cleaned where it enters: no control character gets stored, and what does not fit is refused by name."""

from __future__ import annotations

import pytest

from services.core.errors import InvalidInput
from services.core.text import checked_text, clean_text, without_controls

#: A vertical tab (a slide's soft line break), a form feed, NUL, ESC, DEL, a C1 control and a non-character.
PASTED_JUNK = "\x0b\x0c\x00\x1b\x7f\x9b\ufffe"


def test_a_multi_line_field_keeps_its_lines_and_tabs_and_loses_every_control_character() -> None:
    # Given text pasted from a slide: a soft line break (VT), a page break (FF), Windows line ends, a NUL
    pasted = "  First point\x0bsecond point\x0cThird\r\n\tindented\x00 item\x85last\x9b  "
    # When it is cleaned as a multi-line field
    cleaned = clean_text(pasted, multiline=True)
    # Then each line break is LF, the tab stays, the controls are gone, and so are the blanks around it
    assert cleaned == "First point\nsecond point\nThird\n\tindented item\nlast"


def test_a_single_line_field_becomes_one_line_without_control_characters() -> None:
    # Given a tagline pasted with line breaks, tabs, runs of spaces and controls
    pasted = " Ships\x0bfaster\r\n\tthan   light\x00\x1b\x7f\x9f\ufffe "
    # When it is cleaned as a single-line field
    # Then every run of blanks and breaks is one space and nothing invisible is left
    assert clean_text(pasted, multiline=False) == "Ships faster than light"
    # And a non-breaking space, which a person may mean, stays
    assert clean_text("$20\xa0/mo", multiline=False) == "$20\xa0/mo"


@pytest.mark.parametrize("junk", list(PASTED_JUNK))
def test_no_control_character_survives_either_kind_of_field(junk: str) -> None:
    for multiline in (True, False):
        assert clean_text(f"a{junk}b", multiline=multiline).replace("\n", " ") in ("ab", "a b")


def test_the_renderers_pass_keeps_tabs_and_line_breaks_and_drops_the_rest() -> None:
    assert without_controls(f"a\tb\r\nc{PASTED_JUNK}d") == "a\tb\r\ncd"


def test_text_that_does_not_fit_once_cleaned_is_refused_naming_the_field() -> None:
    class Refused(InvalidInput):
        pass

    # Given a limit of five characters, Then five visible characters and any number of controls fit
    assert checked_text("abc\x00\x00\x00de", field="tagline", max_length=5, refuse=Refused) == "abcde"
    # And six do not: the caller's error names the field and the limit
    with pytest.raises(Refused, match="the tagline is 6 characters long; at most 5 fit"):
        checked_text("abcdef", field="tagline", max_length=5, refuse=Refused)
    # And a required field of nothing but controls is empty
    with pytest.raises(Refused, match="the subject cannot be empty"):
        checked_text("\x0b\x00 ", field="subject", max_length=None, required=True, refuse=Refused)
    assert checked_text(None, field="note", max_length=10, multiline=True) == ""
