"""The JSON API's answers as typed models, so ``/api/openapi.json`` documents each field and a client (or
the schemathesis fuzzer) can check a response against it. The values come from ``services.review``."""

from __future__ import annotations

from pydantic import BaseModel, create_model

from services.core.domain import Call
from services.review.tool_edits import EDITABLE_FIELDS


class Evidence(BaseModel):
    url: str | None
    source: str | None
    title: str | None
    snippet: str | None
    names: list[str]


class _ToolBase(BaseModel):
    id: int
    revision: int
    state: str
    score: float
    reasons: list[str]
    model_version: str | None
    snoozed_until: str | None
    merged_into_id: int | None
    created_at: str
    names: list[str]
    evidence: list[Evidence]


#: A tool as ``services.review.queue.tool_row`` gives it: its state and each editable fact.
ToolRow = create_model("ToolRow", __base__=_ToolBase,
                       **{fact.name: (str | None, ...) for fact in EDITABLE_FIELDS})


class QueuePage(BaseModel):
    total: int
    offset: int
    items: list[ToolRow]  # type: ignore[valid-type]


class BulkOutcome(BaseModel):
    id: int
    ok: bool
    message: str


class BulkResults(BaseModel):
    results: list[BulkOutcome]


class PanelTodoItem(BaseModel):
    verdict_id: int
    tool_id: int
    tool: str
    seat_id: int
    lens: str
    call: Call | None
    quote: str | None


class PanelTodo(BaseModel):
    items: list[PanelTodoItem]


class VerdictState(BaseModel):
    verdict_id: int
    state: str
    ship_percent: int | None


class ComparisonTool(BaseModel):
    id: int
    name: str
    panel_ship_percent: int | None
    community_percent: int | None


class ComparisonAnswer(BaseModel):
    id: int
    slug: str
    title: str
    headline: str
    state: str
    category: str | None
    editor_note: str | None
    position: int
    tools: list[ComparisonTool]


class Suggestion(BaseModel):
    category: str
    tool_a_id: int
    tool_a: str
    tool_b_id: int
    tool_b: str


class Suggestions(BaseModel):
    items: list[Suggestion]
