"""Entity resolution: one tool seen in several places is one candidate with several pieces of evidence."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.db.models import Entry, EntryTombstone, Event, Evidence, Tool
from services.core.domain import SourceKind, ToolState
from services.core.runtime import Runtime
from services.ingest.detector.keys import normalized_url
from services.ingest.refresh import refresh_source
from services.ingest.sources import add_source
from tests.local_http import LocalServer, Reply


def _forget_entry(session: Session, entry: Entry) -> None:
    """Delete an entry for good, leaving the tombstone that keeps its item from being stored again."""
    session.add(EntryTombstone(source_id=entry.source_id, guid=entry.guid))
    session.delete(entry)


def _rss(*items: str) -> bytes:
    body = "".join(f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid><description>{d}</description></item>"
                   for t, link, d in (i.split("|") for i in items))
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>c</title>{body}</channel></rss>".encode()


def _atom(*tags: str) -> bytes:
    entries = "".join(
        f"<entry><id>tag:github.com,2008:Repository/7/{t}</id><updated>2026-11-2{i}T00:00:00Z</updated>"
        f"<link rel='alternate' href='https://github.com/acme/nimbus/releases/tag/{t}'/><title>{t}</title></entry>"
        for i, t in enumerate(tags))
    return f"<feed xmlns='http://www.w3.org/2005/Atom'><id>x</id><title>r</title>{entries}</feed>".encode()


def _sources(rt: Runtime, http: LocalServer, routes: dict[str, tuple[bytes, SourceKind]]) -> dict[str, int]:
    ids = {}
    for path, (body, kind) in routes.items():
        http.routes[path] = Reply(body=body)
        with rt.sessions() as session, session.begin():
            ids[path] = add_source(session, http.url(path), kind).id
    return ids


def _poll_all(rt: Runtime, ids: dict[str, int]) -> None:
    for source_id in ids.values():
        refresh_source(rt.sessions, source_id, rt.settings)


def test_the_same_release_on_a_vendor_blog_the_hub_blog_and_github_is_one_candidate(rt: Runtime,
                                                                                       http: LocalServer) -> None:
    # Given a vendor post and a Hugging Face blog post that both link to the repository, and its GitHub releases
    vendor = _rss("Introducing Nimbus 2: faster local inference|https://acme.example.org/blog/nimbus-2?utm_source=rss"
                  "|&lt;a href='https://github.com/acme/nimbus'&gt;code&lt;/a&gt;")
    hub_blog = _rss("Welcome Nimbus 2 to the Hub|https://huggingface.co/blog/nimbus-2"
                    "|Try it: &lt;a href='https://github.com/acme/nimbus/tree/main'&gt;repo&lt;/a&gt;")
    ids = _sources(rt, http, {"/vendor.rss": (vendor, SourceKind.FEED), "/hf.rss": (hub_blog, SourceKind.FEED),
                              "/releases.atom": (_atom("v2.0.0"), SourceKind.GITHUB_RELEASES)})
    # When every source is polled
    _poll_all(rt, ids)
    # Then there is one candidate with three pieces of evidence, and one tool.queued event
    with rt.sessions() as session:
        tool = session.scalars(select(Tool)).one()
        assert len(tool.evidence) == 3
        assert {e.source_url for e in tool.evidence} == {http.url(p) for p in ids}
        assert list(session.scalars(select(Event.type).where(Event.type == "tool.queued"))) == ["tool.queued"]


def test_a_near_identical_name_from_another_source_merges_by_fuzzy_match(rt: Runtime, http: LocalServer) -> None:
    ids = _sources(rt, http, {
        "/a.rss": (_rss("Introducing Orbit Serve 3.1|https://a.example.org/orbit|x"), SourceKind.FEED),
        "/b.rss": (_rss("Announcing Orbit-Serve 3.1!|https://b.example.org/news/orbit|y"), SourceKind.FEED),
        "/c.rss": (_rss("Introducing Orbit Serve 3.2|https://c.example.org/orbit-32|z"), SourceKind.FEED),
    })
    _poll_all(rt, ids)
    with rt.sessions() as session:
        names = {t.name: len(t.evidence) for t in session.scalars(select(Tool))}
    # 3.1 seen twice is one tool; 3.2 is another release, not merged into 3.1
    assert names == {"Orbit Serve 3.1": 2, "Orbit Serve 3.2": 1}


def test_near_identical_names_in_other_scripts_merge_by_fuzzy_match(rt: Runtime, http: LocalServer) -> None:
    # Given launches whose names are written in Cyrillic and in Chinese, each seen twice with a small
    # difference in spelling, and a later version of the Chinese one
    ids = _sources(rt, http, {
        "/a.rss": (_rss("Представляем ГигаЧат Макс 2|https://a.example.org/giga|x",
                        "隆重推出 通义千问 3.5 旗舰|https://a.example.org/qwen|x"), SourceKind.FEED),
        "/b.rss": (_rss("ГигаЧат Максі 2 уже доступен|https://b.example.org/giga|y",
                        "通义千问 3.5 旗舰版 正式发布|https://b.example.org/qwen|y",
                        "通义千问 3.6 旗舰 正式发布|https://b.example.org/qwen-36|y"), SourceKind.FEED),
    })
    # When both sources are polled
    _poll_all(rt, ids)
    # Then each name is one candidate with both sightings, and the other version stays apart
    with rt.sessions() as session:
        names = {t.name: len(t.evidence) for t in session.scalars(select(Tool))}
    assert names == {"ГигаЧат Макс 2": 2, "通义千问 3.5 旗舰": 2, "通义千问 3.6 旗舰": 1}


def test_tracking_parameters_do_not_make_a_url_new() -> None:
    assert normalized_url("https://www.Acme.example.org//blog/x/?utm_source=rss&id=4&fbclid=z#top") == \
        normalized_url("http://acme.example.org/blog/x?id=4")


def test_a_new_version_of_an_approved_tool_attaches_as_an_update(rt: Runtime, http: LocalServer) -> None:
    # Given an approved tool first seen as v1.0.0
    ids = _sources(rt, http, {"/releases.atom": (_atom("v1.0.0"), SourceKind.GITHUB_RELEASES)})
    _poll_all(rt, ids)
    with rt.sessions() as session, session.begin():
        session.scalars(select(Tool)).one().state = ToolState.APPROVED.value
    # When v1.1.0 appears
    http.routes["/releases.atom"] = Reply(body=_atom("v1.0.0", "v1.1.0"))
    report = refresh_source(rt.sessions, ids["/releases.atom"], rt.settings)
    # Then no new candidate: the tool gets an update with the new version
    assert (report.new_entries, report.new_candidates) == (1, 0)
    with rt.sessions() as session:
        tool = session.scalars(select(Tool)).one()
        assert tool.version == "v1.1.0"
        assert [e.kind for e in tool.evidence] == ["detected", "update"]
        assert "tool.updated" in session.scalars(select(Event.type)).all()


def test_a_rejected_tool_does_not_come_back(rt: Runtime, http: LocalServer) -> None:
    ids = _sources(rt, http, {"/releases.atom": (_atom("v1.0.0"), SourceKind.GITHUB_RELEASES)})
    _poll_all(rt, ids)
    with rt.sessions() as session, session.begin():
        session.scalars(select(Tool)).one().state = ToolState.REJECTED.value
    http.routes["/releases.atom"] = Reply(body=_atom("v1.0.0", "v1.1.0"))
    refresh_source(rt.sessions, ids["/releases.atom"], rt.settings)
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Tool).where(
            Tool.state == ToolState.CANDIDATE.value)) == 0


def test_a_deleted_entry_is_not_stored_again(rt: Runtime, http: LocalServer) -> None:
    ids = _sources(rt, http, {"/f.rss": (_rss("Some post|https://x.example.org/1|a"), SourceKind.FEED)})
    _poll_all(rt, ids)
    with rt.sessions() as session, session.begin():
        _forget_entry(session, session.scalars(select(Entry)).one())
    _poll_all(rt, ids)
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 0


def test_an_edited_entry_is_updated_in_place_without_a_new_candidate(rt: Runtime, http: LocalServer) -> None:
    ids = _sources(rt, http, {"/f.rss": (_rss("Introducing Zephyr 2|https://x.example.org/z|first"), SourceKind.FEED)})
    _poll_all(rt, ids)
    http.routes["/f.rss"] = Reply(body=_rss("Introducing Zephyr 2|https://x.example.org/z|second text"))
    report = refresh_source(rt.sessions, ids["/f.rss"], rt.settings)
    assert (report.new_entries, report.updated_entries, report.new_candidates) == (0, 1, 0)
    with rt.sessions() as session:
        assert session.scalars(select(Entry.summary)).one() == "second text"
        assert session.scalar(select(func.count()).select_from(Evidence)) == 1


def test_a_quantized_copy_on_the_hub_lands_on_the_model_it_copies(rt: Runtime, http: LocalServer) -> None:
    import json

    from services.ingest import hub

    # Given the Hub listing of a model's author and one of a re-uploader who posts a GGUF copy of it
    listings = {"/api/models?author=acme-ai": [{"id": "acme-ai/Nimbus-8B", "createdAt": "2026-11-20T00:00:00.000Z"}],
                "/api/models?author=someone": [{"id": "someone/Nimbus-8B-GGUF", "createdAt": "2026-11-21T00:00:00.000Z"}]}
    ids = {}
    for path, models in listings.items():
        http.routes[hub.api_query(http.url(path)).removeprefix(http.base)] = Reply(body=json.dumps(models).encode())
        with rt.sessions() as session, session.begin():
            ids[path] = add_source(session, http.url(path), SourceKind.HF_MODELS, hub_endpoint=http.base).id
    # When both are polled
    _poll_all(rt, ids)
    # Then the copy is a second piece of evidence for the model, not a candidate of its own
    with rt.sessions() as session:
        tool = session.scalars(select(Tool)).one()
        assert (tool.canonical_key, len(tool.evidence)) == ("hf:acme-ai/nimbus-8b", 2)
