"""Compiling the weekly digest: one per ISO week, from published comparisons not yet carried.

The week label is the digest's unique key, so compiling a week twice (two scheduler ticks, two
schedulers, an editor and the cron at once) finds the first digest instead of making a second.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.core import events, limits, links
from services.core.db.base import utcnow
from services.core.db.models import Digest
from services.core.domain import Call, DigestState, parse_iso_week
from services.core.settings import Settings
from services.digest import content, previews
from services.digest.errors import DigestNotFound, DigestRenderError, DigestTooLarge, DigestWithoutBody, InvalidWeek
from services.mail import digest_mail
from services.mail.render import RenderedEmail, TemplateRenderError, renderer_for

NEW_TOOLS_WINDOW = dt.timedelta(days=7)
#: Gmail clips a message whose HTML is larger than about 102 KB, hiding the rest (the unsubscribe and
#: postal address included) behind "[Message clipped]"; 102,000 bytes stays under either reading of "KB".
GMAIL_CLIP_BYTES = 102_000
#: How many of the largest fields a too-large digest's refusal names.
LARGEST_NAMED = 3
#: Subscriber and tool ids as long as any will get (ten digits): the ids of the link that measures
#: what a per-recipient marker grows to when it is signed at send time. Its digits do not repeat:
#: itsdangerous would compress a repetitive payload, which the fast signer of a send never does.
LONGEST_ID = 9_876_543_210


def week_start(settings: Settings, week: str) -> dt.datetime:
    """Monday 00:00 of ``week`` in the digest's time zone; raises ``InvalidWeek`` for a label like "last-week"."""
    try:
        monday = parse_iso_week(week)
    except ValueError as exc:
        raise InvalidWeek(str(exc)) from exc
    return dt.datetime.combine(monday, dt.time(), ZoneInfo(settings.digest_timezone))


def compile_week(session: Session, settings: Settings, week: str, *, force: bool = False,
                 now: dt.datetime | None = None) -> Digest | None:
    """The digest of ``week``, compiling it if there is none yet; None for an empty week unless forced.

    A week is empty when it has neither a new comparison nor a newly approved tool. Raises
    ``InvalidWeek`` for a label that is not an ISO week, ``DigestRenderError`` when the mail does not
    render (the caller's rollback then leaves no digest behind).
    """
    existing = by_week(session, week)
    if existing is not None:
        return existing
    now = now or utcnow()
    monday = week_start(settings, week)
    comparisons = content.unmailed_comparisons(session)
    since = max(filter(None, [content.previous_compile_time(session, week), now - NEW_TOOLS_WINDOW]))
    new_tools = content.new_tools_section(session, settings, since, now)
    if not comparisons and new_tools is None and not force:
        return None
    sections = [content.comparison_section(session, settings, c) for c in comparisons]
    sections += [s for s in (new_tools, content.community_section(session, settings, monday - dt.timedelta(days=7),
                                                                  monday)) if s is not None]
    digest = Digest(week=week, subject=limits.clip(digest_mail.default_subject(week, sections), limits.SUBJECT),
                    preheader=limits.clip(digest_mail.default_preheader(sections), limits.PREHEADER),
                    intro="", sections=sections, compiled_at=now)
    try:
        with session.begin_nested():
            session.add(digest)
            session.flush()
    except IntegrityError:  # another compile of the same week won the race: use its digest
        return by_week(session, week)
    for comparison in comparisons:
        comparison.mailed_in_digest_id = digest.id
    render_digest(settings, digest)
    events.record(session, "digest.compiled", digest_id=digest.id, week=week)
    if settings.digest_auto_approve:
        approve(session, digest.id)
    return digest


def render_digest(settings: Settings, digest: Digest) -> None:
    """Render once, with per-recipient markers in place of unsubscribe, preferences and vote links.

    Raises ``DigestRenderError`` (see ``render``), or ``DigestTooLarge`` naming the largest fields when the
    HTML a recipient gets (``_mailed_size``) is past ``GMAIL_CLIP_BYTES`` (Gmail clips it there).
    """
    rendered = render(settings, digest)
    size = _mailed_size(settings, digest, rendered.html)
    if size > GMAIL_CLIP_BYTES:
        largest = ", ".join(f"{where} ({length:,} bytes)" for where, length in _largest_fields(digest))
        raise DigestTooLarge(f"the digest of {digest.week} would be {size:,} bytes of HTML, past the "
                             f"{GMAIL_CLIP_BYTES:,} at which Gmail clips it; the largest parts: {largest}")
    digest.html, digest.text = rendered.html, rendered.text


def _mailed_size(settings: Settings, digest: Digest, html: str) -> int:
    """The UTF-8 size of ``digest``'s rendered ``html`` once each per-recipient marker is a signed link.

    A marker (16 to 19 bytes) is counted as the longest link it can become: a vote link (the longest
    path and payload of the three kinds) for ``LONGEST_ID`` ids, minted now by ``links.ballot_vote`` (the
    fast signer at send time makes the same tokens). Raises nothing.
    """
    longest = len(links.ballot_vote(settings, LONGEST_ID, LONGEST_ID, LONGEST_ID, Call.SKIP))
    growth = sum(html.count(marker) * (longest - len(marker)) for marker in previews.neutral_values(settings, digest))
    return len(html.encode()) + growth


def _largest_fields(digest: Digest) -> list[tuple[str, int]]:
    """The ``LARGEST_NAMED`` longest texts of ``digest`` (in UTF-8 bytes), each named by where it is:
    "intro", or "section 2 (A vs B): tools[0].tagline"."""
    found: list[tuple[str, int]] = [("intro", len((digest.intro or "").encode()))]
    for number, section in enumerate(digest.sections or [], start=1):
        label = f"section {number} ({section.get('title') or section.get('kind')})"
        found += [(f"{label}: {path}", length) for path, length in _texts(section, "")]
    return sorted(found, key=lambda item: -item[1])[:LARGEST_NAMED]


def _texts(value: object, path: str) -> list[tuple[str, int]]:
    """Each text within ``value`` (nested dicts and lists) as (its path, its length in UTF-8 bytes)."""
    if isinstance(value, str):
        return [(path, len(value.encode()))]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _texts(item, f"{path}.{key}" if path else str(key))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _texts(item, f"{path}[{index}]")]
    return []


def render(settings: Settings, digest: Digest, *, public: bool = False) -> RenderedEmail:
    """The digest rendered for mail (``public=False``) or for the archive (no personal links at all).

    Raises ``DigestRenderError`` naming the week and what failed when the templates refuse it.
    """
    try:
        return renderer_for(settings.email_templates_dir).render("digest",
                                                                 digest_context(settings, digest, public=public))
    except TemplateRenderError as exc:
        raise DigestRenderError(f"the digest of {digest.week} could not be rendered: {exc}") from exc


def digest_context(settings: Settings, digest: Digest, *, public: bool = False) -> dict[str, Any]:
    return digest_mail.context(settings, week=digest.week, subject=digest.subject, preheader=digest.preheader,
                               intro=digest.intro, sections=digest.sections, public=public)


def approve(session: Session, digest_id: int) -> Digest:
    """draft → approved; records ``digest.approved``, which the delivery step turns into batches.

    Idempotent: a digest past draft is returned as it is. Raises ``DigestNotFound``, or
    ``DigestWithoutBody`` for a draft whose mail has no body (``Digest.has_body``).
    """
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise DigestNotFound(f"no digest with id {digest_id}")
    if digest.state == DigestState.DRAFT and not digest.has_body:
        raise DigestWithoutBody(f"the digest of {digest.week} has an empty body (its rendering never finished); "
                                "it cannot be approved")
    if digest.state == DigestState.DRAFT:
        digest.state = DigestState.APPROVED
        digest.approved_at = utcnow()
        events.record(session, "digest.approved", digest_id=digest.id)
    return digest


def by_week(session: Session, week: str) -> Digest | None:
    return session.scalar(select(Digest).where(Digest.week == week))


def of_week(session: Session, week: str) -> Digest:
    """The digest of ``week``; raises ``DigestNotFound`` when there is none (a malformed label has none)."""
    digest = by_week(session, week)
    if digest is None:
        raise DigestNotFound(f"No digest for {week} yet.")
    return digest
