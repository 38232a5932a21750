"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) into ParsedEntry values.

A body is told to be a JSON Feed by decoding it (orjson) and reading its ``version``, so however the
publisher wrote that string (PHP writes ``https:\\/\\/jsonfeed.org\\/version\\/1.1``) it is recognised.
The same rules as the XML parser: ``title``, ``summary``, ``content_text``, author names and tags are
plain text, kept as written; ``content_html`` is HTML and goes through nh3; links must be http(s),
dates plausible; ids fall back to the link and then to a hash.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import orjson

from services.core import limits
from services.core.domain import ParsedEntry
from services.ingest.parser import (
    SUMMARY_LIMIT,
    ParsedFeed,
    ParseError,
    clean_html,
    entry_identity,
    escaped_text,
    plain_text,
    safe_link,
    sane_date,
)

VERSION_PREFIX = "https://jsonfeed.org/version/"
BOM = b"\xef\xbb\xbf"
#: JSON text (RFC 8259 §2): optional white space, then a value; a document is an object or an array.
JSON_START = re.compile(rb"[ \t\r\n]*[{\[]")


def is_json(body: bytes) -> bool:
    """Whether ``body`` can only be JSON: its first character after an optional UTF-8 byte order mark
    and white space opens an object or an array, which no XML document does."""
    return JSON_START.match(body, len(BOM) if body.startswith(BOM) else 0) is not None


def json_value(body: bytes) -> Any:
    """``body`` decoded as UTF-8 JSON (a leading byte order mark ignored, as RFC 8259 §8.1 allows);
    raises ParseError("malformed") when it is not valid JSON."""
    try:
        return orjson.loads(memoryview(body)[len(BOM):] if body.startswith(BOM) else body)
    except orjson.JSONDecodeError as exc:
        raise ParseError("malformed", f"not valid JSON: {exc}") from exc


def _date(value: object, now: dt.datetime) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return sane_date(dt.datetime.fromisoformat(value.strip()), now)
    except ValueError:
        return None


def _authors(item: dict[str, Any]) -> str | None:
    people = item.get("authors") if isinstance(item.get("authors"), list) else [item.get("author")]
    names = [plain_text(p.get("name")) for p in people if isinstance(p, dict) and isinstance(p.get("name"), str)]
    return limits.clip(", ".join(n for n in names if n), limits.ENTRY_AUTHOR) or None


def parse_json_feed(body: bytes, base_url: str | None = None) -> ParsedFeed:
    """A JSON Feed's entries and title; ``base_url`` resolves relative links.

    Raises ParseError: "malformed" for invalid JSON or a feed without an ``items`` array,
    "not_a_feed" for JSON whose ``version`` is not a jsonfeed.org version.
    """
    document = json_value(body)
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(VERSION_PREFIX):
        raise ParseError("not_a_feed", "JSON without a jsonfeed.org version: not a JSON Feed")
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
        title = plain_text(_string(item.get("title")))
        markup = _string(item.get("content_html"))
        text = _string(item.get("content_text")) or _string(item.get("summary"))
        summary = (clean_html(markup) if markup else escaped_text(text))[:SUMMARY_LIMIT]
        if not (title or link or summary):
            skipped += 1
            continue
        published = _date(item.get("date_published"), now) or _date(item.get("date_modified"), now)
        raw_id = item.get("id") if isinstance(item.get("id"), (str, int)) else None
        tags = tuple(plain_text(t) for t in item.get("tags") or () if isinstance(t, str) and t.strip())
        entries.append(ParsedEntry(guid=entry_identity(raw_id, link, title, published, seen), title=title, link=link,
                                   summary=summary, published_at=published, author=_authors(item), tags=tags[:20]))
    warning = f"{skipped} item(s) without anything usable were skipped" if skipped else None
    return ParsedFeed(title=plain_text(_string(document.get("title"))) or None, link=home, entries=entries,
                      warning=warning)


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None
