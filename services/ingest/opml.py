"""OPML in and out: read a subscription list other readers export into sources (without fetching
them), and write the sources we watch as one.

Spec: OPML 2.0 (http://opml.org/spec2.opml) — ``outline`` elements with ``type="rss"``, ``xmlUrl``,
``text``/``title``, ``category`` ("/a/b,/c": comma-separated slash-delimited paths). Readers differ:
attribute case (``xmlurl``), missing ``type``, Tiny Tiny RSS's ``ttrss:*`` attributes and its
preferences/labels/filters outlines; listparser reads them all and keeps only what we ask for.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from xml.parsers.expat import ExpatError

import listparser
from defusedxml import DefusedXmlException
from defusedxml.expatbuilder import parseString
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core import limits
from services.core.db.base import utcnow
from services.core.db.models import Source
from services.core.domain import SourceKind
from services.ingest.errors import SourceError
from services.ingest.hub import DEFAULT_ENDPOINT as DEFAULT_HUB_ENDPOINT
from services.ingest.sources import add_source

#: Largest OPML file read, in bytes (a list of tens of thousands of feeds fits well under it).
MAX_OPML_BYTES = 10 * 1024 * 1024
#: How much of a URL over limits.URL characters the report shows.
SHOWN_URL = 80


class OpmlError(SourceError):
    """The file is no OPML document we will read: not XML, declares a DTD or entities, too big."""


@dataclass(frozen=True)
class OpmlFeed:
    """One feed outline: its URL, title (or None) and tags ("AI/Labs" for nested outlines AI > Labs)."""

    url: str
    title: str | None
    tags: list[str]


@dataclass
class ImportReport:
    """What an import did: sources added, URLs watched already, and (url, reason) of outlines refused."""

    added: list[Source] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def read_opml(data: bytes) -> list[OpmlFeed]:
    """The feed outlines of an OPML document, in document order, each URL once.

    ``data`` is untrusted: it is parsed first with defusedxml (no DTD, no entity expansion, no
    external references; prefixes need no namespace declaration, as Tiny Tiny RSS leaves ``ttrss:``
    undeclared), and only then handed, re-serialised as UTF-8, to listparser.
    Only a feed's URL, title, nested outlines and ``category`` attribute are read; other
    attributes are ignored. Raises OpmlError when ``data`` is over MAX_OPML_BYTES, not
    well-formed XML, declares a DTD or entities, or has no ``opml`` root element.
    """
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"the OPML file is {len(data)} bytes; at most {MAX_OPML_BYTES} are read")
    try:
        document = parseString(data, namespaces=False, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise OpmlError(f"refused the OPML file: it declares a DTD or entities ({type(exc).__name__})") from exc
    except ExpatError as exc:
        raise OpmlError(f"not an XML document: {exc}") from exc
    root = document.documentElement.tagName
    if root.rpartition(":")[2].lower() != "opml":
        raise OpmlError(f"not an OPML document: the root element is <{root}>, not <opml>")
    parsed = listparser.parse(document.toxml(encoding="utf-8"))
    return [OpmlFeed(feed.url, limits.clip(feed.title.strip(), limits.SOURCE_TITLE) or None, _tags(feed.categories))
            for feed in parsed.feeds]


def _tags(categories: list[list[str]]) -> list[str]:
    """Each category path once, its parts joined by "/" (listparser's categories are lists of parts)."""
    return list(dict.fromkeys("/".join(path) for path in categories if path))


def import_opml(session: Session, data: bytes, hub_endpoint: str = DEFAULT_HUB_ENDPOINT,
                progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Watch every feed of the OPML document ``data`` not watched yet, as a ``feed`` source with
    its tags; nothing is fetched (each source is checked at its first poll, by the SSRF guard too).

    Each outline is added in a savepoint, so a refused one (a non-http(s) URL, a URL over
    limits.URL characters) is reported in ``failed`` and the rest are still added; a URL already
    watched is reported in ``already``. ``progress(done, total)`` is called after each outline.
    Raises OpmlError when the document itself cannot be read (see read_opml); nothing is added then.
    """
    feeds = read_opml(data)
    report = ImportReport()
    watched = set(session.scalars(select(Source.url)))
    for done, feed in enumerate(feeds, start=1):
        _import_one(session, feed, hub_endpoint, report, watched)
        if progress is not None:
            progress(done, len(feeds))
    return report


def _import_one(session: Session, feed: OpmlFeed, hub_endpoint: str, report: ImportReport,
                watched: set[str]) -> None:
    """Add ``feed`` unless its URL is in ``watched`` (the URLs watched, the ones this import added
    included: it adds the new source's), noting what happened in ``report``."""
    if len(feed.url) > limits.URL:
        report.failed.append((limits.clip(feed.url, SHOWN_URL) + "…", f"the URL is over {limits.URL} characters"))
        return
    if feed.url.strip() in watched:
        report.already.append(feed.url.strip())
        return
    try:
        with session.begin_nested():
            source = add_source(session, feed.url, SourceKind.FEED, feed.title, hub_endpoint)
            source.tags = feed.tags
    except SourceError as exc:
        report.failed.append((feed.url, str(exc)))
        return
    watched.add(source.url)
    report.added.append(source)


def export_opml(session: Session, title: str = "verdicts sources") -> bytes:
    """Every source as an OPML 2.0 document (UTF-8 bytes): one ``type="rss"`` outline per source,
    nested under outlines for its first tag's parts, with every tag in ``category`` ("/a/b,/c").
    """
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(utcnow())
    body = ET.SubElement(opml, "body")
    groups: dict[tuple[str, ...], ET.Element] = {(): body}
    for source in session.scalars(select(Source).order_by(Source.id)):
        parent = _group(groups, tuple(part for part in (source.tags or [""])[0].split("/") if part))
        outline = ET.SubElement(parent, "outline", type="rss", text=source.title or source.url,
                                title=source.title or source.url, xmlUrl=source.url)
        if source.tags:
            outline.set("category", ",".join("/" + tag for tag in source.tags))
    ET.indent(opml)
    return ET.tostring(opml, encoding="utf-8", xml_declaration=True)


def _group(groups: dict[tuple[str, ...], ET.Element], path: tuple[str, ...]) -> ET.Element:
    """The outline for ``path`` (made, with its parents, the first time it is asked for)."""
    if path not in groups:
        groups[path] = ET.SubElement(_group(groups, path[:-1]), "outline", text=path[-1], title=path[-1])
    return groups[path]
