"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) into ParsedEntry values.

The same rules as the XML parser: text fields are plain text, HTML goes through nh3, links must be
http(s), dates must be plausible, ids fall back to the link and then to a hash.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from services.core.domain import ParsedEntry
from services.ingest.parser import (
    SUMMARY_LIMIT,
    ParsedFeed,
    ParseError,
    clean_html,
    clean_text,
    entry_identity,
    safe_link,
    sane_date,
)

VERSION_PREFIX = "https://jsonfeed.org/version/"


def looks_like_json_feed(body: bytes) -> bool:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and VERSION_PREFIX.encode() in body[:4096]


def _date(value: object, now: dt.datetime) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return sane_date(dt.datetime.fromisoformat(value.strip()), now)
    except ValueError:
        return None


def _authors(item: dict[str, Any]) -> str | None:
    people = item.get("authors") if isinstance(item.get("authors"), list) else [item.get("author")]
    names = [clean_text(p.get("name")) for p in people if isinstance(p, dict) and isinstance(p.get("name"), str)]
    return ", ".join(n for n in names if n)[:500] or None


def parse_json_feed(body: bytes, base_url: str | None = None) -> ParsedFeed:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError("malformed", f"not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(VERSION_PREFIX):
        raise ParseError("not_a_feed", "JSON without a jsonfeed.org version")
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError("malformed", "a JSON Feed needs an items array")
    home = safe_link(document.get("home_page_url") if isinstance(document.get("home_page_url"), str) else None,
                     base_url) or base_url
    now = dt.datetime.now(dt.UTC)
    entries: list[ParsedEntry] = []
    seen: set[str] = set()
    skipped = 0
    for item in items:
        if not isinstance(item, dict):
            skipped += 1
            continue
        link = safe_link(_string(item.get("url")) or _string(item.get("external_url")), home)
        title = clean_text(_string(item.get("title")))
        html = _string(item.get("content_html")) or _string(item.get("summary"))
        summary = clean_html(html)[:SUMMARY_LIMIT] if html else clean_text(_string(item.get("content_text")))[:SUMMARY_LIMIT]
        if not (title or link or summary):
            skipped += 1
            continue
        published = _date(item.get("date_published"), now) or _date(item.get("date_modified"), now)
        raw_id = item.get("id") if isinstance(item.get("id"), (str, int)) else None
        tags = tuple(clean_text(t) for t in item.get("tags") or () if isinstance(t, str) and t.strip())
        entries.append(ParsedEntry(guid=entry_identity(raw_id, link, title, published, seen), title=title, link=link,
                                   summary=summary, published_at=published, author=_authors(item), tags=tags[:20]))
    warning = f"{skipped} item(s) without anything usable were skipped" if skipped else None
    return ParsedFeed(title=clean_text(_string(document.get("title"))) or None, link=home, entries=entries,
                      warning=warning)


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None
