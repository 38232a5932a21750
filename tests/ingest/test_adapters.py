"""Source adapters: GitHub release tags, the Hub models API with paging and a watermark, JSON Feed."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from services.core.db.models import Entry, Source, Tool
from services.core.domain import SourceFacts, SourceKind
from services.core.runtime import Runtime
from services.ingest import hub
from services.ingest.adapters import SourceView, adapter_for, release_tag
from services.ingest.detect import detect
from services.ingest.errors import SourceUrlError
from services.ingest.fetcher import FetchPolicy
from services.ingest.jsonfeed import parse_json_feed
from services.ingest.parser import ParseError
from services.ingest.refresh import getter, refresh_source
from services.ingest.sources import add_source
from tests.conftest import shared_path
from tests.local_http import LocalServer, Reply

OPEN = getter(FetchPolicy(allow_private_networks=True, timeout_seconds=5))


def _iso(days_ago: float) -> str:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _models(*names_and_ages: tuple[str, float]) -> bytes:
    return json.dumps([{"id": f"acme-ai/{name}", "createdAt": _iso(age), "pipeline_tag": "text-generation",
                        "library_name": "transformers", "tags": ["safetensors"]} for name, age in names_and_ages]).encode()


def test_the_hub_query_asks_for_newest_first_with_the_fields_we_keep() -> None:
    query = hub.api_query("https://huggingface.co/api/models?author=acme-ai&sort=downloads")
    assert "author=acme-ai" in query and "sort=createdAt" in query and "direction=-1" in query
    assert "sort=downloads" not in query
    assert "expand%5B%5D=createdAt" in query and "expand%5B%5D=pipeline_tag" in query


def test_hub_models_page_by_link_header_down_to_the_watermark(http: LocalServer) -> None:
    # Given two pages of models, newest first, linked by a Link header
    def first_page(handler):
        if "cursor=2" in handler.path:
            return Reply(body=_models(("Gamma-1B", 5), ("Delta-1B", 9)))
        return Reply(body=_models(("Alpha-7B", 1), ("Beta-3B", 2)),
                     headers={"Link": f'<{http.url("/api/models?cursor=2")}>; rel="next"'})

    http.routes.clear()
    adapter = adapter_for(SourceKind.HF_MODELS)
    watched = http.url("/api/models?author=acme-ai")
    http.routes[hub.api_query(watched).removeprefix(http.base)] = first_page
    http.routes["/api/models?cursor=2"] = first_page
    # And a watermark between Gamma (5 days old) and Delta (9 days old)
    watermark = _iso(7)
    # When harvested
    harvest = adapter.harvest(SourceView(watched, watermark=watermark), OPEN)
    # Then the three newer models come back, and the watermark moves to the newest
    assert [e.title for e in harvest.entries] == ["acme-ai/Alpha-7B", "acme-ai/Beta-3B", "acme-ai/Gamma-1B"]
    assert harvest.watermark == harvest.entries[0].published_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert all(e.link and e.link.startswith("https://huggingface.co/acme-ai/") for e in harvest.entries)


def test_the_first_hub_poll_reads_one_page_only(http: LocalServer) -> None:
    watched = http.url("/api/models?author=acme-ai")
    http.routes[hub.api_query(watched).removeprefix(http.base)] = Reply(
        body=_models(("Alpha-7B", 1)), headers={"Link": f'<{http.url("/next")}>; rel="next"'})
    harvest = adapter_for(SourceKind.HF_MODELS).harvest(SourceView(watched), OPEN)
    assert len(harvest.entries) == 1
    assert "/next" not in [path for path, _ in http.requests]


def test_a_hub_model_is_detected_with_its_creation_date() -> None:
    entry = hub.model_entry({"id": "acme-ai/Alpha-7B", "createdAt": "2026-11-27T10:00:00.000Z"},
                            dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    found = detect(entry, SourceFacts(kind="hf-models"))[0]
    assert found.key == "hf:acme-ai/alpha-7b" and "Hub model created 2026-11-27" in found.reasons


def test_the_captured_hub_response_becomes_model_entries() -> None:
    body = shared_path("feeds", "hf_hub_api_models_trending__daily-topic-radar.json").read_bytes()
    now = dt.datetime.now(dt.UTC)
    entries = [hub.model_entry(m, now) for m in hub.models_page(body)]
    assert entries and all(e is not None and e.guid.startswith("hf:") and e.published_at for e in entries)
    assert all(detect(e, SourceFacts(kind="hf-models"))[0].key.startswith("hf:") for e in entries if e)


def test_a_hub_answer_that_is_not_a_list_is_refused() -> None:
    with pytest.raises(ParseError):
        hub.models_page(b'{"error": "Invalid"}')


MIRROR = "http://127.0.0.1:8080/hub-mirror"


@pytest.mark.parametrize("url", [
    "https://huggingface.co/api/models?author=acme-ai",
    "https://huggingface.co/api/models?search=llama&sort=trendingScore",
    "https://huggingface.co/api/models?filter=gguf&pipeline_tag=text-generation",
    "https://huggingface.co/api/models",
    f"{MIRROR}/api/models?sort=likes",
    f"{MIRROR}/api/models/",
])
def test_any_models_query_on_the_hub_or_the_configured_endpoint_is_a_hub_source(url: str) -> None:
    # Given a models API query (any parameters) on huggingface.co or on a mirror endpoint with a path prefix
    # When it is checked as a Hub source with that mirror configured, Then it is accepted as given
    assert adapter_for(SourceKind.HF_MODELS).check_url(url, MIRROR) == url


@pytest.mark.parametrize("url", [
    "https://huggingface.co/api/datasets?author=acme-ai",
    "https://huggingface.co/acme-ai/Alpha-7B",
    "https://huggingface.co/api/models/acme-ai/Alpha-7B",
    "http://127.0.0.1:8080/api/models",
    "http://127.0.0.1:9090/hub-mirror/api/models",
    "https://127.0.0.1:8080/hub-mirror/api/models",
    "https://hf-mirror.example.org/api/models?author=acme-ai",
])
def test_urls_off_the_endpoint_or_not_ending_in_api_models_are_refused_as_hub_sources(url: str) -> None:
    # Given a URL that is not a models query, or is one on a host, port, scheme or prefix not configured
    # When it is checked as a Hub source, Then it is refused
    with pytest.raises(SourceUrlError):
        adapter_for(SourceKind.HF_MODELS).check_url(url, MIRROR)


def test_the_hub_endpoint_setting_takes_scheme_host_port_and_a_path_prefix_only() -> None:
    from services.core.settings import SettingsError, load_settings

    # Given a mirror endpoint with a trailing slash, When settings load, Then it is kept without the slash
    assert load_settings({}, hub_endpoint=f"{MIRROR}/").hub_endpoint == MIRROR
    assert load_settings({}).hub_endpoint == "https://huggingface.co"
    # And an endpoint with a query, or not over http(s), is refused
    for bad in (f"{MIRROR}?token=1", "ftp://mirror.example.org"):
        with pytest.raises(SettingsError):
            load_settings({}, hub_endpoint=bad)


def test_a_trending_query_on_a_mirror_with_a_path_prefix_is_added_and_polled_through_the_pipeline(
        rt: Runtime, http: LocalServer) -> None:
    from services.ingest.sources import readable_source

    # Given a Hub mirror under /hub-mirror on the local server answering with the captured trending models
    endpoint = http.url("/hub-mirror")
    watched = f"{endpoint}/api/models?sort=trendingScore&pipeline_tag=text-generation"
    body = shared_path("feeds", "hf_hub_api_models_trending__daily-topic-radar.json").read_bytes()
    http.routes[hub.api_query(watched).removeprefix(http.base)] = Reply(body=body)
    policy = FetchPolicy(allow_private_networks=True, timeout_seconds=5)
    # When an editor adds the query as a Hub source with that endpoint configured, and it is polled
    url, kind = readable_source(watched, SourceKind.HF_MODELS, policy, endpoint)
    with rt.sessions() as session, session.begin():
        source_id = add_source(session, url, kind, hub_endpoint=endpoint).id
    report = refresh_source(rt.sessions, source_id, rt.settings)
    # Then every model of the answer is an entry and a candidate keyed by its Hub repository
    assert (report.status, report.new_entries, report.new_candidates) == ("ok", 3, 3)
    with rt.sessions() as session:
        assert sorted(session.scalars(select(Tool.canonical_key))) == [
            "hf:deepseek-ai/deepseek-v4-pro", "hf:moonshotai/kimi-k2.6", "hf:qwen/qwen3.6-27b"]
        assert session.get(Source, source_id).title == "Hugging Face models: pipeline_tag=text-generation"


@pytest.mark.parametrize(("tag", "pre"), [("v2.0.0", False), ("v0.11.0rc1", True), ("v3.15.0b2", True),
                                          ("v3.15.0a1", True), ("2.0.0-beta.1", True), ("v1.2.0-dev", True),
                                          ("2026.8.18", False), ("python-v2.9.3", False), ("v1.0.0-alpha", True)])
def test_pre_releases_are_recognised_by_their_tag(tag: str, pre: bool) -> None:
    from services.ingest.detector.versions import is_prerelease

    assert is_prerelease(tag) is pre


def test_the_release_tag_comes_from_the_atom_id() -> None:
    from services.core.domain import ParsedEntry

    entry = ParsedEntry(guid="tag:github.com,2008:Repository/123/v0.11.0rc1", title="v0.11.0rc1", link=None,
                        summary="", published_at=None)
    assert release_tag(entry) == "v0.11.0rc1"


@pytest.mark.parametrize("name", ["gh_releases_atom_vllm__omarchy.xml", "gh_releases_atom_cpython__youpdated.xml",
                                  "omarchy_mistral-sdk.xml", "omarchy_mcp-servers.xml"])
def test_captured_github_release_feeds_yield_tags_and_flag_pre_releases(name: str) -> None:
    from services.ingest.fetcher import FetchResult

    body = shared_path("feeds", name).read_bytes()
    parsed = adapter_for(SourceKind.GITHUB_RELEASES).parse(FetchResult(url="https://github.com/o/r/releases.atom",
                                                                        status=200, body=body))
    detections = [detect(e, SourceFacts(kind="github-releases"))[0] for e in parsed.entries]
    assert all(e.version for e in parsed.entries)
    assert all(d.key and d.key.startswith("github:") and d.reasons[0].startswith("GitHub release") for d in detections)
    if name.startswith(("gh_releases_atom_vllm", "gh_releases_atom_cpython")):
        assert any("pre-release" in " ".join(d.reasons) for d in detections)


def test_github_sources_on_github_must_be_a_releases_feed() -> None:
    adapter = adapter_for(SourceKind.GITHUB_RELEASES)
    assert adapter.check_url("https://github.com/acme/widget") == "https://github.com/acme/widget/releases.atom"
    with pytest.raises(SourceUrlError):
        adapter.check_url("https://github.com/acme/widget/commits/main.atom")


JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Acme changelog",
    "home_page_url": "https://acme.example.org/",
    "items": [
        {"id": "1", "url": "/blog/widget-3", "title": "Introducing Widget 3", "content_html":
         "<p onclick='x()'>Fast <script>bad()</script>and <a href='https://github.com/acme/widget'>open</a></p>",
         "date_published": "2026-11-27T09:00:00+00:00", "authors": [{"name": "Ada"}], "tags": ["launch"]},
        {"id": 2, "content_text": "A text-only note", "date_published": "1800-01-01T00:00:00Z"},
        {"id": "1", "title": "Same id, other item", "url": "https://acme.example.org/other"},
        "not an object",
    ],
}


def test_a_json_feed_is_parsed_sanitized_and_identified() -> None:
    feed = parse_json_feed(json.dumps(JSON_FEED).encode(), base_url="https://acme.example.org/feed.json")
    first, second, third = feed.entries
    assert first.link == "https://acme.example.org/blog/widget-3" and first.author == "Ada"
    assert "script" not in first.summary and "onclick" not in first.summary and "Fast" in first.summary
    assert second.summary == "A text-only note" and second.published_at is None and second.guid == "2"
    assert len({first.guid, second.guid, third.guid}) == 3
    assert feed.warning and "skipped" in feed.warning
    assert "github:acme/widget" in detect(first)[0].keys


def test_json_that_is_not_a_json_feed_is_refused() -> None:
    with pytest.raises(ParseError):
        parse_json_feed(b'{"items": []}')


def test_a_json_feed_at_a_feed_source_goes_through_the_pipeline(rt: Runtime, http: LocalServer) -> None:
    http.routes["/feed.json"] = Reply(body=json.dumps(JSON_FEED).encode(),
                                      headers={"Content-Type": "application/feed+json"})
    with rt.sessions() as session, session.begin():
        source_id = add_source(session, http.url("/feed.json"), SourceKind.FEED).id
    report = refresh_source(rt.sessions, source_id, rt.settings)
    assert (report.status, report.new_entries, report.new_candidates) == ("ok", 3, 1)
    with rt.sessions() as session:
        assert session.scalars(select(Tool.name)).all() == ["Widget 3"]
        assert session.get(Source, source_id).title == "Acme changelog"
        assert len(session.scalars(select(Entry)).all()) == 3


def test_a_hub_source_polls_through_the_pipeline_and_keeps_its_watermark(rt: Runtime, http: LocalServer) -> None:
    # Given a Hub-shaped API on the local server (a mirror; the adapter only needs the same answers)
    watched = http.url("/api/models?author=acme-ai")
    path = hub.api_query(watched).removeprefix(http.base)
    http.routes[path] = Reply(body=_models(("Alpha-7B", 1), ("Beta-3B", 2)))
    with rt.sessions() as session, session.begin():
        source = Source(url=watched, kind=SourceKind.HF_MODELS.value)
        session.add(source)
        session.flush()
        source_id = source.id
    # When polled twice, with one new model the second time
    refresh_source(rt.sessions, source_id, rt.settings)
    http.routes[path] = Reply(body=_models(("Gamma-9B", 0.1), ("Alpha-7B", 1), ("Beta-3B", 2)))
    second = refresh_source(rt.sessions, source_id, rt.settings)
    # Then the second poll stores only the new model, and the watermark is its createdAt
    assert (second.new_entries, second.new_candidates) == (1, 1)
    with rt.sessions() as session:
        source = session.get(Source, source_id)
        assert source.watermark == json.loads(http.routes[path].body)[0]["createdAt"]
        assert sorted(session.scalars(select(Tool.canonical_key))) == [
            "hf:acme-ai/alpha-7b", "hf:acme-ai/beta-3b", "hf:acme-ai/gamma-9b"]


def test_json_feed_text_fields_are_kept_as_written_and_only_content_html_is_sanitized() -> None:
    # Given a JSON Feed whose plain-text fields (title, summary, content_text, names, tags) hold < and &
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "R&D <news>", "items": [
        {"id": "1", "title": "Fix <Select> crash in the picker", "summary": "hide <think> blocks",
         "authors": [{"name": "Ada & <team>"}], "tags": ["a<b"]},
        {"id": "2", "title": "a<b", "content_text": "x < y && y > z", "summary": "short"},
        {"id": "3", "title": "R&amp;D", "content_html": "<p>a &lt; b<script>bad()</script></p>"},
    ]}
    # When parsed
    feed = parse_json_feed(json.dumps(document).encode())
    first, second, third = feed.entries
    # Then the text reads as written (an entity in a plain title is text too), summaries escaped as HTML
    assert feed.title == "R&D <news>"
    assert (first.title, first.author, first.tags) == ("Fix <Select> crash in the picker", "Ada & <team>", ("a<b",))
    assert first.summary == "hide &lt;think&gt; blocks"
    assert (second.title, second.summary) == ("a<b", "x &lt; y &amp;&amp; y &gt; z")
    assert third.title == "R&amp;D" and third.summary == "<p>a &lt; b</p>"


PHP_JSON_FEED = (b'\xef\xbb\xbf{"version":"https:\\/\\/jsonfeed.org\\/version\\/1.1","title":"Acme",'
                 b'"home_page_url":"https:\\/\\/acme.example.org\\/","items":[{"id":"1",'
                 b'"url":"https:\\/\\/acme.example.org\\/widget-3","title":"Introducing Widget 3"}]}')


@pytest.mark.parametrize("kind", [SourceKind.FEED, SourceKind.JSON_FEED])
def test_a_json_feed_whose_version_has_escaped_slashes_is_recognised(kind: SourceKind) -> None:
    from services.ingest.fetcher import FetchResult

    # Given a JSON Feed written as PHP writes JSON (every / escaped), after a byte order mark
    result = FetchResult(url="https://acme.example.org/feed.json", status=200, body=PHP_JSON_FEED)
    # When a feed source or a JSON Feed source parses it
    feed = adapter_for(kind).parse(result)
    # Then it is a JSON Feed with its item
    assert feed.title == "Acme"
    assert [(e.title, e.link) for e in feed.entries] == [("Introducing Widget 3", "https://acme.example.org/widget-3")]


def test_json_at_a_feed_source_that_is_no_json_feed_is_refused_as_not_a_feed() -> None:
    from services.ingest.fetcher import FetchResult

    # Given a REST API answer (JSON, but no JSON Feed) where a feed was expected
    result = FetchResult(url="https://blog.example.org/wp-json/wp/v2/posts/7", status=200,
                         body=b'  {"id": 7, "title": {"rendered": "Hello"}, "link": "https://blog.example.org/hello"}')
    # When the feed adapter parses it, Then it is refused as not a feed, saying why
    with pytest.raises(ParseError) as caught:
        adapter_for(SourceKind.FEED).parse(result)
    assert caught.value.kind == "not_a_feed" and "jsonfeed.org" in str(caught.value)


def test_hub_fields_are_kept_as_written() -> None:
    # Given a Hub model whose pipeline tag, library and tags hold < and &
    model = {"id": "acme-ai/alpha-7b", "createdAt": _iso(1), "pipeline_tag": "text<generation",
             "library_name": "R&D", "tags": ["a<b", "x&y"]}
    # When it becomes an entry
    entry = hub.model_entry(model, dt.datetime.now(dt.UTC))
    # Then the tags read as written, and the summary (stored as HTML) escapes them
    assert entry is not None and entry.tags == ("a<b", "x&y")
    assert entry.summary == "text&lt;generation · R&amp;D"
