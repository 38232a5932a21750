"""Form fields whose limit the domain checks: the schema states it, the domain refuses past it.

A text field the domain cleans and checks (``services.core.text.checked_text``: a subject, a headline,
a quote) is not cut short by the form's own validation: pydantic would answer a bare 422 before the
domain's 400 that names the field and its limit, and would count the blanks the domain trims.
"""

from __future__ import annotations

from typing import Any

from fastapi import Form


def checked_text_field(max_length: int, default: str = "") -> Any:
    """A ``Form`` text field whose OpenAPI schema states ``max_length`` (a ``services.core.limits`` value)
    and which the handler's domain function checks against the same limit."""
    return Form(default, json_schema_extra={"maxLength": max_length})
