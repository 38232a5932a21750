"""`verdicts feeds seed | add | list` and `verdicts poll --once [--all]`, run as the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from services.core.runtime import Runtime
from services.ingest.catalog import BLOGS, GITHUB_REPOSITORIES, HUB_AUTHORS
from tests.local_http import LocalServer, Reply

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Acme news</title>
<item><title>Introducing Widget 3</title><link>https://acme.example.org/widget-3</link><guid>w3</guid></item>
</channel></rss>"""


def _cli(rt: Runtime, *args: str, private_networks: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERDICTS_")}
    env.update({"VERDICTS_DATABASE_URL": rt.settings.database_url, "VERDICTS_SECRET_KEY": rt.settings.secret(),
                "VERDICTS_VAR_DIR": str(rt.settings.var_dir),
                "VERDICTS_ALLOW_PRIVATE_NETWORKS": "1" if private_networks else "0", "COLUMNS": "240"})
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


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
    done = _cli(rt, "feeds", "add", http.url("/feed.xml"), private_networks=False)
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
