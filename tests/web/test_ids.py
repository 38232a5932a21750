"""Row ids typed into a form field: ASCII digits in the database's range, else none."""

from __future__ import annotations

import pytest

from services.core.limits import ROW_ID_MAX
from services.web.ids import typed_row_id


@pytest.mark.parametrize(("typed", "found"), [(" 42 ", 42), ("1", 1), (str(ROW_ID_MAX), ROW_ID_MAX)])
def test_ascii_digits_in_the_range_are_an_id(typed: str, found: int) -> None:
    # Given digits as an editor types them, When read as an id, Then they are that id
    assert typed_row_id(typed) == found


@pytest.mark.parametrize("typed", ["²", "٣", "1²", "０", "0", str(ROW_ID_MAX + 1), "-3", "Orbit", ""])
def test_other_digits_zero_and_out_of_range_numbers_are_no_id(typed: str) -> None:
    # Given a Unicode digit int() refuses or reads, zero, a number past the range, or a name
    # When read as an id, Then it is none (the caller looks it up as a name) and nothing raises
    assert typed_row_id(typed) is None
