"""Turn fetched bytes into ParsedEntry values: feedparser for the structure, nh3 for the HTML.

feedparser's own sanitizer and relative-URI pass are switched off: they are most of its cost, and
we sanitize only the fields we keep. Documents that declare entities are refused before parsing,
because feedparser's loose fallback parser expands them.

Text is converted by its type, as feedparser reports it (``*_detail.type``; for RSS, which declares
no types, feedparser's guess): HTML and XHTML become plain text, plain text is kept as written (a
title ``Fix <Select> crash`` stays so; pages and mail escape it on output). Summaries are stored as
HTML: HTML is sanitized, plain text escaped.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import html
import io
import re
import xml.sax
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import nh3

from services.core import limits
from services.core.domain import ParsedEntry
from services.core.text import without_controls

ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EARLIEST = dt.datetime(1995, 1, 1, tzinfo=dt.UTC)
SUMMARY_LIMIT = 4000
#: HTML beyond this is not even sanitized: only the first SUMMARY_LIMIT characters are kept anyway.
HTML_INPUT_LIMIT = 32_000
ALLOWED_TAGS = {"a", "p", "br", "ul", "ol", "li", "em", "strong", "b", "i", "code", "pre", "blockquote", "h2", "h3", "h4"}
#: The content types feedparser gives markup (its ``*_detail.type``); text of any other type is plain.
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


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


def plain_text(value: str | None) -> str:
    """Text kept as written (``<`` and ``&`` included): only control characters dropped
    (``text.without_controls``) and runs of white space made one space. For text that was never
    HTML; whoever shows it escapes it."""
    if not value:
        return ""
    return " ".join(without_controls(value).split())


def html_text(value: str | None) -> str:
    """HTML as plain text: tags stripped by nh3, then entities decoded once (``&amp;lt;`` reads ``&lt;``)."""
    if not value:
        return ""
    if "<" in value or "&" in value:  # most titles hold neither: nothing for the sanitizer to do
        value = html.unescape(nh3.clean(value, tags=set()))
    return plain_text(value)


def text_of(value: str | None, content_type: str | None) -> str:
    """A field of type ``content_type`` (feedparser's ``*_detail.type``) as plain text: HTML and
    XHTML converted by :func:`html_text`, any other type (``text/plain``) kept by :func:`plain_text`."""
    return html_text(value) if content_type in HTML_TYPES else plain_text(value)


def clean_html(value: str | None) -> str:
    """HTML reduced by nh3 to ALLOWED_TAGS, http(s) links only, each link ``rel="noopener noreferrer nofollow"``."""
    if not value:
        return ""
    return nh3.clean(CONTROL_CHARS.sub("", value), tags=ALLOWED_TAGS, url_schemes={"http", "https"},
                     link_rel="noopener noreferrer nofollow")


def escaped_text(value: str | None) -> str:
    """Plain text as HTML that shows it as written (``a<b`` stays ``a<b`` on the page): control
    characters dropped (``text.without_controls``), ``&``, ``<`` and ``>`` escaped."""
    return html.escape(without_controls(value), quote=False) if value else ""


def html_of(value: str | None, content_type: str | None) -> str:
    """A field of type ``content_type`` as the HTML a summary is stored as: HTML and XHTML sanitized
    by :func:`clean_html`, any other type escaped by :func:`escaped_text`."""
    return clean_html(value) if content_type in HTML_TYPES else escaped_text(value)


def safe_link(value: str | None, base: str | None) -> str | None:
    if not value:
        return None
    value = CONTROL_CHARS.sub("", value).strip()
    absolute = urljoin(base, value) if base else value
    # a link too long for its column is dropped, not cut: a cut URL leads nowhere
    if len(absolute) > limits.URL or urlsplit(absolute).scheme not in ("http", "https"):
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
    return limits.clip(guid, limits.ENTRY_GUID)


def parse_feed(body: bytes, headers: Mapping[str, str] | None = None, base_url: str | None = None) -> ParsedFeed:
    """An RSS or Atom document's title, link and entries; ``headers`` (the response's, lower-case
    names) help feedparser find the encoding, ``base_url`` resolves relative links.

    Raises ParseError: "entity_declaration", "malformed" (nothing usable), "not_a_feed".
    """
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
    loose = _parsed_loosely(parsed)
    now = dt.datetime.now(dt.UTC)
    entries: list[ParsedEntry] = []
    seen: set[str] = set()
    # plain dict lookups below: FeedParserDict's key aliasing costs on every call
    for raw in parsed.entries:
        title = text_of(dict.get(raw, "title"), _type_of(dict.get(raw, "title_detail")))
        link = safe_link(dict.get(raw, "link"), feed_link)
        published = _date(raw, now)
        summary = _summary(raw)
        if not (title or link or summary):
            continue  # an empty item: nothing an editor could read or follow
        guid = entry_identity(dict.get(raw, "id"), link, title, published, seen)
        tags = tuple(_untyped_text(t.get("term"), loose) for t in dict.get(raw, "tags") or () if t.get("term"))
        author = limits.clip(_untyped_text(dict.get(raw, "author"), loose), limits.ENTRY_AUTHOR) or None
        entries.append(ParsedEntry(guid=guid, title=title, link=link, summary=summary, published_at=published,
                                   author=author, tags=tags))
    warning = None
    if parsed.bozo:
        reason = parsed.get("bozo_exception")
        warning = f"{type(reason).__name__}: {reason}"
    title = text_of(parsed.feed.get("title"), _type_of(parsed.feed.get("title_detail")))
    return ParsedFeed(title=title or None, link=feed_link, entries=entries, warning=warning)


def _type_of(detail: dict[str, Any] | None) -> str | None:
    """The content type feedparser gave a field, from its ``*_detail`` dict."""
    return dict.get(detail, "type") if detail else None


def _summary(raw: dict[str, Any]) -> str:
    """The entry's content, else its summary, as stored HTML of at most SUMMARY_LIMIT characters."""
    content = dict.get(raw, "content")
    detail = content[0] if content and dict.get(content[0], "value") else dict.get(raw, "summary_detail")
    value = dict.get(detail, "value") if detail else None
    return html_of(value[:HTML_INPUT_LIMIT] if value else None, _type_of(detail))[:SUMMARY_LIMIT]


def _parsed_loosely(parsed: dict[str, Any]) -> bool:
    """Whether feedparser fell back to its loose parser: it does when the XML parser failed (a SAX
    error, reported as bozo) or when no encoding could be settled on."""
    return not parsed.get("encoding") or isinstance(parsed.get("bozo_exception"), xml.sax.SAXException)


def _untyped_text(value: str | None, loose: bool) -> str:
    """A field feedparser gives no type (an author, a tag) as plain text. The XML parser hands it
    over decoded; the loose parser leaves character references in it (``&lt;``, ``&amp;``, ``&#233;``),
    so those are decoded once, and only then."""
    if loose and value and "&" in value:
        value = html.unescape(value)
    return plain_text(value)


def content_hash(entry: ParsedEntry) -> str:
    return hashlib.sha256(f"{entry.title}\x1f{entry.link}\x1f{entry.summary}".encode()).hexdigest()
