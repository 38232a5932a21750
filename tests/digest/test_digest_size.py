"""A digest past Gmail's clipping size is refused at compile time, naming what made it large."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.core.db.models import Digest
from services.core.runtime import Runtime
from services.digest import compose
from services.digest.errors import DigestTooLarge
from tests import factories

WEEK = "2026-W48"


def test_a_digest_past_gmails_clipping_size_is_refused_naming_its_largest_field(rt: Runtime) -> None:
    # Given a published comparison whose editor's note is 150,000 characters (stored before the limit)
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta").editor_note = "x" * 150_000
    # When the week is compiled
    with pytest.raises(DigestTooLarge) as refused, rt.sessions() as session, session.begin():
        compose.compile_week(session, rt.settings, WEEK)
    # Then it is refused, naming the size limit and the field that made it large, and no digest is stored
    message = str(refused.value)
    assert f"{compose.GMAIL_CLIP_BYTES:,}" in message
    assert "section 1 (Alpha vs Beta): editor_note (150,000 bytes)" in message
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 0


def test_an_ordinary_digest_stays_under_gmails_clipping_size(rt: Runtime) -> None:
    # Given an ordinary published comparison, When its week is compiled
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        digest = compose.compile_week(session, rt.settings, WEEK)
        # Then its HTML is under the size at which Gmail clips
        assert len(digest.html.encode()) <= compose.GMAIL_CLIP_BYTES


def test_a_digest_under_the_size_only_while_its_links_are_markers_is_refused(rt: Runtime) -> None:
    # Given a compiled digest whose editor's note is grown until its HTML, with the per-recipient links still
    # short markers, is just under Gmail's clipping size
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        digest = compose.compile_week(session, rt.settings, WEEK)
        first, *rest = digest.sections
        grown = compose.GMAIL_CLIP_BYTES - 100 - len(digest.html.encode())
        digest.sections = [{**first, "editor_note": first["editor_note"] + "x" * grown}, *rest]
        with_markers = len(compose.render(rt.settings, digest).html.encode())
        assert compose.GMAIL_CLIP_BYTES - 100 <= with_markers <= compose.GMAIL_CLIP_BYTES
        # When it is rendered for mail, Then it is refused: its links, signed at send time, take it past the size
        with pytest.raises(DigestTooLarge) as refused:
            compose.render_digest(rt.settings, digest)
    assert f"{compose.GMAIL_CLIP_BYTES:,}" in str(refused.value)
