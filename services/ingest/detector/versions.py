"""Release versions: which tags are pre-releases, and which titles are a bare version.

A tag is a pre-release when its SemVer form has a pre-release part (a hyphen after ``X.Y.Z``, as
in ``1.4.0-next.2`` or ``2.0.0-M1``; semver.org §9); a tag that is not SemVer is one when it carries
one of the usual keywords (``nightly``, ``canary``, ``insiders`` …) or when PEP 440 says so
(``3.15.0rc1``, ``0.28.0b2``, ``1.0.dev3``; ``packaging.version``).
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

from services.ingest.detector.names import GLUED_DATE

SEMVER = re.compile(r"^(?:[A-Za-z][\w.-]*?[-_ ])?v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
KEYWORDS = re.compile(r"(?:^|[.\-_+\s])(?:rc|alpha|beta|dev|preview|pre|nightly|canary|snapshot|experimental|insiders"
                      r"|next|edge)(?:[.\-_]?\d*)(?=$|[.\-_+\s])", re.IGNORECASE)
BARE_VERSION = re.compile(r"^[vV]?\d+(?:\.\d+){1,3}(?:[-+.]?[0-9A-Za-z.]+)?$")
PREFIX = re.compile(r"^(?:[A-Za-z][\w-]*?[-_ ]+)?v(?=\d)|^(?:[A-Za-z][\w-]*?[-_ ]+)(?=\d)")


def is_prerelease(tag: str) -> bool:
    """Whether a release tag names a pre-release (see the module docstring for the rules)."""
    tag = tag.strip()
    semver = SEMVER.match(tag)
    if semver:
        return semver.group(4) is not None
    if KEYWORDS.search(tag):
        return True
    try:
        return Version(PREFIX.sub("", tag)).is_prerelease
    except InvalidVersion:
        return False


def bare_version(title: str) -> str | None:
    """The version when a title is nothing but one ("2.1.238", "v3.4.0"), else None; no leading "v"."""
    title = title.strip()
    return title.removeprefix("v").removeprefix("V") if BARE_VERSION.match(title) else None


def item_version(title: str) -> str | None:
    """The version a feed item's title is (``bare_version``) once a date glued to its front is cut
    ("Nov 29, 20262.1.238" → "2.1.238"), else None. The one reading of an item's version: the
    detector's and the store's (which ties a changelog by it)."""
    return bare_version(GLUED_DATE.sub("", title))


def plain_version(tag: str) -> str:
    """A tag without its prefix ("python-v2.9.3" → "2.9.3", "v1.0.0" → "1.0.0"), to compare across sources."""
    return PREFIX.sub("", tag.strip())
