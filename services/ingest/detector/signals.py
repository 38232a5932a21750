"""Rule signals: what a reader sees in an entry that says "launch" or "not a launch", each with the
words an editor can check. They are features of the model, which weighs them; none decides alone.

The phrase lists are read off vendors' feeds (launch verbs, newsroom genres, status pages); the
structural ones follow the source: a GitHub release tag, a Hub model, a bare-version changelog item.
Two signals pool others (``LAUNCH_SHAPES``, ``RELEASE_SHAPES``): each way of telling a launch is
rare in any one feed, so a weight learned for "any of them" still reaches a feed that tells its
launches in a way no other feed does.
An entry is read once (``read``): the rule signals, the features and ``detect``'s shapes share that
``Reading``.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from services.core.domain import ParsedEntry, SourceFacts
from services.ingest.detector import keys, names, versions

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
#: A customer story's result ("cuts onboarding time by 55%", "cut support costs by 40%").
RESULT_FIGURE = re.compile(r"\bby\s+\d+(?:\.\d+)?\s?%")
#: A title that opens with a proper name carrying a version ("Helix 3 brings …", "Stratus 2: a model for …"):
#: at least one word before the number, so a count ("5 new ways to …") is not a name (``opens_with_name``).
LEADING_NAME = re.compile(r"^((?:[\w][\w.+-]*\s+){1,3})v?\d{1,3}(?:\.\d+)*[a-z]?\b(?!\s*%)")
#: An English verb in -ing opening a headline ("Improving …", "Scaling …"): an essay, not a name.
GERUND = re.compile(r"^[A-Za-z]{4,}ing$")
QUESTION = re.compile(r"\?\s*$")
VERSION_IN_NAME = re.compile(r"(?<![#\d])\b\d{1,3}(?:\.\d+)*[a-z]?\b|[A-Za-z]\d+(?:\.\d+)+")
CHANGELOG = re.compile(r"change ?log|release[- ]notes|/releases\b", re.IGNORECASE)
STATUS_HOST = re.compile(r"^status\.|statuspage|incident", re.IGNORECASE)
#: A file suffix on a page's address ("agents.html").
ADDRESS_SUFFIX = re.compile(r"\.(?:s?html?|php|aspx?)$", re.IGNORECASE)
HUB_COPY = re.compile(r"[-_.](?:gguf|awq|gptq|mlx|exl2|fp8|int[48]|bnb|[q]\d(?:_k(?:_[msl])?)?|\d+bit|quantized)\b.*$",
                      re.IGNORECASE)


#: The signals that each tell a launch in one way vendors write it. Each alone is rare in any one
#: feed, so ``launch_shape`` (any of them) is a signal too: the model learns one weight from all of
#: them, which a feed whose way no other feed shares still gets.
LAUNCH_SHAPES = ("launch_phrase", "opens_with_name", "named_address")
#: Likewise the shapes of a source whose items are releases: a release page, a changelog item.
RELEASE_SHAPES = ("github_release", "bare_version", "changelog_entry")


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


def opens_with_name(title: str) -> bool:
    """Whether ``title`` opens with a versioned proper name ("Kestrel 2 brings …", "Ήλιος 2 …"):
    one to three words, none starting with a lower-case letter and the first not a verb in -ing,
    then a version number that is not a percentage. "7 new ways …" (a count), "Отчёт о сбое 3
    марта" (a date) and "Improving Kestrel 2's safety checks" (an essay) do not."""
    match = LEADING_NAME.match(title)
    if not match:
        return False
    words = match.group(1).split()
    return not GERUND.match(words[0]) and not any(w[:1].islower() for w in words)


def address_names(link: str | None, title: str, named: list[str]) -> str | None:
    """The name of ``named`` that the entry's page is named for, else None.

    Publishers give a launch page the product's own address ("/blog/quill-canvas" for "Bring your
    notes to life with Quill Canvas", "/news/ledger" for "Ledger for teams that close the books"),
    while an article's address repeats or shortens its headline, often behind a date. So: the last
    path segment of ``link``, read as words (``keys.normalized_name``), is the name's words run
    together ("nova25-mini" for "Nova2.5-Mini"), with at most one more word before or after it
    ("lumen-sketches", "atlas-preview"). ``title`` being only the name says nothing: then the
    address is the headline.
    """
    segment = unquote(urlsplit(link or "").path.rstrip("/").rpartition("/")[2])
    address = [w for w in keys.normalized_name(ADDRESS_SUFFIX.sub("", segment)).split("-") if w]
    if not address:
        return None
    spans = {"".join(address), "".join(address[1:]), "".join(address[:-1])} - {""}  # all words, or all but one
    for name in named:
        run = keys.normalized_name(name).replace("-", "")
        if run in spans and run != keys.normalized_name(title).replace("-", ""):
            return name
    return None


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
    X"), or the model a feature ships on ("Remote agents in App. Powered by X 3.5."); None when it
    tells none. One signal for all of them: each alone is rare in any one feed, and the model learns
    one weight from all of them."""
    lead = names.LEAD.match(title)
    if lead:
        return lead.group(0).strip(" :,")
    powered = names.POWERED_BY.search(title)
    if powered:
        return powered.group(0).strip(" .")
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
    noise = NOISE.search(title) or RESULT_FIGURE.search(title)
    if noise:
        found.append(Signal("newsy", f"title reads like news or an essay ({noise.group(0)!r})"))
    if QUESTION.search(title):
        found.append(Signal("question", "title is a question"))
    if STATUS_HOST.search(urlsplit(entry.link or source.url or "").hostname or ""):
        found.append(Signal("status_page", "from a status page"))
    named = reading.names
    if any(VERSION_IN_NAME.search(n) for n in named) and not (release or bare):
        found.append(Signal("versioned_name", "the name carries a version"))
    if named and not (release or bare) and lead is None and opens_with_name(title):
        found.append(Signal("opens_with_name", f"title opens with the name {named[0]!r}"))
    if len(named) > 1:
        found.append(Signal("several_names", f"names {len(named)} tools"))
    addressed = None if (release or reading.hub) else address_names(entry.link, title, named)
    if addressed:
        found.append(Signal("named_address", f"its page is named for {addressed!r}"))
    shapes = sum(s.name in LAUNCH_SHAPES for s in found)
    if shapes:
        found.append(Signal("launch_shape", "shaped like a launch" + (f" in {shapes} ways" if shapes > 1 else "")))
    if any(s.name in RELEASE_SHAPES for s in found):
        found.append(Signal("release_shape", "shaped like an item of a release history"))
    if reading.repositories:
        found.append(Signal("links_repository", f"links to {reading.repositories[0].split(':', 1)[1]}"))
    return found
