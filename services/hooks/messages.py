"""The body of a webhook message: the Standard Webhooks envelope ``{"type", "timestamp", "data"}`` (spec,
"Payload structure"), ``data`` the event's payload and what a receiver needs without calling us back."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session

from services.core.db.models import Comparison, Digest, Tool, Verdict
from services.core.domain import ToolState


def _tool(session: Session, tool_id: object, base_url: str) -> dict[str, object] | None:
    tool = session.get(Tool, int(tool_id))  # type: ignore[arg-type]
    if tool is None:
        return None
    facts: dict[str, object] = {"id": tool.id, "name": tool.name, "vendor": tool.vendor, "homepage": tool.homepage,
                                "category": tool.category, "state": str(tool.state)}
    if tool.state == ToolState.APPROVED:
        facts["url"] = f"{base_url}/t/{tool.slug}"
    return facts


def details(session: Session, event_type: str, payload: dict[str, object], base_url: str) -> dict[str, object]:
    """``payload`` with what it points at, as it stands now: ``tool`` (id, name, vendor, homepage, category,
    state, and the public ``url`` once approved), ``verdict`` (``ship_percent``), ``comparison`` (headline,
    category, ``url``) or ``digest`` (week, the archive ``url``). A row gone since is left out. ``base_url``
    is the public URL without a trailing slash."""
    data = dict(payload)
    if "tool_id" in payload and (tool := _tool(session, payload["tool_id"], base_url)) is not None:
        data["tool"] = tool
    if event_type == "verdict.completed" and (verdict := session.get(Verdict, int(payload["verdict_id"]))):  # type: ignore[arg-type]
        data["verdict"] = {"id": verdict.id, "ship_percent": verdict.ship_percent}
    if event_type == "comparison.published" and (
            comparison := session.get(Comparison, int(payload["comparison_id"]))):  # type: ignore[arg-type]
        data["comparison"] = {"id": comparison.id, "headline": comparison.headline, "category": comparison.category,
                              "url": f"{base_url}/c/{comparison.slug}"}
    if event_type == "digest.sent" and (digest := session.get(Digest, int(payload["digest_id"]))):  # type: ignore[arg-type]
        data["digest"] = {"id": digest.id, "week": digest.week, "url": f"{base_url}/archive/{digest.week}"}
    return data


def body(event_type: str, data: dict[str, object], at: dt.datetime) -> str:
    """The exact text POSTed (and signed): compact JSON, keys sorted, ``timestamp`` ``at`` in RFC 3339 UTC."""
    envelope = {"type": event_type, "timestamp": at.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
                "data": data}
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
