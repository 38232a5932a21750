"""Feeds of realistic shapes and sizes for bench/ingest.py, generated from a seed (same seed, same bytes).

The mix follows what the catalog polls: vendor blogs in RSS 2.0 with full HTML in content:encoded
(WordPress-style, 3-25 KB of HTML a post, as the captured Meta engineering feed), GitHub releases in
Atom with HTML release notes (1-20 KB an entry, as the captured ty, claude-code and SDK feeds), small
Atom feeds with one-line summaries (as the captured community mirrors, 2-3 KB in all), and JSON
Feed 1.1 changelogs. Items carry the usual dirt: relative links, inline styles, scripts, images.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import random

WORDS = ["model", "inference", "latency", "tokens", "context", "agent", "tool", "release", "weights", "open", "benchmark", "eval", "fine-tune", "quantized", "serving", "cluster", "throughput", "memory", "cache", "kernel", "attention", "vision", "speech", "embedding", "retrieval", "pipeline", "dataset", "license", "preview", "stable", "faster", "cheaper", "support", "api", "sdk", "python", "rust", "streaming"]
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _sentence(rng: random.Random, n: int | None = None) -> str:
    words = [rng.choice(WORDS) for _ in range(n or rng.randint(6, 16))]
    return " ".join(words).capitalize() + "."


def _paragraphs(rng: random.Random, count: int) -> str:
    parts = []
    for i in range(count):
        text = " ".join(_sentence(rng) for _ in range(rng.randint(2, 6)))
        if i % 3 == 1:
            parts.append(f'<p style="color:#333">{text} <a href="/docs/{rng.randint(1, 999)}">Read the docs</a></p>')
        elif i % 5 == 4:
            parts.append(f"<ul><li>{_sentence(rng)}</li><li>{_sentence(rng)}</li></ul><pre><code>pip install x</code></pre>")
        else:
            parts.append(f"<p>{text}</p>")
    parts.append('<img src="/img/hero.png" onerror="track()"><script>analytics()</script>')
    return "".join(parts)


def _when(rng: random.Random, n: int) -> dt.datetime:
    return START + dt.timedelta(hours=n * 7 + rng.randint(0, 6))


def blog_rss(rng: random.Random, index: int) -> bytes:
    items = []
    for n in range(rng.randint(10, 25)):
        title = f"Introducing {rng.choice(WORDS).title()} {rng.randint(1, 5)}" if n % 4 == 0 else _sentence(rng, 7)[:-1]
        body = _paragraphs(rng, rng.randint(6, 40))
        items.append(
            f"<item><title>{html.escape(title)}</title><link>https://blog{index}.example.org/p/{n}</link>"
            f"<guid isPermaLink=\"false\">post-{index}-{n}</guid>"
            f"<pubDate>{_when(rng, n).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            f"<category>AI</category><description>{html.escape(_sentence(rng))}</description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Blog {index}</title>'
            f"<link>https://blog{index}.example.org/</link><description>news</description>{''.join(items)}"
            f"</channel></rss>").encode()


def releases_atom(rng: random.Random, index: int) -> bytes:
    entries = []
    major, minor = rng.randint(0, 3), rng.randint(0, 30)
    for n in range(10):
        tag = f"v{major}.{minor + 10 - n}.0" + ("rc1" if n % 4 == 3 else "")
        notes = "".join(f"<li>{html.escape(_sentence(rng))} (#{rng.randint(1000, 9999)})</li>" for _ in range(rng.randint(10, 150)))
        entries.append(
            f"<entry><id>tag:github.com,2008:Repository/{index}/{tag}</id>"
            f"<updated>{_when(rng, n).isoformat()}</updated>"
            f'<link rel="alternate" type="text/html" href="https://github.com/org{index}/repo{index}/releases/tag/{tag}"/>'
            f"<title>{tag}</title><content type=\"html\">{html.escape(f'<h2>Changes</h2><ul>{notes}</ul>')}</content>"
            f"<author><name>bot</name></author></entry>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-US">'
            f"<id>tag:github.com,2008:https://github.com/org{index}/repo{index}/releases</id>"
            f'<link type="text/html" rel="alternate" href="https://github.com/org{index}/repo{index}/releases"/>'
            f"<title>Release notes from repo{index}</title><updated>{START.isoformat()}</updated>"
            f"{''.join(entries)}</feed>").encode()


def small_atom(rng: random.Random, index: int) -> bytes:
    entries = "".join(
        f"<entry><id>urn:site{index}:{n}</id><title>{html.escape(_sentence(rng, 6))}</title>"
        f'<link href="/notes/{n}"/><updated>{_when(rng, n).isoformat()}</updated>'
        f"<summary>{html.escape(_sentence(rng))}</summary></entry>" for n in range(rng.randint(4, 8)))
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>urn:site{index}</id><title>Notes {index}</title><link href=\"https://notes{index}.example.org/\"/>"
            f"<updated>{START.isoformat()}</updated>{entries}</feed>").encode()


def json_feed(rng: random.Random, index: int) -> bytes:
    items = [{"id": f"{index}-{n}", "url": f"https://tool{index}.example.org/changelog/{n}",
              "title": f"Devtool {index} {n}.0 is here" if n % 5 == 0 else _sentence(rng, 6)[:-1],
              "content_html": _paragraphs(rng, rng.randint(2, 6)), "date_published": _when(rng, n).isoformat(),
              "authors": [{"name": "Team"}], "tags": ["changelog"]} for n in range(15)]
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": f"Devtool {index} changelog",
                       "home_page_url": f"https://tool{index}.example.org/", "items": items}).encode()


SHAPES = ((blog_rss, 0.35), (releases_atom, 0.35), (small_atom, 0.20), (json_feed, 0.10))


def generate(count: int, seed: int = 20261129) -> list[bytes]:
    rng = random.Random(seed)
    makers = [maker for maker, _ in SHAPES]
    weights = [weight for _, weight in SHAPES]
    return [rng.choices(makers, weights)[0](rng, index) for index in range(count)]
