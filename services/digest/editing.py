"""An editor's changes to a draft digest: subject, preheader, intro note, section order.

Only a draft can change; every change re-renders the digest (once, placeholders intact), so the
preview always shows what will be sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.core import limits
from services.core.db.models import Digest
from services.core.domain import DigestState
from services.core.settings import Settings
from services.core.text import checked_text
from services.digest.compose import render_digest
from services.digest.errors import DigestEditError, DigestNotDraft, DigestNotFound


@dataclass(frozen=True)
class TextEdits:
    subject: str
    preheader: str
    intro: str


def _draft(session: Session, digest_id: int) -> Digest:
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise DigestNotFound(f"no digest with id {digest_id}")
    if digest.state != DigestState.DRAFT:
        raise DigestNotDraft(f"the digest of {digest.week} is {digest.state}; only a draft can change")
    return digest


def edit_text(session: Session, settings: Settings, digest_id: int, edits: TextEdits) -> Digest:
    """Set the subject, preheader and intro and re-render.

    Each is cleaned by ``services.core.text.checked_text``: control characters go, subject and preheader
    become one line, the intro keeps its lines. Raises ``DigestNotFound``, ``DigestNotDraft``,
    ``DigestEditError`` naming the field for an empty subject or a text over its limit
    (``limits.SUBJECT``, ``limits.PREHEADER``, ``limits.DIGEST_INTRO`` characters), or
    ``DigestRenderError`` when the digest no longer renders.
    """
    subject = checked_text(edits.subject, field="subject", max_length=limits.SUBJECT, required=True,
                           refuse=DigestEditError)
    preheader = checked_text(edits.preheader, field="preheader", max_length=limits.PREHEADER, refuse=DigestEditError)
    intro = checked_text(edits.intro, field="intro", max_length=limits.DIGEST_INTRO, multiline=True,
                         refuse=DigestEditError)
    digest = _draft(session, digest_id)
    digest.subject, digest.preheader, digest.intro = subject, preheader, intro
    render_digest(settings, digest)
    return digest


def reorder(session: Session, settings: Settings, digest_id: int, order: list[str]) -> Digest:
    """Put the sections in ``order`` (their ids) and re-render.

    Raises ``DigestNotFound``, ``DigestNotDraft``, ``DigestEditError`` unless ``order`` names every
    section once, or ``DigestRenderError``.
    """
    digest = _draft(session, digest_id)
    by_id = {section["id"]: section for section in digest.sections}
    if sorted(order) != sorted(by_id):
        raise DigestEditError(f"the new order must name each section once: {', '.join(by_id)}")
    digest.sections = [by_id[section_id] for section_id in order]
    render_digest(settings, digest)
    return digest


def move_section(session: Session, settings: Settings, digest_id: int, section_id: str, step: int) -> Digest:
    """Move one section ``step`` places (-1 up, +1 down), stopping at either end.

    Raises ``DigestNotFound``, ``DigestNotDraft``, ``DigestEditError`` for a section the digest lacks, or
    ``DigestRenderError``.
    """
    digest = _draft(session, digest_id)
    order = [str(section["id"]) for section in digest.sections]
    if section_id not in order:
        raise DigestEditError(f"the digest has no section {section_id!r}")
    position = order.index(section_id)
    order.insert(max(0, min(len(order) - 1, position + step)), order.pop(position))
    return reorder(session, settings, digest_id, order)
