"""An editor's changes to a draft digest: subject, preheader, intro note, section order.

Only a draft can change; every change re-renders the digest (once, placeholders intact), so the
preview always shows what will be sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.core.db.models import Digest
from services.core.domain import DigestState
from services.core.settings import Settings
from services.digest.compose import render_digest

SUBJECT_MAX = 300
PREHEADER_MAX = 300
INTRO_MAX = 2000


class DigestEditError(ValueError):
    """The change is not allowed or not valid; the message says why."""


@dataclass(frozen=True)
class TextEdits:
    subject: str
    preheader: str
    intro: str


def _draft(session: Session, digest_id: int) -> Digest:
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise DigestEditError(f"no digest with id {digest_id}")
    if digest.state != DigestState.DRAFT.value:
        raise DigestEditError(f"the digest of {digest.week} is {digest.state}; only a draft can change")
    return digest


def edit_text(session: Session, settings: Settings, digest_id: int, edits: TextEdits) -> Digest:
    subject = " ".join(edits.subject.split())
    preheader = " ".join(edits.preheader.split())
    intro = edits.intro.strip().replace("\r\n", "\n")
    if not subject:
        raise DigestEditError("the subject cannot be empty")
    for name, value, limit in (("subject", subject, SUBJECT_MAX), ("preheader", preheader, PREHEADER_MAX),
                               ("intro", intro, INTRO_MAX)):
        if len(value) > limit:
            raise DigestEditError(f"the {name} is {len(value)} characters long; at most {limit} fit")
    digest = _draft(session, digest_id)
    digest.subject, digest.preheader, digest.intro = subject, preheader, intro
    render_digest(settings, digest)
    return digest


def reorder(session: Session, settings: Settings, digest_id: int, order: list[str]) -> Digest:
    """Put the sections in ``order`` (their ids); the order must name every section once."""
    digest = _draft(session, digest_id)
    by_id = {section["id"]: section for section in digest.sections}
    if sorted(order) != sorted(by_id):
        raise DigestEditError(f"the new order must name each section once: {', '.join(by_id)}")
    digest.sections = [by_id[section_id] for section_id in order]
    render_digest(settings, digest)
    return digest


def move_section(session: Session, settings: Settings, digest_id: int, section_id: str, step: int) -> Digest:
    """Move one section ``step`` places (-1 up, +1 down), stopping at either end."""
    digest = _draft(session, digest_id)
    order = [str(section["id"]) for section in digest.sections]
    if section_id not in order:
        raise DigestEditError(f"the digest has no section {section_id!r}")
    position = order.index(section_id)
    order.insert(max(0, min(len(order) - 1, position + step)), order.pop(position))
    return reorder(session, settings, digest_id, order)
