"""Canonical keys: the same tool seen in several places resolves to one candidate by these.

``github:owner/repo`` and ``hf:org/model`` come from repositories, ``url:…`` from a normalized URL
and ``name:…`` from a normalized product name; ``release:<name>@<version>`` names one release of a
product, so a changelog item and the GitHub release of the same version meet whichever comes first. Names are Unicode-aware: NFKC-normalized and
case-folded, letters of any script kept (Cyrillic, CJK, Greek), every run of other characters one
hyphen. A name with no letter or digit has no key: an empty key is never made, so never matched.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from services.ingest.detector.versions import plain_version

NOT_A_LETTER_OR_DIGIT = re.compile(r"[\W_]+")
TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|ref|ref_src|source|igshid|_hs\w+|spm)$",
                      re.IGNORECASE)


def normalized_name(name: str) -> str:
    """``name`` NFKC-normalized, case-folded, with runs of non-letters/digits as one hyphen ('' when none).

    "Gemini 3.7 Flash" → "gemini-3-7-flash"; "ГигаЧат 3" → "гигачат-3"; "通义千问 3.5" → "通义千问-3-5".
    """
    return NOT_A_LETTER_OR_DIGIT.sub("-", unicodedata.normalize("NFKC", name).casefold()).strip("-")


def name_key(name: str) -> str | None:
    """``name:<normalized name>``, or None when the name has no letter or digit."""
    normalized = normalized_name(name)
    return f"name:{normalized}" if normalized else None


def release_key(name: str, version: str | None) -> str | None:
    """``release:<normalized name>@<version>`` ("claude-code", "v2.1.238" → "release:claude-code@2.1.238"),
    or None without a version or a name with no letter or digit. The version loses its tag prefix
    (``versions.plain_version``), so "v2.1.238" and "2.1.238" are one release."""
    normalized = normalized_name(name)
    plain = plain_version(version) if version else ""
    return f"release:{normalized}@{plain}" if normalized and plain else None


def comparable_name(name: str) -> str:
    """The name with case and punctuation ignored (how the benchmark compares names)."""
    return normalized_name(name).replace("-", "")


def normalized_url(url: str) -> str:
    """Scheme-less, ``www.``-less, lower-case host, no tracking parameters, fragment or trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/") or "/"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)))
    return urlunsplit(("", host, path, query, "")).lstrip("/")
