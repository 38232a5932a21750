"""The facts of a tool an editor may correct, with each one's label and longest length, and the check.

``ToolEdits`` is the one list of editable facts: the queue's approve-with-edits applies it, and the
approval form, the JSON API's schema and the CLI's options are all built from ``EDITABLE_FIELDS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from services.core import limits
from services.core.text import checked_text
from services.review.errors import ReviewError


@dataclass(frozen=True)
class EditableField:
    """One editable fact: the ``Tool`` column (and form, API and CLI field) it is named for, how a
    person reads it, its longest length in characters, an example value, and whether it is written on
    several lines (line breaks kept) or on one, and whether it is plain (a name or an address: no
    bidirectional controls, ``services.core.text.without_bidi``)."""

    name: str
    label: str
    max_length: int
    example: str = ""
    multiline: bool = False
    plain: bool = False


def _fact(label: str, max_length: int, example: str = "", *, multiline: bool = False, plain: bool = False) -> Any:
    return field(default=None, metadata={"label": label, "max_length": max_length, "example": example,
                                         "multiline": multiline, "plain": plain})


@dataclass(frozen=True)
class ToolEdits:
    """An editor's corrections; a fact left None (or blank) stays as it is."""

    name: str | None = _fact("Name", limits.TOOL_NAME, plain=True)
    vendor: str | None = _fact("Vendor", limits.VENDOR, plain=True)
    homepage: str | None = _fact("Homepage", limits.URL, plain=True)
    category: str | None = _fact("Category", limits.CATEGORY)
    tagline: str | None = _fact("Tagline", limits.TAGLINE)
    entry_price: str | None = _fact("Entry price", limits.ENTRY_PRICE, "Free, $20/mo")
    description: str | None = _fact("Description", limits.DESCRIPTION, multiline=True)


EDITABLE_FIELDS = tuple(EditableField(f.name, **f.metadata) for f in fields(ToolEdits))


def cleaned(edits: ToolEdits | None) -> dict[str, str]:
    """The corrections to apply: fact name → value cleaned by ``services.core.text.clean_text`` (control
    characters and surrounding whitespace removed; line breaks kept only in the unlimited, multi-line
    description), blanks left out.

    Raises ``ReviewError`` naming the fact for a value longer than its ``max_length`` (the column's
    size, from ``services.core.limits``), a name, vendor or homepage with a bidirectional control, or a
    homepage that is not an http:// or https:// address.
    """
    values: dict[str, str] = {}
    for fact in EDITABLE_FIELDS:
        value = checked_text(getattr(edits, fact.name, None), field=fact.label.lower(), max_length=fact.max_length,
                             multiline=fact.multiline, plain=fact.plain, refuse=ReviewError)
        if value:
            values[fact.name] = value
    homepage = values.get("homepage")
    if homepage and not homepage.lower().startswith(("https://", "http://")):
        raise ReviewError("the homepage must be an http:// or https:// address")
    return values
