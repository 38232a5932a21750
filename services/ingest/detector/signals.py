"""Rule signals: what a reader sees in an entry that says "launch" or "not a launch", each with the
words an editor can check. They are features of the model, which weighs them; none decides alone.

The phrase lists are read off vendors' feeds (launch verbs, newsroom genres, status pages); the
structural ones follow the source: a GitHub release tag, a Hub model, a bare-version changelog item.
An entry is read once (``read``): the rule signals, the features and ``detect``'s shapes share that
``Reading``.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple
from urllib.parse import urlsplit

from services.core.domain import ParsedEntry, SourceFacts
from services.ingest.detector import names, versions

GITHUB_RELEASE = re.compile(r"^https?://github\.com/([\w.-]+)/([\w.-]+)/releases/tag/([^/?#]+)", re.IGNORECASE)
HUB_PATHS_NOT_MODELS = ("blog", "docs", "spaces", "datasets", "papers", "learn", "api", "collections", "organizations",
                        "settings", "join", "login", "pricing", "models", "tasks")
HF_REPO = re.compile(r"^https?://huggingface\.co/([\w.-]+)/([\w.-]+)/?$", re.IGNORECASE)
LINKED_GITHUB = re.compile(r"https?://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?(?=[/\"'#?\s<]|$)", re.IGNORECASE)
LINKED_HUB = re.compile(r"https?://huggingface\.co/([\w.-]+)/([\w.-]+)(?=[/\"'#?\s<]|$)", re.IGNORECASE)
GITHUB_NOT_REPOS = {"orgs", "sponsors", "features", "topics", "marketplace", "settings", "about", "site", "login"}
NOISE = re.compile(
    r"\b(?:incident|outage|elevated errors?|errors?|degraded|disruption|resolved|investigating|maintenance|hiring"
    r"|joins?|podcast|webinar|case study|^how\b|how we|how (?:\w+ )?(?:is|are)|lessons|interview|recap|roundup|this week"
    r"|weekly|newsletter|issue \d+|customers?|partner(?:s|ship)?|event|conference|summit|tips|guide to|tutorial"
    r"|vs\.?|versus|postmortem|post-mortem|deprecat\w+|sunset\w*|policy|safeguards?|oversight|research|state of"
    r"|evidence|what changed|observations)\b",
    re.IGNORECASE,
)
#: A title that opens with a proper name carrying a version ("Helix 3 brings …", "Stratus 2: a model for …").
LEADING_NAME = re.compile(r"^(?:[A-Z\w][\w.+-]*\s+){0,3}v?\d{1,3}(?:\.\d+)*[a-z]?\b(?!\s*%)")
QUESTION = re.compile(r"\?\s*$")
VERSION_IN_NAME = re.compile(r"(?<![#\d])\b\d{1,3}(?:\.\d+)*[a-z]?\b|[A-Za-z]\d+(?:\.\d+)+")
CHANGELOG = re.compile(r"change ?log|release[- ]notes|/releases\b", re.IGNORECASE)
STATUS_HOST = re.compile(r"^status\.|statuspage|incident", re.IGNORECASE)
HUB_COPY = re.compile(r"[-_.](?:gguf|awq|gptq|mlx|exl2|fp8|int[48]|bnb|[q]\d(?:_k(?:_[msl])?)?|\d+bit|quantized)\b.*$",
                      re.IGNORECASE)


class Signal(NamedTuple):
    """One rule signal: its feature name and the words an editor reads."""

    name: str
    words: str


def github_release(link: str | None) -> tuple[str, str, str] | None:
    """(owner, repo, tag) of a GitHub release page link, else None."""
    match = GITHUB_RELEASE.match(link or "")
    return (match.group(1), match.group(2), match.group(3)) if match else None


def hub_repo(link: str | None) -> tuple[str, str] | None:
    """(owner, model) of a Hub model page link, else None."""
    match = HF_REPO.match(link or "")
    if not match or match.group(1).lower() in HUB_PATHS_NOT_MODELS:
        return None
    return match.group(1), match.group(2)


def hub_original(model: str) -> str | None:
    """The model a quantized or re-uploaded copy stands for ("Qwen3-8B-GGUF" → "Qwen3-8B"), else None."""
    stripped = HUB_COPY.sub("", model)
    return stripped if stripped and stripped != model else None


def linked_repositories(html: str) -> list[str]:
    """Keys of the GitHub and Hub repositories an entry links to, in order of appearance."""
    lowered = html.lower()
    if "github.com/" not in lowered and "huggingface.co/" not in lowered:
        return []
    keys = [f"github:{o.lower()}/{r.lower()}" for o, r in LINKED_GITHUB.findall(html) if o.lower() not in GITHUB_NOT_REPOS]
    keys += [f"hf:{o.lower()}/{r.lower()}" for o, r in LINKED_HUB.findall(html) if o.lower() not in HUB_PATHS_NOT_MODELS]
    return list(dict.fromkeys(keys))


@functools.lru_cache(maxsize=1024)
def is_changelog(source: SourceFacts) -> bool:
    """A source whose items are releases of one product (its URL or title says changelog, or it is tied).
    Kept per source (it is asked for each of its entries)."""
    said = bool(source.tool_key) or bool(CHANGELOG.search(f"{source.url or ''} {source.title or ''}"))
    return said and source.kind != "github-releases"


def changelog_entry(entry: ParsedEntry, source: SourceFacts, version: str | None) -> bool:
    """Whether ``entry`` is an entry of a changelog: the source is one (``is_changelog``) and the item
    is shaped like a changelog entry — titled with a bare version (``version``, its
    ``versions.item_version``), linking into the changelog's own pages ("/changelog#2-1-238",
    "/changelog/origin-code-hosting"), or from a tied source.

    A source that only calls itself a changelog in its title while its items are blog posts or notes
    does not make each of them a release.
    """
    if not is_changelog(source):
        return False
    return bool(source.tool_key or version or CHANGELOG.search(urlsplit(entry.link or "").path))


class Reading(NamedTuple):
    """One entry from one source as the detector reads it, once per entry (``read``)."""

    entry: ParsedEntry
    source: SourceFacts
    #: The title without a date glued to its front, stripped.
    title: str
    #: (owner, repo, tag) of the GitHub release page it links to (``github_release``), else None.
    release: tuple[str, str, str] | None
    #: (owner, model) of the Hub model page it links to (``hub_repo``), else None.
    hub: tuple[str, str] | None
    #: The model that Hub model is a copy of (``hub_original``), else None.
    original: str | None
    #: The version the title is (``versions.item_version``), else None.
    bare: str | None
    #: Whether it is an entry of a changelog (``changelog_entry``).
    changelog: bool
    #: The tool names the title announces (``names.product_names``).
    names: list[str]
    #: Keys of the repositories its summary links to (``linked_repositories``).
    repositories: list[str]


def read(entry: ParsedEntry, source: SourceFacts) -> Reading:
    """``entry`` from ``source`` read once: every shape the rule signals and ``detect`` look at."""
    title = names.GLUED_DATE.sub("", entry.title).strip()
    hub = hub_repo(entry.link)
    bare = versions.item_version(entry.title)
    return Reading(entry=entry, source=source, title=title, release=github_release(entry.link), hub=hub,
                   original=hub_original(hub[1]) if hub else None, bare=bare,
                   changelog=changelog_entry(entry, source, bare), names=names.product_names(title),
                   repositories=linked_repositories(entry.summary))


def launch_phrase(title: str) -> str | None:
    """The words of ``title`` that tell a launch, in any of the ways vendors write it: a lead phrase
    ("Introducing X"), a launch after the name ("X is now available") or before it ("Acme launches
    X"); None when it tells none. One signal for all three: each alone is rare in any one feed, and
    the model learns one weight from all of them."""
    lead = names.LEAD.match(title)
    if lead:
        return lead.group(0).strip(" :,")
    for pattern in (names.PASSIVE, names.ACTIVE):
        phrase = pattern.search(title)
        if phrase and phrase.start() > 0:
            return phrase.group(0).strip()
    return None


def rule_signals(reading: Reading) -> list[Signal]:
    """The rule signals the entry ``reading`` read shows, in a fixed order."""
    found: list[Signal] = []
    entry, source, title, release = reading.entry, reading.source, reading.title, reading.release
    if release:
        tag = entry.version or release[2]
        found.append(Signal("github_release", f"GitHub release {tag}"))
        if versions.is_prerelease(tag):
            found.append(Signal("prerelease", f"pre-release tag {tag}"))
    if reading.hub and source.kind == "hf-models":
        created = entry.published_at.date().isoformat() if entry.published_at else "at an unknown date"
        found.append(Signal("hub_model", f"Hub model created {created}"))
        if reading.original:
            found.append(Signal("hub_copy", f"a quantized or re-uploaded copy of {reading.original}"))
    bare = reading.bare
    if bare and not release:
        found.append(Signal("bare_version", f"titled with a bare version {bare}"))
        if versions.is_prerelease(bare):
            found.append(Signal("prerelease", f"pre-release version {bare}"))
    if reading.changelog:
        found.append(Signal("changelog_entry", "an entry of the changelog of one product"))
    phrase = launch_phrase(title)
    if phrase:
        found.append(Signal("launch_phrase", f"title says {phrase!r}"))
    lead = names.LEAD.match(title)
    ending = names.WITH_AT_END.search(title)
    if ending and not lead:
        found.append(Signal("with_name", f"title ends on a name: 'with {ending.group(1)}'"))
    if names.POWERED_BY.search(title):
        found.append(Signal("powered_by", "title names what it is powered by"))
    noise = NOISE.search(title)
    if noise:
        found.append(Signal("newsy", f"title reads like news or an essay ({noise.group(0)!r})"))
    if QUESTION.search(title):
        found.append(Signal("question", "title is a question"))
    if STATUS_HOST.search(urlsplit(entry.link or source.url or "").hostname or ""):
        found.append(Signal("status_page", "from a status page"))
    named = reading.names
    if any(VERSION_IN_NAME.search(n) for n in named) and not (release or bare):
        found.append(Signal("versioned_name", "the name carries a version"))
    if named and not (release or bare) and LEADING_NAME.match(title) and lead is None:
        found.append(Signal("opens_with_name", f"title opens with the name {named[0]!r}"))
    if len(named) > 1:
        found.append(Signal("several_names", f"names {len(named)} tools"))
    if reading.repositories:
        found.append(Signal("links_repository", f"links to {reading.repositories[0].split(':', 1)[1]}"))
    return found
