"""`verdicts feeds seed | add | list | import | export` and `verdicts poll --once [--all]`, run as the real command."""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path

from services.core.db.models import Source
from services.core.domain import SourceKind
from services.core.runtime import Runtime
from services.ingest.catalog import BLOGS, GITHUB_REPOSITORIES, HUB_AUTHORS
from services.ingest.opml import read_opml
from tests.cli import run_cli
from tests.local_http import LocalServer, Reply

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Acme news</title>
<item><title>Introducing Widget 3</title><link>https://acme.example.org/widget-3</link><guid>w3</guid></item>
</channel></rss>"""


#: `verdicts …` with the feeds on this machine allowed and a wide table; a call's own variables override these.
_cli = partial(run_cli, VERDICTS_ALLOW_PRIVATE_NETWORKS="1", COLUMNS="240")


def test_seed_loads_the_default_catalog_once(rt: Runtime) -> None:
    # When the catalog is seeded twice
    assert _cli(rt, "feeds", "seed").returncode == 0
    again = _cli(rt, "feeds", "seed")
    # Then every default source is there once, with its kind, and the second run added nothing
    rows = json.loads(_cli(rt, "feeds", "list", "--json").stdout)
    assert len(rows) == len(BLOGS) + len(GITHUB_REPOSITORIES) + len(HUB_AUTHORS)
    assert "0 source(s) added" in again.stdout
    kinds = {row["kind"] for row in rows}
    assert kinds == {"feed", "github-releases", "hf-models"}
    assert len(GITHUB_REPOSITORIES) >= 10
    assert {"meta-llama", "mistralai", "google", "microsoft", "Qwen", "deepseek-ai"} <= set(HUB_AUTHORS)
    assert any("huggingface.co/blog" in row["url"] for row in rows)


def test_add_finds_the_feed_of_a_web_page_and_poll_once_polls_it(rt: Runtime, http: LocalServer) -> None:
    # Given a page announcing its feed
    http.routes["/"] = Reply(body=b'<html><head><link rel="alternate" type="application/rss+xml" title="RSS" '
                                  b'href="/feed.xml"></head><body></body></html>')
    http.routes["/feed.xml"] = Reply(body=FEED, etag='"1"')
    # When the page is added and every due source is polled once
    added = _cli(rt, "feeds", "add", http.url("/"))
    polled = _cli(rt, "poll", "--once")
    # Then the feed is watched, polled, and listed with its entries and no error
    assert added.returncode == 0 and http.url("/feed.xml") in added.stdout
    assert polled.returncode == 0 and "polled 1 source(s): 1 new entries, 0 failed" in " ".join(polled.stdout.split())
    [row] = json.loads(_cli(rt, "feeds", "list", "--json").stdout)
    assert {"id", "url", "kind", "state", "entries", "last_success_at", "last_error", "consecutive_failures",
            "next_poll_at"} <= set(row)
    assert (row["url"], row["state"], row["entries"], row["last_error"]) == (http.url("/feed.xml"), "active", 1, None)
    # And a second --once finds nothing due, while --all polls it again (a 304)
    assert "polled 0 source(s)" in _cli(rt, "poll", "--once").stdout
    assert "polled 1 source(s)" in _cli(rt, "poll", "--once", "--all").stdout
    assert http.requests[-1][1]["if-none-match"] == '"1"'


def test_a_page_without_a_feed_is_refused_with_a_clear_error(rt: Runtime, http: LocalServer) -> None:
    http.routes["/"] = Reply(body=b"<!doctype html><html><head><title>x</title></head><body>hi</body></html>")
    done = _cli(rt, "feeds", "add", http.url("/"))
    assert done.returncode == 1 and "announces no feed" in done.stderr


def test_a_failing_source_shows_its_error_in_the_list(rt: Runtime, http: LocalServer) -> None:
    http.routes["/gone"] = Reply(body=json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": []}).encode())
    _cli(rt, "feeds", "add", http.url("/gone"), "--kind", "json-feed")
    http.routes["/gone"] = Reply(410, b"")
    _cli(rt, "poll", "--once")
    [row] = json.loads(_cli(rt, "feeds", "list", "--json").stdout)
    assert (row["state"], row["last_error_kind"], row["consecutive_failures"]) == ("disabled", "gone", 1)
    table = _cli(rt, "feeds", "list").stdout
    assert "gone" in table and "disabled" in table


def test_adding_an_address_the_ssrf_guard_forbids_is_refused_and_stores_nothing(rt: Runtime, http: LocalServer) -> None:
    # Given a working feed on this machine, and settings that keep private and local networks out
    http.routes["/feed.xml"] = Reply(body=FEED)
    # When it is added
    done = _cli(rt, "feeds", "add", http.url("/feed.xml"), VERDICTS_ALLOW_PRIVATE_NETWORKS="0")
    # Then the command fails, saying the address is refused, and no source was stored
    assert done.returncode == 1
    assert "refused" in done.stderr and "only public addresses" in done.stderr and "non-public address" in done.stderr
    assert json.loads(_cli(rt, "feeds", "list", "--json").stdout) == []


def test_adding_a_page_that_announces_only_a_rest_api_is_refused_and_stores_nothing(rt: Runtime,
                                                                                    http: LocalServer) -> None:
    # Given a WordPress-style page whose only JSON alternate is its REST API view
    http.routes["/about/"] = Reply(body=b'<!doctype html><html><head><link rel="https://api.w.org/" href="/wp-json/">'
                                        b'<link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/7">'
                                        b"</head><body>About</body></html>")
    # When it is added
    done = _cli(rt, "feeds", "add", http.url("/about/"))
    # Then the command fails, saying the page announces no feed, and no source was stored
    assert done.returncode == 1 and "announces no feed" in done.stderr
    assert json.loads(_cli(rt, "feeds", "list", "--json").stdout) == []


def test_poll_once_disables_a_source_moved_onto_a_watched_feed_and_the_list_says_why(
        rt: Runtime, http: LocalServer) -> None:
    # Given two aliases of one feed, added and polled, and then the alias redirecting for good to
    # the feed (with the same ETag, so that it answers 304)
    for path in ("/feed.xml", "/alias.xml"):
        http.routes[path] = Reply(body=FEED, etag='"1"')
        _cli(rt, "feeds", "add", http.url(path))
    _cli(rt, "poll", "--once")
    http.routes["/alias.xml"] = Reply(301, headers={"Location": "/feed.xml"})
    # When every source is polled once more
    polled = _cli(rt, "poll", "--once", "--all")
    # Then nothing failed, and the list shows the alias disabled, saying which source watches its feed
    assert polled.returncode == 0 and "0 failed" in polled.stdout
    feed, alias = json.loads(_cli(rt, "feeds", "list", "--json").stdout)
    assert (alias["url"], alias["state"], alias["state_reason"], alias["last_error"]) == (
        http.url("/alias.xml"), "disabled", f"now redirects to source {feed['id']}", None)
    assert f"now redirects to source {feed['id']}" in " ".join(_cli(rt, "feeds", "list").stdout.split())


#: A feed address longer than any terminal line, and the error that quotes it.
LONG_URL = "https://releases.example.org/" + "/".join(["a-rather-long-path-segment"] * 6) + "/feed.xml?page=1&lang=en"
LONG_ERROR = f"{LONG_URL} answered 410 Gone"


def _failed_source_with_a_long_url(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        session.add(Source(url=LONG_URL, kind=SourceKind.FEED, last_error=LONG_ERROR, last_error_kind="gone",
                           consecutive_failures=1))


def test_feeds_list_prints_each_url_whole_when_not_at_a_terminal(rt: Runtime) -> None:
    # Given a source whose address and last error are longer than any terminal line
    _failed_source_with_a_long_url(rt)
    # When `feeds list` writes to a pipe, with no COLUMNS (where rich would assume 80 columns)
    done = _cli(rt, "feeds", "list", COLUMNS="")
    # Then one line holds the whole address and the whole error, and nothing is cut short with "…"
    assert done.returncode == 0, done.stderr
    [row] = [line for line in done.stdout.splitlines() if LONG_URL in line]
    assert LONG_ERROR in row
    assert "…" not in done.stdout


def test_feeds_list_at_a_narrow_terminal_folds_a_url_instead_of_cutting_it(rt: Runtime) -> None:
    # Given a source with a long address
    _failed_source_with_a_long_url(rt)
    # When `feeds list` runs at a terminal 100 columns wide
    done = _cli(rt, "feeds", "list", COLUMNS="100", TTY_COMPATIBLE="1", NO_COLOR="1")
    # Then the address is not cut: its pieces, read down the url column, spell all of it
    assert done.returncode == 0, done.stderr
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in done.stdout.splitlines()]
    assert max(len(line) for line in lines) <= 100
    headers = [[cell.strip() for cell in line.split("┃")] for line in lines if line.startswith("┃")]
    column = next(cells.index("url") for cells in headers if "url" in cells)
    body = [[cell.strip() for cell in line.split("│")] for line in lines if line.startswith("│")]
    assert "".join(cells[column] for cells in body) == LONG_URL
    assert "…" not in done.stdout


def test_poll_once_exits_non_zero_only_when_every_polled_source_failed(rt: Runtime, http: LocalServer) -> None:
    # Given two sources, both of which fail
    http.routes["/missing.xml"] = http.routes["/also-missing.xml"] = Reply(404, b"")
    with rt.sessions() as session, session.begin():
        session.add_all([Source(url=http.url(path), kind=SourceKind.FEED) for path in ("/missing.xml",
                                                                                       "/also-missing.xml")])
    # When every source is polled once
    failed = _cli(rt, "poll", "--once")
    # Then the command fails, after the summary line, saying where to look
    assert failed.returncode == 1
    assert "polled 2 source(s): 0 new entries, 2 failed" in " ".join(failed.stdout.split())
    assert "every polled source failed" in failed.stderr
    # And once one of them works again, a poll where only some fail succeeds
    http.routes["/missing.xml"] = Reply(body=FEED)
    some = _cli(rt, "poll", "--once", "--all")
    assert some.returncode == 0, some.stderr
    assert "polled 2 source(s): 1 new entries, 1 failed" in " ".join(some.stdout.split())


def test_import_adds_an_opml_file_without_fetching_and_export_writes_it_back(rt: Runtime, tmp_path: Path) -> None:
    # Given a Tiny Tiny RSS export (no .opml extension) and one of its feeds watched already
    sample = Path(__file__).parent / "opml" / "ttrss-export"
    with rt.sessions() as session, session.begin():
        session.add(Source(url="https://delta.example.org/rss", kind=SourceKind.FEED))
    # When it is imported, and everything exported to stdout and to a file
    done = _cli(rt, "feeds", "import", str(sample))
    exported = _cli(rt, "feeds", "export")
    out = tmp_path / "sources.opml"
    assert _cli(rt, "feeds", "export", "--out", str(out)).returncode == 0
    # Then the new feed is added, the watched one reported, and the export lists both with the tag
    text = " ".join(done.stdout.split())
    assert done.returncode == 0 and "1 added, 1 watched already, 0 refused" in text
    assert "already watching https://delta.example.org/rss" in text
    assert exported.returncode == 0 and read_opml(out.read_bytes()) == read_opml(exported.stdout.encode())
    assert 'xmlUrl="https://gamma.example.org/rss"' in exported.stdout and 'category="/AI"' in exported.stdout


def test_import_exits_1_when_nothing_was_added_and_something_was_refused(rt: Runtime, tmp_path: Path) -> None:
    # Given a file whose only feed has a scheme the fetcher refuses, and a file that is no OPML
    bad = tmp_path / "bad.opml"
    bad.write_bytes(b'<opml version="2.0"><body><outline text="x" xmlUrl="ftp://x.example.org/feed"/></body></opml>')
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"not xml")
    # When each is imported
    refused, broken = _cli(rt, "feeds", "import", str(bad)), _cli(rt, "feeds", "import", str(notes))
    # Then both exit 1 with the reason, and nothing was added
    assert refused.returncode == 1 and "ftp://x.example.org/feed" in refused.stderr
    assert broken.returncode == 1 and "not an XML document" in broken.stderr
    assert json.loads(_cli(rt, "feeds", "list", "--json").stdout) == []
