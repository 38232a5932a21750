"""Length limits of stored text, in characters, each named once.

A ``String(n)`` column's ``n`` is one of these, and so are the checks at the edges (forms, the API,
the CLI) and the cuts where text from outside is stored, so a value that passes a check always fits
its column. Limits of ``Text`` columns are ours, not the database's: they keep one row from holding
a megabyte of somebody else's error output or feed markup.
"""

from __future__ import annotations

#: An error kept for ops to read (a batch's, an event's, a source's last error).
ERROR_TEXT = 2000
#: One rejected webhook event, as the webhook's answer reports it.
WEBHOOK_REJECTION = 300
#: SendGrid's ``sg_event_id`` and ``event`` as stored.
WEBHOOK_EVENT_ID = 128
WEBHOOK_EVENT = 32
#: A clicked link as the engagement report counts it (personal tokens taken out).
CLICKED_URL = 500
#: What an editor says an outgoing webhook endpoint is for.
HOOK_DESCRIPTION = 200
#: Rejected events listed on a stored webhook batch.
WEBHOOK_REJECTIONS_KEPT = 50

#: Any address a person or a feed gives: homepages, feed and evidence URLs.
URL = 2048
#: 64 characters of local part, the @ and 255 of domain (RFC 3696, errata 1690).
EMAIL = 320

#: A tool's facts, as editors correct them.
TOOL_NAME = 300
VENDOR = 200
CATEGORY = 100
TAGLINE = 300
ENTRY_PRICE = 100
#: A tool's description, on several lines: a few paragraphs, not a page (a ``Text`` column).
DESCRIPTION = 5000
#: A release's version tag.
VERSION = 100
#: A key a tool is known by (``github:owner/repo``, ``url:…``).
TOOL_KEY = 500

#: What a feed says about itself and its entries.
SOURCE_TITLE = 500
ENTRY_GUID = 1024
ENTRY_AUTHOR = 500
#: A sighting of a tool: the entry's title and the start of its summary.
EVIDENCE_TITLE = 2000
EVIDENCE_SNIPPET = 500

#: The panel: a seat's lens and a reviewer's quote.
LENS = 50
QUOTE = 1000

#: Why an editor rejected a candidate.
REJECT_REASON = 1000

#: A comparison's headline and the editor's note on it.
HEADLINE = 300
EDITOR_NOTE = 2000

#: A week's label (``2026-W48``) and a digest section's id (``comparison-12``), as forms name them.
WEEK_LABEL = 16
SECTION_ID = 64
#: One of a few named options a form posts: an action, a call, a kind of source.
CHOICE = 32
#: A password as typed: far past any passphrase, short of making its hash a chore.
PASSWORD = 1024

#: A digest's subject line, preheader and intro note.
SUBJECT = 300
PREHEADER = 300
DIGEST_INTRO = 2000


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters (unchanged when it is shorter)."""
    return text[:limit]

#: The largest row id: PostgreSQL's ``integer`` holds -2^31..2^31-1 ("Numeric Types", table 8.2) and
#: ids start at 1; SQLite's 64-bit rowid holds more, so the narrower range fits both.
ROW_ID_MAX = 2**31 - 1
