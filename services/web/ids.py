"""Row ids as the web takes them (a path segment, a form field, a JSON field): 1..``limits.ROW_ID_MAX``.

An id outside that range names no row and would overflow the database's integer column (a 500 on
PostgreSQL), so it is refused at the edge with a 422 naming the field. Every route taking an id uses
one of these types; rule: ``services.core.limits.ROW_ID_MAX``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path
from pydantic import Field

from services.core.limits import ROW_ID_MAX

#: An id in the URL's path.
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
#: An id in a submitted form.
FormRowId = Annotated[int, Form(ge=1, le=ROW_ID_MAX)]
#: An id in a JSON body (a pydantic model's field).
BodyRowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX)]


def typed_row_id(text: str) -> int | None:
    """The row id ``text`` spells (ASCII digits only, 1..``ROW_ID_MAX``), or None when it spells none: other
    Unicode digits ("²", "٣") are no id, as ``int`` refuses some of them."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and 1 <= int(text) <= ROW_ID_MAX else None
