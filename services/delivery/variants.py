"""Digest variants: recipients grouped by their topics, each distinct set of matching sections rendered once.

When a send is cut into batches (``services.delivery.send.start_send``), each recipient's topics pick the
sections they get (``services.core.topics.matching_sections``). Every distinct set of sections that occurs
becomes one ``DigestVariant``: rendered once (the whole set is the digest's own mail, not rendered again),
never once per subscriber; recipients whose topics match no section are counted on a variant with no
section, which is never rendered nor sent. Each batch holds recipients of one variant, since one Mail Send
request carries one content for all its personalizations.

A recipient's variant is fixed when the send is cut; topics changed afterwards apply from the next digest
(an unsubscribe or a suppression still applies at send time).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, select
from sqlalchemy.orm import Session

from services.core.db.models import Digest, DigestVariant, Subscriber
from services.core.settings import Settings
from services.core.topics import matching_sections
from services.mail import digest_mail


def topics_text() -> ColumnElement[str]:
    """A subscriber's topics as the JSON text stored: a grouping key read without parsing each row."""
    return cast(Subscriber.topics, String)


class VariantCutter:
    """The variants of one digest's send, created (and rendered) the first time a recipient needs each.

    ``variant_for`` costs a dict look-up per recipient once their topics were seen; ``finish`` stores how
    many recipients each variant was cut for.
    """

    def __init__(self, session: Session, settings: Settings, digest: Digest) -> None:
        self.session, self.settings, self.digest = session, settings, digest
        self.sections: list[dict[str, Any]] = list(digest.sections or [])
        self._by_topics: dict[str | None, DigestVariant] = {}
        self._by_key: dict[str, DigestVariant] = {}
        self.counts: dict[int, int] = {}

    def variant_for(self, stored_topics: str | None) -> DigestVariant:
        """The variant of a recipient whose ``topics`` column holds ``stored_topics`` (JSON text)."""
        variant = self._by_topics.get(stored_topics)
        if variant is None:
            chosen = matching_sections(self.sections, json.loads(stored_topics or "[]"))
            key = " ".join(chosen)
            variant = self._by_key.get(key) or self._create(chosen, key)
            self._by_topics[stored_topics] = variant
        return variant

    def _create(self, chosen: tuple[str, ...], key: str) -> DigestVariant:
        digest = self.digest
        if not chosen:
            variant = DigestVariant(digest_id=digest.id, key=key, section_ids=[], subject=digest.subject)
        elif len(chosen) == len(self.sections):
            variant = DigestVariant(digest_id=digest.id, key=key, section_ids=list(chosen), subject=digest.subject,
                                    html=digest.html, text=digest.text)
        else:
            rendered = digest_mail.render_selection(
                self.settings, week=digest.week, subject=digest.subject, preheader=digest.preheader,
                intro=digest.intro, sections=self.sections, chosen=chosen)
            variant = DigestVariant(digest_id=digest.id, key=key, section_ids=list(chosen), subject=rendered.subject,
                                    html=rendered.html, text=rendered.text)
        variant.recipient_count = 0
        self.session.add(variant)
        self.session.flush()
        self._by_key[key] = variant
        return variant

    def finish(self) -> None:
        """Store each variant's recipient count (``counts``, by variant id, kept by the caller)."""
        for variant in self._by_key.values():
            variant.recipient_count = self.counts.get(variant.id, 0)


@dataclass(frozen=True)
class VariantFigure:
    """One version of a digest's mail and how many recipients it is (or would be) for."""

    titles: list[str]
    recipients: int

    @property
    def sent(self) -> bool:
        """Whether this version goes out: one with no section is sent to nobody."""
        return bool(self.titles)


def _titles(sections: Sequence[Mapping[str, Any]], chosen: Iterable[str]) -> list[str]:
    wanted = set(chosen)
    return [str(section.get("title") or section["id"]) for section in sections if str(section["id"]) in wanted]


def variant_figures(session: Session, digest: Digest, deliverable: ColumnElement[bool]) -> list[VariantFigure]:
    """Recipients per variant of ``digest``: as the send cut them once it started, or else as a send cut
    now would (one GROUP BY over the ``deliverable`` subscribers' topics). Largest first."""
    sections = list(digest.sections or [])
    stored = session.execute(select(DigestVariant.section_ids, DigestVariant.recipient_count)
                             .where(DigestVariant.digest_id == digest.id)).all()
    counts: dict[tuple[str, ...], int] = {}
    if stored:
        for section_ids, recipients in stored:
            counts[tuple(section_ids)] = counts.get(tuple(section_ids), 0) + int(recipients)
    else:
        for stored_topics, recipients in session.execute(
                select(topics_text(), func.count()).where(deliverable).group_by(topics_text())):
            chosen = matching_sections(sections, json.loads(stored_topics or "[]"))
            counts[chosen] = counts.get(chosen, 0) + int(recipients)
    figures = [VariantFigure(_titles(sections, chosen), recipients) for chosen, recipients in counts.items()]
    return sorted(figures, key=lambda figure: (-figure.recipients, figure.titles))
