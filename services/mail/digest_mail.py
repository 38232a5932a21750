"""The weekly digest as a mail: its template context, its default subject and preheader, and a rendering of
any selection of its sections.

The digest package composes and edits a digest and renders it whole; the delivery package renders the
variants a send needs (only the sections a group of subscribers' topics match). Both render here, so a
variant is the same mail as the whole digest with sections left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.core import limits, links
from services.core.settings import Settings
from services.core.text import clean_text
from services.mail import placeholders
from services.mail.render import RenderedEmail, renderer_for

Section = Mapping[str, Any]


def comparisons_of(sections: Sequence[Section]) -> list[Section]:
    return [s for s in sections if s["kind"] == "comparison"]


def default_subject(week: str, sections: Sequence[Section]) -> str:
    """The subject a digest of ``sections`` gets: its first comparison's title "— and more", on one line
    whatever the tool names hold (no CR or LF can reach the header)."""
    comparisons = comparisons_of(sections)
    if not comparisons:
        return f"Verdicts, week {week}"
    return clean_text(f"{comparisons[0]['title']} — and more", multiline=False)


def default_preheader(sections: Sequence[Section]) -> str:
    """The preheader a digest of ``sections`` gets: what it holds, counted ("This week: 2 new comparisons …")."""
    parts = []
    count = len(comparisons_of(sections))
    if count:
        parts.append(f"{count} new comparison{'s' if count != 1 else ''}")
    tools = next((s for s in sections if s["kind"] == "new_tools"), None)
    if tools:
        parts.append(f"{len(tools['tools'])} new tool{'s' if len(tools['tools']) != 1 else ''}")
    if any(s["kind"] == "community" for s in sections):
        parts.append("last week's community votes")
    if not parts:
        return "This week's verdicts from the panel"
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"This week: {listed}"


def context(settings: Settings, *, week: str, subject: str, preheader: str, intro: str,
            sections: Sequence[Section], public: bool = False) -> dict[str, Any]:
    """What the ``digest`` templates are rendered with; per-recipient links stay markers unless ``public``."""
    return {
        "week": week,
        "subject": subject,
        "preheader": preheader,
        "intro": intro,
        "sections": list(sections),
        "public": public,
        "archive_url": links.archive(settings, week),
        "archive_index_url": links.archive(settings),
        "subscribe_url": links.subscribe(settings),
        "unsubscribe_url": placeholders.UNSUBSCRIBE,
        "preferences_url": placeholders.PREFERENCES,
        "postal_address": settings.postal_address,
        "logo_url": str(settings.email_logo_url) if settings.email_logo_url else None,
    }


def render_selection(settings: Settings, *, week: str, subject: str, preheader: str, intro: str,
                     sections: Sequence[Section], chosen: Sequence[str]) -> RenderedEmail:
    """The digest mail with only the sections whose ids are in ``chosen`` (in the digest's order).

    ``subject`` and ``preheader`` are the whole digest's: each is kept when an editor wrote it, and
    otherwise (it is still the default for all ``sections``) becomes the default for the chosen ones, so
    no subject names a comparison the mail leaves out. Raises ``services.mail.render.TemplateRenderError``.
    """
    kept = [section for section in sections if str(section["id"]) in set(chosen)]
    if subject == limits.clip(default_subject(week, sections), limits.SUBJECT):
        subject = limits.clip(default_subject(week, kept), limits.SUBJECT)
    if preheader == limits.clip(default_preheader(sections), limits.PREHEADER):
        preheader = limits.clip(default_preheader(kept), limits.PREHEADER)
    return renderer_for(settings.email_templates_dir).render(
        "digest", context(settings, week=week, subject=subject, preheader=preheader, intro=intro, sections=kept))
