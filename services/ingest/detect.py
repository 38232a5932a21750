"""Score an entry as "a new tool, model or release" and say why, in words an editor can check.

Canonical keys let the same tool seen in several places resolve to one candidate: a GitHub
repository, a Hugging Face repository, or else the normalized product name.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from services.core.domain import Detection, ParsedEntry

GITHUB_RELEASE = re.compile(r"^https?://github\.com/([\w.-]+)/([\w.-]+)/releases/tag/([^/?#]+)", re.IGNORECASE)
HF_REPO = re.compile(r"^https?://huggingface\.co/(?!blog/|docs/|spaces/|datasets/)([\w.-]+)/([\w.-]+)/?$", re.IGNORECASE)
PRERELEASE = re.compile(r"(?:rc|alpha|beta|dev|preview|pre)[.\-]?\d*$", re.IGNORECASE)
LAUNCH_WORDS = re.compile(
    r"^(introducing|announcing|meet|welcome|launching|releasing)\s+|\b(is now available|now available|launch(es|ed)?|releases?d?|open[- ]sourc(es|ing|ed)|general availability)\b",
    re.IGNORECASE,
)
LEADING_PHRASE = re.compile(r"^(introducing|announcing|meet|welcome|launching|releasing)\s+", re.IGNORECASE)
NOISE_WORDS = re.compile(r"\b(incident|outage|elevated errors|degraded|hiring|podcast|webinar|case study|how we|lessons)\b", re.IGNORECASE)


def normalized_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _github(entry: ParsedEntry) -> Detection | None:
    match = GITHUB_RELEASE.match(entry.link or "")
    if not match:
        return None
    owner, repo, tag = match.groups()
    reasons = [f"GitHub release {tag}"]
    score = 0.9
    if PRERELEASE.search(tag):
        reasons.append(f"pre-release tag {tag}")
        score = 0.55
    return Detection(score=score, reasons=tuple(reasons), name=repo, vendor=owner,
                     homepage=f"https://github.com/{owner}/{repo}", version=tag,
                     key=f"github:{owner.lower()}/{repo.lower()}")


def _hub_model(entry: ParsedEntry) -> Detection | None:
    match = HF_REPO.match(entry.link or "")
    if not match:
        return None
    owner, repo = match.groups()
    created = entry.published_at.date().isoformat() if entry.published_at else "recently"
    return Detection(score=0.85, reasons=(f"Hub model created {created}",), name=repo, vendor=owner,
                     homepage=f"https://huggingface.co/{owner}/{repo}", key=f"hf:{owner.lower()}/{repo.lower()}")


def _announcement(entry: ParsedEntry) -> Detection:
    title = entry.title
    reasons: list[str] = []
    score = 0.1
    launch = LAUNCH_WORDS.search(title)
    if launch:
        score += 0.6
        reasons.append(f"title says {launch.group(0).strip()!r}")
    if NOISE_WORDS.search(title):
        score -= 0.5
        reasons.append("title reads like an incident or an essay")
    if re.search(r"\b\d+(\.\d+)+\b|\bv\d+\b", title):
        score += 0.1
        reasons.append("title names a version")
    name = LEADING_PHRASE.sub("", title).split(":")[0].split(" – ")[0].strip() or title
    host = urlsplit(entry.link or "").hostname or ""
    vendor = host.removeprefix("www.").split(".")[0] or None
    return Detection(score=max(0.0, min(score, 1.0)), reasons=tuple(reasons) or ("no release signal",),
                     name=name[:300], vendor=vendor, homepage=entry.link, key=f"name:{normalized_name(name)}")


def detect(entry: ParsedEntry) -> Detection:
    return _github(entry) or _hub_model(entry) or _announcement(entry)
