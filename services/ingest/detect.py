"""Detect: score an entry as "a new tool, model or release" and name each tool it speaks of.

The score comes from the trained model (``detector.model``) over the entry's features; the reasons
are its strongest signals. The names and keys come from the entry's shape:

- a GitHub release is an update of ``github:owner/repo``, named after the repository;
- a Hub model is new, keyed ``hf:org/model``; a quantized or re-uploaded copy
  (``someone/<Model>-GGUF``, or a ``base_model:`` tag) is evidence for the model it copies;
- an entry of a changelog (a bare-version item, an item on the changelog's own pages, any item
  once the source is tied to a tool) is an update of the product the source is about, or of the
  tool it is tied to, also keyed ``release:<name>@<version>`` as the GitHub release of that version is;
- any other entry names the tools its title announces (``detector.names``), one Detection each,
  keyed by name, with the repositories it links to and its URL as further keys.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from services.core import limits
from services.core.domain import Detection, ParsedEntry, SourceFacts
from services.ingest.detector import keys, names
from services.ingest.detector.features import features
from services.ingest.detector.model import Model, current_model
from services.ingest.detector.signals import Reading, github_release, read

BASE_MODEL_TAG = re.compile(r"^base_model:(?:(?:quantized|finetune|adapter|merge):)?([\w.-]+/[\w.-]+)$")


def detect(entry: ParsedEntry, source: SourceFacts | None = None, model: Model | None = None,
           threshold: float | None = None) -> list[Detection]:
    """One Detection per tool ``entry`` names (at least one), all with the entry's score and reasons.

    ``model`` defaults to the shipped one and ``threshold`` to that model's own; ``source`` says
    what kind of source the entry came from (when not given: a GitHub releases source for a link to
    a release page, else a plain feed).
    """
    model = model or current_model()
    source = source or SourceFacts(kind="github-releases" if github_release(entry.link) else "feed")
    reading = read(entry, source)
    found, signals = features(reading, model.families)
    score = round(model.score(found), 3)
    common = {"score": score, "reasons": model.reasons(found, signals), "model_version": model.version,
              "threshold": model.threshold if threshold is None else threshold}
    shaped = _github(reading) or _hub(reading) or _changelog(reading) or _announcement(reading)
    every_name = tuple(str(d["name"]) for d in shaped)
    return [Detection(**common, **d, names=every_name) for d in shaped]  # type: ignore[arg-type]


def _github(reading: Reading) -> list[dict[str, object]] | None:
    if not reading.release:
        return None
    owner, repo, tag = reading.release
    version = limits.clip(reading.entry.version or tag, limits.VERSION)
    return [{"name": repo, "vendor": owner, "homepage": f"https://github.com/{owner}/{repo}", "version": version,
             "key": f"github:{owner.lower()}/{repo.lower()}", "kind": "update",
             "aliases": tuple(k for k in (keys.release_key(repo, version),) if k)}]


def _hub(reading: Reading) -> list[dict[str, object]] | None:
    if not reading.hub or reading.source.kind != "hf-models":
        return None
    owner, model = reading.hub
    based_on = next((m.group(1) for m in map(BASE_MODEL_TAG.match, reading.entry.tags) if m), None)
    original = reading.original
    if based_on or original:  # a copy: evidence for the model it copies, under that model's keys
        name = based_on.split("/")[1] if based_on else original
        key = f"hf:{based_on.lower()}" if based_on else keys.name_key(name or "")
        return [{"name": limits.clip(name or "", limits.TOOL_NAME),
                 "vendor": based_on.split("/")[0] if based_on else None,
                 "homepage": f"https://huggingface.co/{based_on}" if based_on else None, "key": key,
                 "aliases": tuple(k for k in (keys.name_key(name or ""), f"hf:{owner.lower()}/{model.lower()}") if k)}]
    return [{"name": limits.clip(model, limits.TOOL_NAME), "vendor": owner,
             "homepage": f"https://huggingface.co/{owner}/{model}",
             "key": f"hf:{owner.lower()}/{model.lower()}", "aliases": tuple(k for k in (keys.name_key(model),) if k)}]


def _changelog(reading: Reading) -> list[dict[str, object]] | None:
    """An entry of a changelog (``signals.changelog_entry``) is an update of its product, or of the
    tool the source is tied to; with a version, also keyed as that release of that name, so the
    GitHub release of the same version lands on the same candidate in either order."""
    if not reading.changelog:
        return None
    entry, source = reading.entry, reading.source
    version = limits.clip(reading.bare, limits.VERSION) if reading.bare else None
    product = _product(source) or (None if source.url else _host_word(entry.link))
    key = source.tool_key or (keys.name_key(product) if product else None)
    if not product or not key:
        return None
    tied_name = key.split(":", 1)[1].rsplit("/", 1)[-1] if source.tool_key else product
    aliases = tuple(dict.fromkeys(k for k in (keys.release_key(tied_name, version),
                                              keys.release_key(product, version)) if k))
    return [{"name": limits.clip(tied_name, limits.TOOL_NAME), "homepage": entry.link, "version": version, "key": key,
             "kind": "update", "aliases": aliases}]


def _announcement(reading: Reading) -> list[dict[str, object]]:
    entry, repositories = reading.entry, reading.repositories
    found = reading.names or [entry.title.strip() or (entry.link or "untitled")]
    vendor = _host_word(entry.link)
    shaped = []
    for name in found:
        aliases = list(repositories[:3]) if len(found) == 1 else []
        if entry.link and len(found) == 1:
            aliases.append(f"url:{keys.normalized_url(entry.link)}")
        shaped.append({"name": limits.clip(name, limits.TOOL_NAME), "vendor": vendor, "homepage": entry.link,
                       "key": keys.name_key(name), "aliases": tuple(aliases), "kind": "new"})
    return shaped


@functools.lru_cache(maxsize=1024)
def _product(source: SourceFacts) -> str | None:
    """The product a changelog source is about: named in its title, else its host's first word;
    kept per source (each of its entries asks)."""
    return names.source_product(source.title) or _host_word(source.url)


def _host_word(url: str | None) -> str | None:
    host = (urlsplit(url or "").hostname or "").removeprefix("www.")
    return host.split(".")[0] or None
