"""One interface over every kind of source: given what we know of a source and a way to GET,
harvest its entries. The refresh step calls ``adapter_for(kind).harvest(...)`` and never looks inside.

- ``feed``: RSS, Atom, or a JSON Feed served at the same URL (a body that is JSON is decoded as one);
- ``github-releases``: ``https://github.com/OWNER/REPO/releases.atom``, the tag taken from each entry;
- ``json-feed``: JSON Feed 1.0 / 1.1;
- ``hf-models``: a Hugging Face Hub models API query (or a Hub mirror's), with a ``createdAt`` watermark.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import unquote, urlsplit

from services.core import limits
from services.core.domain import ParsedEntry, SourceKind
from services.core.text import without_bidi
from services.ingest import hub
from services.ingest.cpu_turn import cpu_turn
from services.ingest.errors import SourceUrlError
from services.ingest.fetcher import ACCEPT_FEEDS, FetchResult
from services.ingest.jsonfeed import is_json, parse_json_feed
from services.ingest.parser import ParsedFeed, ParseError, parse_feed

#: GET a URL with optional validators (ETag, Last-Modified) and an Accept header.
Getter = Callable[[str, "str | None", "str | None", str], FetchResult]

GITHUB_RELEASES_URL = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+)/releases\.atom$", re.IGNORECASE)
GITHUB_TAG_ID = re.compile(r"^tag:github\.com,2008:Repository/\d+/(.+)$")
GITHUB_TAG_LINK = re.compile(r"/releases/tag/([^/?#]+)")
ACCEPT_JSON = "application/json"


@dataclass(frozen=True)
class SourceView:
    """What an adapter may know of a source: where it is and what the last poll left behind."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    watermark: str | None = None


@dataclass
class Harvest:
    """One poll's outcome; ``result`` is the response to the source's own URL (validators, redirects)."""

    result: FetchResult
    entries: list[ParsedEntry] = field(default_factory=list)
    title: str | None = None
    warning: str | None = None
    watermark: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.result.not_modified


class Adapter(Protocol):
    kind: SourceKind

    def check_url(self, url: str, hub_endpoint: str = hub.DEFAULT_ENDPOINT) -> str:
        """The URL to store for this kind, or SourceUrlError (``hub_endpoint``: where Hub sources may be)."""

    def harvest(self, source: SourceView, get: Getter) -> Harvest:
        """Fetch and parse; raises FetchError or ParseError on failure."""


def parse_document(result: FetchResult) -> ParsedFeed:
    """RSS, Atom or JSON Feed, told apart by the body (servers label feeds loosely): JSON is decoded
    and must be a JSON Feed, anything else goes to the XML parser. Raises ParseError."""
    if is_json(result.body):
        return parse_json_feed(result.body, base_url=result.url)
    return parse_feed(result.body, result.headers, base_url=result.url)


def _http_url(url: str) -> str:
    parts = urlsplit(without_bidi(url.strip(), field="URL", refuse=SourceUrlError))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceUrlError(f"not an http(s) URL: {url!r}")
    return url.strip()


class FeedAdapter:
    kind = SourceKind.FEED

    def check_url(self, url: str, hub_endpoint: str = hub.DEFAULT_ENDPOINT) -> str:
        return _http_url(url)

    def harvest(self, source: SourceView, get: Getter) -> Harvest:
        result = get(source.url, source.etag, source.last_modified, ACCEPT_FEEDS)
        if result.not_modified:
            return Harvest(result)
        with cpu_turn:
            parsed = self.parse(result)
        return Harvest(result, parsed.entries, parsed.title, parsed.warning)

    def parse(self, result: FetchResult) -> ParsedFeed:
        return parse_document(result)


class JsonFeedAdapter(FeedAdapter):
    kind = SourceKind.JSON_FEED

    def parse(self, result: FetchResult) -> ParsedFeed:
        return parse_json_feed(result.body, base_url=result.url)


class GitHubReleasesAdapter(FeedAdapter):
    kind = SourceKind.GITHUB_RELEASES

    def check_url(self, url: str, hub_endpoint: str = hub.DEFAULT_ENDPOINT) -> str:
        url = _http_url(url).rstrip("/")
        if urlsplit(url).hostname != "github.com":
            return url  # a mirror of a releases feed (or a local copy): Atom of the same shape
        if re.match(r"^https://github\.com/[\w.-]+/[\w.-]+$", url, re.IGNORECASE):
            url += "/releases.atom"
        if not GITHUB_RELEASES_URL.match(url):
            raise SourceUrlError(f"a GitHub releases source is https://github.com/OWNER/REPO/releases.atom, not {url!r}")
        return url

    def parse(self, result: FetchResult) -> ParsedFeed:
        parsed = parse_feed(result.body, result.headers, base_url=result.url)
        return replace(parsed, entries=[_with_tag(e) for e in parsed.entries])


def release_tag(entry: ParsedEntry) -> str | None:
    """The release's tag: from the entry id (``tag:github.com,2008:Repository/<n>/<tag>``) or its link."""
    by_id = GITHUB_TAG_ID.match(entry.guid)
    if by_id:
        return unquote(by_id.group(1))
    by_link = GITHUB_TAG_LINK.search(entry.link or "")
    return unquote(by_link.group(1)) if by_link else None


def _with_tag(entry: ParsedEntry) -> ParsedEntry:
    tag = release_tag(entry)
    return replace(entry, version=limits.clip(tag, limits.VERSION)) if tag else entry


class HubModelsAdapter:
    kind = SourceKind.HF_MODELS

    def check_url(self, url: str, hub_endpoint: str = hub.DEFAULT_ENDPOINT) -> str:
        url = _http_url(url)
        if not hub.is_models_api(url, hub_endpoint):
            raise SourceUrlError(f"a Hub source is a {hub.API_PATH} query on https://huggingface.co or on "
                                 f"{hub_endpoint} (e.g. {hub.API_PATH}?author=ORG), not {url!r}")
        return url

    def harvest(self, source: SourceView, get: Getter) -> Harvest:
        now = dt.datetime.now(dt.UTC)
        first = get(hub.api_query(source.url), source.etag, source.last_modified, ACCEPT_JSON)
        if first.not_modified:
            return Harvest(first)
        entries: list[ParsedEntry] = []
        newest = source.watermark
        page, pages = first, 1
        while True:
            reached_watermark = False
            for model in hub.models_page(page.body):
                created = hub.created_at(model)
                if source.watermark and created and created <= source.watermark:
                    reached_watermark = True
                    break
                entry = hub.model_entry(model, now)
                if entry is not None:
                    entries.append(entry)
                    newest = max(filter(None, (newest, created)), default=None)
            following = hub.next_page(page.headers.get("link"))
            if reached_watermark or source.watermark is None or following is None or pages >= hub.MAX_PAGES:
                break
            page, pages = get(following, None, None, ACCEPT_JSON), pages + 1
        # The stored URL stays the watched one; only the first response's validators are kept.
        result = FetchResult(url=source.url, status=first.status, etag=first.etag, last_modified=first.last_modified)
        return Harvest(result, entries, title=hub.describe(source.url), watermark=newest)


ADAPTERS: dict[SourceKind, Adapter] = {
    adapter.kind: adapter
    for adapter in (FeedAdapter(), JsonFeedAdapter(), GitHubReleasesAdapter(), HubModelsAdapter())
}


def adapter_for(kind: SourceKind | str) -> Adapter:
    try:
        return ADAPTERS[SourceKind(kind)]
    except ValueError as exc:
        raise ParseError("unknown_kind", f"no adapter for sources of kind {kind!r}") from exc
