"""Score an entry as "a new tool, model or release" and say why, in words an editor can check.

Canonical keys let the same tool seen in several places resolve to one candidate: a GitHub
repository (``github:owner/repo``), a Hub repository (``hf:org/model``), a normalized URL without
tracking parameters (``url:…``), and the normalized product name (``name:…``, also matched fuzzily
by the pipeline). A blog post that links to a repository carries that repository's key too.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from services.core.domain import Detection, ParsedEntry

GITHUB_RELEASE = re.compile(r"^https?://github\.com/([\w.-]+)/([\w.-]+)/releases/tag/([^/?#]+)", re.IGNORECASE)
HUB_PATHS_NOT_MODELS = ("blog", "docs", "spaces", "datasets", "papers", "learn", "api", "collections", "organizations",
                        "settings", "join", "login", "pricing", "models", "tasks")
HF_REPO = re.compile(r"^https?://huggingface\.co/([\w.-]+)/([\w.-]+)/?$", re.IGNORECASE)
LINKED_GITHUB = re.compile(r"https?://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?(?=[/\"'#?\s<]|$)", re.IGNORECASE)
LINKED_HUB = re.compile(r"https?://huggingface\.co/([\w.-]+)/([\w.-]+)(?=[/\"'#?\s<]|$)", re.IGNORECASE)
GITHUB_NOT_REPOS = {"orgs", "sponsors", "features", "topics", "marketplace", "settings", "about", "site", "login"}
PRERELEASE = re.compile(
    r"(?:[.\-_+]?(?:rc|alpha|beta|dev|preview|pre|nightly|canary)[.\-_]?\d*\b)|(?:\d(?:a|b|rc)\d+$)", re.IGNORECASE
)
LEADING_PHRASE = re.compile(
    r"^(?:introducing|announcing|meet|welcome(?!\s+to\b)|welcoming|launching|releasing|unveiling|say hello to)\s+",
    re.IGNORECASE,
)
LAUNCH_PHRASE = re.compile(
    r"\b(?:is now available|now available|is available|is now generally available|generally available|is here"
    r"|is live|now live|now in (?:public )?(?:preview|beta)|launch(?:es|ed|ing)|releas(?:es|ed|ing)"
    r"|open[- ]sourc(?:es|ing|ed)|debuts?|rolls? out|ships)\b",
    re.IGNORECASE,
)
NOISE = re.compile(
    r"\b(?:incident|outage|elevated errors?|degraded|resolved|investigating|maintenance|hiring|podcast|webinar"
    r"|case study|how we|lessons|interview|recap|roundup|this week|weekly|newsletter|issue \d+|the batch"
    r"|customers?|partner(?:s|ship)? with|event|conference|summit|tips|guide to|tutorial|vs\.?|versus"
    r"|postmortem|post-mortem|deprecat\w+|sunset\w*|pricing update|policy|research paper)\b",
    re.IGNORECASE,
)
VERSION_IN_TITLE = re.compile(r"(?:\bv?\d+(?:\.\d+)+\b|\b[A-Za-z][\w-]*-?\d+(?:\.\d+)*[a-z]?\b)")
GLUED_DATE = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}(?:[A-Z][a-z]+(?=[A-Z]))?")
WHERE_SUFFIX = re.compile(
    r"\s+(?:to|on|in|for)\s+(?:the\s+)?(?:hub|hugging ?face|github|vertex ai|bedrock|azure(?: ai)?|the api|api"
    r"|everyone|developers|enterprises?)\b.*$",
    re.IGNORECASE,
)
TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|ref|ref_src|source|igshid|_hs\w+|spm)$",
                      re.IGNORECASE)


def normalized_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def normalized_url(url: str) -> str:
    """Scheme-less, ``www.``-less, lower-case host, no tracking parameters, fragment or trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/") or "/"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)))
    return urlunsplit(("", host, path, query, "")).lstrip("/")


def is_prerelease(tag: str) -> bool:
    return bool(PRERELEASE.search(tag))


def linked_repositories(html: str) -> list[str]:
    """Keys of the GitHub and Hub repositories an entry links to, in order of appearance."""
    keys = [f"github:{o.lower()}/{r.lower()}" for o, r in LINKED_GITHUB.findall(html) if o.lower() not in GITHUB_NOT_REPOS]
    keys += [f"hf:{o.lower()}/{r.lower()}" for o, r in LINKED_HUB.findall(html) if o.lower() not in HUB_PATHS_NOT_MODELS]
    return list(dict.fromkeys(keys))


def _github(entry: ParsedEntry) -> Detection | None:
    match = GITHUB_RELEASE.match(entry.link or "")
    if not match:
        return None
    owner, repo, tag_in_link = match.groups()
    tag = entry.version or tag_in_link
    reasons = [f"GitHub release {tag}"]
    score = 0.9
    if is_prerelease(tag):
        reasons.append(f"pre-release tag {tag}")
        score = 0.55
    return Detection(score=score, reasons=tuple(reasons), name=repo, vendor=owner,
                     homepage=f"https://github.com/{owner}/{repo}", version=tag[:100],
                     key=f"github:{owner.lower()}/{repo.lower()}")


def _hub_model(entry: ParsedEntry) -> Detection | None:
    match = HF_REPO.match(entry.link or "")
    if not match or match.group(1).lower() in HUB_PATHS_NOT_MODELS:
        return None
    owner, repo = match.groups()
    created = entry.published_at.date().isoformat() if entry.published_at else "at an unknown date"
    reasons = [f"Hub model created {created}"]
    if entry.summary:
        reasons.append(f"Hub says: {entry.summary[:80]}")
    return Detection(score=0.85, reasons=tuple(reasons), name=repo, vendor=owner,
                     homepage=f"https://huggingface.co/{owner}/{repo}", key=f"hf:{owner.lower()}/{repo.lower()}")


def product_name(title: str) -> str:
    """The product an announcement names: the words after "Introducing", or before "is now available"."""
    title = GLUED_DATE.sub("", title).strip()
    name = LEADING_PHRASE.sub("", title)
    if name == title:
        launch = LAUNCH_PHRASE.search(title)
        if launch and launch.start() > 0:
            before, after = title[: launch.start()].strip(" -–—:,"), title[launch.end():].strip(" -–—:,")
            # "Acme launches Widget 2" names the product after the verb; "Widget 2 is now available" before it
            name = after if after and launch.group(0).lower().startswith(("launch", "releas", "open", "debut", "roll", "ship")) else before
    name = re.split(r"\s*[:|–—]\s*|\s+-\s+|[,.!?](?:\s|$)", name, maxsplit=1)[0].strip()
    name = re.sub(r"^(?:the|our|a|an)\s+", "", name, flags=re.IGNORECASE)
    name = WHERE_SUFFIX.sub("", name)
    return (name or title)[:300]


def _announcement(entry: ParsedEntry) -> Detection:
    title = GLUED_DATE.sub("", entry.title).strip()
    reasons: list[str] = []
    score = 0.1
    lead = LEADING_PHRASE.match(title)
    launch = LAUNCH_PHRASE.search(title)
    if lead:
        score += 0.6
        reasons.append(f"title says {lead.group(0).strip()!r}")
    elif launch:
        score += 0.45
        reasons.append(f"title says {launch.group(0).strip()!r}")
    noise = NOISE.search(title)
    if noise:
        score -= 0.5
        reasons.append(f"title reads like news, not a launch ({noise.group(0)!r})")
    name = product_name(title)
    if VERSION_IN_TITLE.search(name) and (lead or launch):
        score += 0.15
        reasons.append("the product name carries a version")
    repositories = linked_repositories(entry.summary)
    if repositories and (lead or launch):
        score += 0.1
        reasons.append(f"links to {repositories[0].split(':', 1)[1]}")
    host = urlsplit(entry.link or "").hostname or ""
    vendor = host.removeprefix("www.").split(".")[0] or None
    aliases = [*repositories[:3]]
    if entry.link:
        aliases.append(f"url:{normalized_url(entry.link)}")
    return Detection(score=round(max(0.0, min(score, 1.0)), 2), reasons=tuple(reasons) or ("no release signal",),
                     name=name, vendor=vendor, homepage=entry.link, key=f"name:{normalized_name(name)}",
                     aliases=tuple(aliases))


def detect(entry: ParsedEntry) -> Detection:
    return _github(entry) or _hub_model(entry) or _announcement(entry)
