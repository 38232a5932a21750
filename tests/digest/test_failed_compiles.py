"""A compile that fails leaves nothing behind, on SQLite as on PostgreSQL, and a digest whose mail has no
body is never approved."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.core.db.models import Comparison, Digest
from services.core.domain import DigestState
from services.core.runtime import Runtime
from services.digest import compose
from services.digest.errors import DigestRenderError, DigestWithoutBody
from tests import factories
from tests.digest.templates import broken_templates

WEEK = "2026-W48"


def test_a_compile_that_fails_midway_leaves_no_draft_behind(any_runtime: Runtime, tmp_path: Path) -> None:
    rt = any_runtime
    broken = replace(rt, settings=rt.settings.model_copy(update={"email_templates_dir": broken_templates(tmp_path)}))
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
    # When a compile fails after the digest row was written (its rendering is refused)
    with (pytest.raises(DigestRenderError, match=r"digest of 2026-W48 could not be rendered: digest\.mjml"),
          broken.sessions() as session, session.begin()):
        compose.compile_week(session, broken.settings, WEEK)
    # Then no digest is left, and the comparison still waits for one
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 0
        assert session.scalar(select(Comparison.mailed_in_digest_id)) is None
    # And the next compile makes the whole digest
    with rt.sessions() as session, session.begin():
        digest = compose.compile_week(session, rt.settings, WEEK)
        assert digest.has_body and "Alpha vs Beta" in digest.html


def test_a_digest_without_a_body_is_not_approved(rt: Runtime) -> None:
    # Given a draft whose mail was never rendered (as a compile that failed half-way once left it)
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        digest = compose.compile_week(session, rt.settings, WEEK)
        digest.html, digest.text = "", ""
        digest_id = digest.id
    # When an editor approves it, Then it is refused with the reason, and stays a draft
    with (pytest.raises(DigestWithoutBody, match="2026-W48 has an empty body"),
          rt.sessions() as session, session.begin()):
        compose.approve(session, digest_id)
    with rt.sessions() as session:
        assert session.get(Digest, digest_id).state == DigestState.DRAFT
