"""The Hugging Face Hub models API as a source: new models of one author, newest first.

A source's URL is ``https://huggingface.co/api/models?author=ORG``; the query we send adds
``sort=createdAt``, ``direction=-1``, a page size and the ``expand[]`` fields we keep, and follows
the ``Link: <…>; rel="next"`` header page by page until it reaches the watermark (the newest
``createdAt`` seen at the last poll). The first poll reads one page only: a baseline, not a flood.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from services.core.domain import ParsedEntry
from services.ingest.jsonfeed import json_value
from services.ingest.parser import ParseError, escaped_text, plain_text, sane_date

EXPAND = ("createdAt", "lastModified", "pipeline_tag", "library_name", "tags", "downloads", "likes")
PAGE_SIZE = 50
MAX_PAGES = 10
REPO_ID = re.compile(r"^[\w.-]{1,96}/[\w.-]{1,96}$")
NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?', re.IGNORECASE)


def api_query(url: str) -> str:
    """The watched URL with the paging and field parameters the adapter relies on."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("sort", "direction", "limit", "expand[]", "full")]
    query = kept + [("sort", "createdAt"), ("direction", "-1"), ("limit", str(PAGE_SIZE))]
    query += [("expand[]", field) for field in EXPAND]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def author_of(url: str) -> str | None:
    return dict(parse_qsl(urlsplit(url).query)).get("author")


def next_page(link_header: str | None) -> str | None:
    match = NEXT_LINK.search(link_header or "")
    return match.group(1) if match else None


def models_page(body: bytes) -> list[dict[str, Any]]:
    """The model objects of one page of the models API; raises ParseError for invalid JSON or a non-list."""
    document = json_value(body)
    if not isinstance(document, list):
        raise ParseError("not_a_feed", "the Hub models API should answer with a JSON list")
    return [m for m in document if isinstance(m, dict)]


def created_at(model: dict[str, Any]) -> str | None:
    """``createdAt`` as the API gives it (ISO 8601 in UTC, so strings compare in time order)."""
    value = model.get("createdAt")
    return value if isinstance(value, str) and value[:4].isdigit() else None


def model_entry(model: dict[str, Any], now: dt.datetime) -> ParsedEntry | None:
    repo = model.get("id") or model.get("modelId")
    if not isinstance(repo, str) or not REPO_ID.match(repo):
        return None
    created = created_at(model)
    when = None
    if created:
        try:
            when = sane_date(dt.datetime.fromisoformat(created.replace("Z", "+00:00")), now)
        except ValueError:
            when = None
    # the API's fields are plain text: kept as written, escaped into the summary (stored as HTML)
    details = [plain_text(model[k]) for k in ("pipeline_tag", "library_name") if isinstance(model.get(k), str)]
    tags = tuple(plain_text(t) for t in model.get("tags") or () if isinstance(t, str))[:20]
    summary = escaped_text(" · ".join(details))
    return ParsedEntry(guid=f"hf:{repo}", title=repo, link=f"https://huggingface.co/{repo}", summary=summary,
                       published_at=when, author=repo.split("/")[0], tags=tags)
