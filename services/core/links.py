"""The paths of public pages and of signed per-subscriber links, and their absolute URLs.

Each path is written here once (the URL map lives in design.md): the web routes serve these paths,
and the links in mail, feeds and the fast signer of ``services.delivery.link_signing`` point at them.
"""

from __future__ import annotations

from services.core.settings import Settings
from services.core.slugs import slugify
from services.core.tokens import sign

#: Token purposes: a token signed for one purpose is refused for another.
UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"
VOTE = "vote"
#: One subscriber's votes on the tools one digest shows (``ballot_vote``).
BALLOT = "ballot"
CONFIRM = "confirm"

#: Paths, each followed by the slug, week or token it names (``ARCHIVE_PATH`` and
#: ``SUBSCRIBE_PATH`` also stand alone; ``SEARCH_PATH`` takes ``?q=``).
COMPARISON_PATH = "/c/"
TOOL_PATH = "/t/"
CATEGORY_PATH = "/category/"
SEARCH_PATH = "/search"
#: Followed by ``.atom`` or ``.json`` (JSON Feed), like ``ARCHIVE_PATH``'s feeds.
COMPARISONS_FEED_PATH = "/comparisons"
SITEMAP_PATH = "/sitemap.xml"
#: One page of a sitemap index, with its number from 1: ``/sitemap-1.xml``.
SITEMAP_PAGE_PATH = "/sitemap-{page}.xml"
ROBOTS_PATH = "/robots.txt"
ARCHIVE_PATH = "/archive"
SUBSCRIBE_PATH = "/subscribe"
CONFIRM_PATH = "/confirm/"
UNSUBSCRIBE_PATH = "/unsubscribe/"
PREFERENCES_PATH = "/prefs/"
VOTE_PATH = "/vote/"


def index(settings: Settings) -> str:
    return f"{settings.public_url}/"


def comparison(settings: Settings, slug: str) -> str:
    return f"{settings.public_url}{COMPARISON_PATH}{slug}"


def tool(settings: Settings, slug: str) -> str:
    return f"{settings.public_url}{TOOL_PATH}{slug}"


def category_path(name: str) -> str:
    """The path of the category ``name`` (its slug: "Developer Tools" is ``/category/developer-tools``)."""
    return f"{CATEGORY_PATH}{slugify(name)}"


def category(settings: Settings, name: str) -> str:
    return f"{settings.public_url}{category_path(name)}"


def archive(settings: Settings, week: str | None = None) -> str:
    """The archive's list of sent digests, or with ``week`` (``YYYY-Www``) that week's digest."""
    return f"{settings.public_url}{ARCHIVE_PATH}" + (f"/{week}" if week else "")


def subscribe(settings: Settings) -> str:
    return f"{settings.public_url}{SUBSCRIBE_PATH}"


def unsubscribe(settings: Settings, subscriber_id: int) -> str:
    return f"{settings.public_url}{UNSUBSCRIBE_PATH}{sign(settings.secret(), UNSUBSCRIBE, subscriber_id)}"


def preferences(settings: Settings, subscriber_id: int) -> str:
    return f"{settings.public_url}{PREFERENCES_PATH}{sign(settings.secret(), PREFERENCES, subscriber_id)}"


def vote(settings: Settings, subscriber_id: int, tool_id: int, call: str) -> str:
    token = sign(settings.secret(), VOTE, [subscriber_id, tool_id, call])
    return f"{settings.public_url}{VOTE_PATH}{token}"


def ballot_vote(settings: Settings, subscriber_id: int, digest_id: int, tool_id: int, call: str) -> str:
    """A digest's vote link: ``/vote/{token}/{tool_id}/{call}``, the token signed for ``[subscriber_id, digest_id]``.

    One token serves every vote link of a recipient's mail (the digest mints it once per recipient); the
    web side takes the vote only for a tool that digest shows. ``vote`` links (a token per tool and call)
    of digests sent before keep working.
    """
    token = sign(settings.secret(), BALLOT, [subscriber_id, digest_id])
    return f"{settings.public_url}{VOTE_PATH}{token}/{tool_id}/{call}"


def confirm(settings: Settings, subscriber_id: int) -> str:
    return f"{settings.public_url}{CONFIRM_PATH}{sign(settings.secret(), CONFIRM, subscriber_id)}"
