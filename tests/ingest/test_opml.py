"""OPML in and out: the variants other readers export import as tagged feed sources, without a
fetch; watched URLs and refused outlines are reported; hostile XML is refused; export reads back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from services.core.db.models import Source
from services.core.runtime import Runtime
from services.ingest.opml import OpmlError, export_opml, import_opml, read_opml
from services.ingest.sources import add_source

SAMPLES = Path(__file__).parent / "opml"


def _import(rt: Runtime, data: bytes, progress: list[tuple[int, int]] | None = None
            ) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    with rt.sessions() as session, session.begin():
        report = import_opml(session, data, progress=None if progress is None else
                             lambda done, total: progress.append((done, total)))
        return [s.url for s in report.added], report.already, report.failed


def _sources(rt: Runtime) -> dict[str, tuple[str | None, list[str]]]:
    with rt.sessions() as session:
        return {s.url: (s.title, s.tags) for s in session.scalars(select(Source))}


def test_nested_outlines_become_tags_and_unknown_attributes_are_kept_out(rt: Runtime) -> None:
    # Given an OPML 2.0 export with folders AI > Labs (Miniflux's shape)
    data = (SAMPLES / "miniflux.opml").read_bytes()
    # When it is imported, with a progress callback
    progress: list[tuple[int, int]] = []
    added, already, failed = _import(rt, data, progress)
    # Then each feed is a source tagged with its folder path, titled, and nothing else was read
    assert (len(added), already, failed) == (3, [], [])
    assert _sources(rt) == {
        "https://acme.example.org/feed.xml": ("Acme blog", ["AI/Labs"]),
        "https://github.com/widget/widget/releases.atom": ("Widget releases", ["AI"]),
        "https://loose.example.org/rss": ("Loose", []),
    }
    assert progress == [(1, 3), (2, 3), (3, 3)]


def test_category_attributes_and_lowercase_xmlurl_without_type_import(rt: Runtime) -> None:
    # Given an export with `category="/AI/Labs,/Vendors"`, `xmlurl` in lower case, no `type`, a .xml name
    data = (SAMPLES / "inoreader.xml").read_bytes()
    # When it is imported
    added, _, failed = _import(rt, data)
    # Then the categories are the tags
    assert failed == [] and len(added) == 2
    assert _sources(rt)["https://acme.example.org/atom"] == ("Acme", ["AI/Labs", "Vendors"])
    assert _sources(rt)["https://beta.example.org/feed"] == ("Beta", [])


def test_a_tiny_tiny_rss_export_imports_its_feeds_and_skips_its_preferences(rt: Runtime) -> None:
    # Given a Tiny Tiny RSS export: no extension, undeclared ttrss: attributes, prefs/labels/filters outlines
    data = (SAMPLES / "ttrss-export").read_bytes()
    # When it is imported
    added, _, failed = _import(rt, data)
    # Then only the two feeds are sources
    assert failed == []
    assert sorted(added) == ["https://delta.example.org/rss", "https://gamma.example.org/rss"]
    assert _sources(rt)["https://gamma.example.org/rss"] == ("Gamma news", ["AI"])


def test_a_watched_url_is_reported_and_not_duplicated(rt: Runtime) -> None:
    # Given one of the file's feeds watched already
    with rt.sessions() as session, session.begin():
        add_source(session, "https://loose.example.org/rss")
    # When the file is imported
    added, already, _ = _import(rt, (SAMPLES / "miniflux.opml").read_bytes())
    # Then it is reported, the others added, and it is there once
    assert already == ["https://loose.example.org/rss"] and len(added) == 2
    assert len(_sources(rt)) == 3


def test_refused_outlines_are_reported_and_the_rest_imported(rt: Runtime) -> None:
    # Given outlines with a non-http(s) scheme, an over-long URL and one good feed
    data = (b'<opml version="2.0"><body><outline text="js" xmlUrl="javascript:alert(1)"/>'
            b'<outline text="file" xmlUrl="file:///etc/passwd"/>'
            b'<outline text="long" xmlUrl="https://x.example.org/' + b"a" * 3000 + b'"/>'
            b'<outline text="ok" type="rss" xmlUrl="https://ok.example.org/rss"/></body></opml>')
    # When it is imported
    added, _, failed = _import(rt, data)
    # Then the good one is added and each refused one reported with its reason
    assert added == ["https://ok.example.org/rss"]
    assert [url for url, _ in failed][:2] == ["javascript:alert(1)", "file:///etc/passwd"]
    assert "not an http(s) URL" in failed[0][1] and "over 2048 characters" in failed[2][1]
    assert list(_sources(rt)) == ["https://ok.example.org/rss"]


@pytest.mark.parametrize("data, reason", [
    ((b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x "boom">]><opml><body>'
      b'<outline text="&x;" xmlUrl="https://a.example.org/"/></body></opml>'), "DTD"),
    (b'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "file:///etc/passwd"><opml/>', "DTD"),
    (b"<opml><body><outline></body></opml>", "not an XML document"),
    (b'<rss version="2.0"><channel/></rss>', "not an OPML document"),
])
def test_hostile_or_broken_files_are_refused_with_a_clear_error(data: bytes, reason: str) -> None:
    # When the file is read, Then it is refused before anything is parsed for feeds
    with pytest.raises(OpmlError, match=reason):
        read_opml(data)


def test_export_reads_back_as_the_same_sources_and_tags(rt: Runtime) -> None:
    # Given sources imported from two variants
    _import(rt, (SAMPLES / "miniflux.opml").read_bytes())
    _import(rt, (SAMPLES / "inoreader.xml").read_bytes())
    before = _sources(rt)
    # When they are exported and the export is read
    with rt.sessions() as session:
        document = export_opml(session)
    feeds = read_opml(document)
    # Then every source is there with its title and tags
    assert {f.url: (f.title, f.tags) for f in feeds} == before
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
