"""Control characters editors paste (a slide's vertical tab, a form feed, NUL) never reach the digest:
they are stripped where the text enters, and the renderer drops any that came in another way."""

from __future__ import annotations

import pytest

from services.core.db.models import Comparison, Digest, Tool
from services.core.runtime import Runtime
from services.digest import compose, editing
from services.review import comparisons, queue
from services.review.tool_edits import ToolEdits
from tests import factories

WEEK = "2026-W48"
PASTED = pytest.mark.parametrize("junk", ["\x0b", "\x0c", "\x00"], ids=["vertical-tab", "form-feed", "nul"])


@PASTED
def test_control_characters_in_tagline_headline_note_and_intro_are_stripped_and_the_digest_compiles(
        rt: Runtime, junk: str) -> None:
    # Given an editor who pasted the character into a new tool's tagline and a comparison's headline and note
    with rt.sessions() as session, session.begin():
        comparison_id = factories.published_comparison(session, "Alpha", "Beta").id
        tool_id = factories.candidate(session, "Fresh").id
        queue.approve(session, tool_id, None, ToolEdits(tagline=f"Pasted {junk}from a slide"))
        comparisons.update(session, comparison_id, headline=f"Alpha {junk}wins", editor_note=f"Read {junk}this",
                           position=0)
    # When the digest is compiled and its subject, preheader and intro are edited with the same paste
    with rt.sessions() as session, session.begin():
        digest_id = compose.compile_week(session, rt.settings, WEEK).id
        editing.edit_text(session, rt.settings, digest_id, editing.TextEdits(
            subject=f"Two {junk}duels", preheader=f"Who {junk}ships?", intro=f"Hello {junk}readers"))
    # Then nothing stored holds the character, and the mail has both parts with the text as meant
    with rt.sessions() as session:
        tool, comparison = session.get(Tool, tool_id), session.get(Comparison, comparison_id)
        digest = session.get(Digest, digest_id)
        stored = [tool.tagline, comparison.headline, comparison.editor_note, digest.subject, digest.preheader,
                  digest.intro, digest.html, digest.text]
        assert not any(junk in value for value in stored)
        assert (tool.tagline, comparison.headline, digest.subject) == ("Pasted from a slide", "Alpha wins", "Two duels")
        assert digest.has_body
        for part in (digest.html, digest.text):
            assert "Pasted from a slide" in part and "Read" in part and "Hello" in part


@pytest.mark.parametrize("junk", ["\x0b", "\x0c", "\x1b"], ids=["vertical-tab", "form-feed", "escape"])
def test_a_tool_name_that_came_in_with_a_control_character_still_renders_without_it(rt: Runtime, junk: str) -> None:
    # Given a tool whose name was stored with the character (from a feed, or before text was cleaned;
    # PostgreSQL stores no NUL at all)
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, f"Alpha{junk}One", "Beta")
        # When the digest is compiled
        digest = compose.compile_week(session, rt.settings, WEEK)
        # Then it renders, the character dropped from the mail
        assert digest.has_body and '<span dir="auto">AlphaOne</span> vs <span dir="auto">Beta</span>' in digest.html
        assert "AlphaOne vs Beta" in digest.text
        assert junk not in digest.html and junk not in digest.text
