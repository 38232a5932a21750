"""The Hugging Face Hub models API as a source: new models matching a query, newest first.

A source's URL is any ``/api/models`` query (``author``, ``search``, ``filter``, ``pipeline_tag``,
``sort`` …) on huggingface.co or on the configured Hub endpoint (``VERDICTS_HUB_ENDPOINT``: scheme,
host, port and an optional path prefix, as Hub mirrors serve it): any URL on that endpoint whose
path ends in ``/api/models``. The query's filters choose the models watched; the query we send
orders them ``sort=createdAt``, ``direction=-1`` (what the watermark needs; a source watches new
arrivals), adds a page size and the ``expand[]`` fields we keep, and follows the
``Link: <…>; rel="next"`` header page by page until it reaches the watermark (the newest
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
#: Query parameters the adapter sets itself (order, paging, fields); the rest are the watched query.
OURS = ("sort", "direction", "limit", "expand[]", "full")


def api_query(url: str) -> str:
    """The watched URL with the paging and field parameters the adapter relies on."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in OURS]
    query = kept + [("sort", "createdAt"), ("direction", "-1"), ("limit", str(PAGE_SIZE))]
    query += [("expand[]", field) for field in EXPAND]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


DEFAULT_ENDPOINT = "https://huggingface.co"
API_PATH = "/api/models"
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_models_api(url: str, endpoint: str = DEFAULT_ENDPOINT) -> bool:
    """Whether ``url`` is a models API query on huggingface.co or on ``endpoint``: same scheme, host
    and port, and the endpoint's path prefix followed by ``/api/models`` (a trailing slash allowed)."""
    return any(_on(url, base) for base in dict.fromkeys((DEFAULT_ENDPOINT, endpoint)))


def _on(url: str, endpoint: str) -> bool:
    given, base = urlsplit(url), urlsplit(endpoint)
    if not given.hostname or (given.scheme, given.hostname) != (base.scheme, base.hostname):
        return False
    if (given.port or DEFAULT_PORTS.get(given.scheme)) != (base.port or DEFAULT_PORTS.get(base.scheme)):
        return False
    return given.path.rstrip("/") == base.path.rstrip("/") + API_PATH


def describe(url: str) -> str:
    """A source title for a models query: "Hugging Face models by ORG" for an author alone, else
    the query's filters ("Hugging Face models: search=llama, pipeline_tag=text-generation")."""
    query = [(k, v) for k, v in parse_qsl(urlsplit(url).query) if k not in OURS]
    if [k for k, _ in query] == ["author"]:
        return f"Hugging Face models by {query[0][1]}"
    return "Hugging Face models" + (": " + ", ".join(f"{k}={v}" for k, v in query) if query else "")


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
