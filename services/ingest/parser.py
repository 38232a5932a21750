"""Turn fetched bytes into ParsedEntry values: feedparser for the structure, nh3 for the HTML.

feedparser's own sanitizer and relative-URI pass are switched off: they are most of its cost, and
we sanitize only the fields we keep. Documents that declare entities are refused before parsing,
because feedparser's loose fallback parser expands them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import html
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import feedparser
import nh3

from services.core.domain import ParsedEntry

ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EARLIEST = dt.datetime(1995, 1, 1, tzinfo=dt.UTC)
SUMMARY_LIMIT = 4000
#: The entries table's limits: a longer link is dropped (a cut URL leads nowhere), an author cut.
LINK_LIMIT, AUTHOR_LIMIT = 2048, 500
#: HTML beyond this is not even sanitized: only the first SUMMARY_LIMIT characters are kept anyway.
HTML_INPUT_LIMIT = 32_000
ALLOWED_TAGS = {"a", "p", "br", "ul", "ol", "li", "em", "strong", "b", "i", "code", "pre", "blockquote", "h2", "h3", "h4"}


class ParseError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    link: str | None
    entries: list[ParsedEntry]
    warning: str | None


def clean_text(value: str | None) -> str:
    """Plain text: tags removed, entities decoded, control characters and extra spaces dropped."""
    if not value:
        return ""
    if "<" in value or "&" in value:  # most titles hold neither: nothing for the sanitizer to do
        value = html.unescape(nh3.clean(value, tags=set()))
    return " ".join(CONTROL_CHARS.sub("", value).split())


def clean_html(value: str | None) -> str:
    if not value:
        return ""
    return nh3.clean(CONTROL_CHARS.sub("", value), tags=ALLOWED_TAGS, url_schemes={"http", "https"},
                     link_rel="noopener noreferrer nofollow")


def safe_link(value: str | None, base: str | None) -> str | None:
    if not value:
        return None
    value = CONTROL_CHARS.sub("", value).strip()
    absolute = urljoin(base, value) if base else value
    if len(absolute) > LINK_LIMIT or urlsplit(absolute).scheme not in ("http", "https"):
        return None
    return absolute


def sane_date(moment: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """Keep a date only when it is plausible: not before the web's feeds, not days in the future."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment if EARLIEST <= moment <= now + dt.timedelta(days=2) else None


def _date(entry: Mapping[str, object], now: dt.datetime) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = dict.get(entry, key)  # plain lookup: skips feedparser's deprecated key aliasing
        if parsed:
            try:
                moment = dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC)  # type: ignore[arg-type]
            except (OverflowError, ValueError, TypeError):
                continue
            if sane_date(moment, now):
                return moment
    return None


def entry_identity(raw_id: object, link: str | None, title: str, published: dt.datetime | None,
                   seen: set[str]) -> str:
    """The entry's id: its GUID, else its link, else a hash of title and date; a repeated id within
    one document gets a suffix from the entry's own content, so two different items never merge."""
    guid = CONTROL_CHARS.sub("", str(raw_id or "")).strip() or (link or "")
    if not guid:
        guid = "sha256:" + hashlib.sha256(f"{title}|{published}".encode()).hexdigest()
    if guid in seen:
        guid = f"{guid}#" + hashlib.sha256(f"{title}|{link}|{published}".encode()).hexdigest()[:16]
    seen.add(guid)
    return guid[:1024]


def parse_feed(body: bytes, headers: Mapping[str, str] | None = None, base_url: str | None = None) -> ParsedFeed:
    # NULs removed first, so a UTF-16 or UTF-32 document cannot hide its declarations
    if ENTITY_DECLARATION.search(body[:65536].replace(b"\0", b"")):
        raise ParseError("entity_declaration", "the document declares XML entities; refused")
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=dict(headers or {}),
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if parsed.bozo and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise ParseError("malformed", f"not a usable feed: {type(reason).__name__}: {reason}")
    if not parsed.get("version") and not parsed.entries:
        raise ParseError("not_a_feed", "no feed found in the document")
    feed_link = safe_link(parsed.feed.get("link"), base_url) or base_url
    now = dt.datetime.now(dt.UTC)
    entries: list[ParsedEntry] = []
    seen: set[str] = set()
    # plain dict lookups below: FeedParserDict's key aliasing costs on every call
    for raw in parsed.entries:
        title = clean_text(dict.get(raw, "title"))
        link = safe_link(dict.get(raw, "link"), feed_link)
        published = _date(raw, now)
        content = dict.get(raw, "content")
        summary_source = (content[0].get("value") if content else None) or dict.get(raw, "summary")
        summary = clean_html(summary_source[:HTML_INPUT_LIMIT] if summary_source else None)[:SUMMARY_LIMIT]
        if not (title or link or summary):
            continue  # an empty item: nothing an editor could read or follow
        guid = entry_identity(dict.get(raw, "id"), link, title, published, seen)
        tags = tuple(clean_text(t.get("term")) for t in dict.get(raw, "tags") or () if t.get("term"))
        entries.append(
            ParsedEntry(guid=guid, title=title, link=link, summary=summary, published_at=published,
                        author=clean_text(dict.get(raw, "author"))[:AUTHOR_LIMIT] or None, tags=tags)
        )
    warning = None
    if parsed.bozo:
        reason = parsed.get("bozo_exception")
        warning = f"{type(reason).__name__}: {reason}"
    return ParsedFeed(title=clean_text(parsed.feed.get("title")) or None, link=feed_link, entries=entries, warning=warning)


def content_hash(entry: ParsedEntry) -> str:
    return hashlib.sha256(f"{entry.title}\x1f{entry.link}\x1f{entry.summary}".encode()).hexdigest()
