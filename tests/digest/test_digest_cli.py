"""`verdicts digest compile` and `digest send` refuse a digest that does not render or has no body: one line, exit 1."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from services.core.db.models import DeliveryBatch, Digest
from services.core.runtime import Runtime
from services.digest import compose
from tests import factories
from tests.cli import run_cli
from tests.digest.templates import broken_templates

WEEK = "2026-W48"


def test_compile_names_what_failed_when_the_digest_does_not_render(rt: Runtime, tmp_path: Path) -> None:
    # Given a published comparison and templates the renderer refuses
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
    # When the digest is compiled from the command line
    done = run_cli(rt, "digest", "compile", "--week", WEEK,
                   VERDICTS_EMAIL_TEMPLATES_DIR=str(broken_templates(tmp_path)))
    # Then it exits 1 with one line saying what failed, and no digest is stored
    assert done.returncode == 1
    assert "error: the digest of 2026-W48 could not be rendered: digest.mjml" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 0


def test_send_refuses_a_digest_without_a_body(rt: Runtime) -> None:
    # Given a draft whose mail was never rendered, and a reader
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        factories.confirmed_subscriber(session, "reader@example.org")
        digest = compose.compile_week(session, rt.settings, WEEK)
        digest.text = ""
    # When it is sent from the command line
    done = run_cli(rt, "digest", "send", "--week", WEEK, "--yes")
    # Then it exits 1 saying why, and nothing is approved, cut into batches or mailed
    assert done.returncode == 1
    assert "2026-W48 has an empty body" in " ".join(done.stderr.split()) and "Traceback" not in done.stderr
    with rt.sessions() as session:
        assert session.scalar(select(Digest.state)) == "draft"
        assert session.scalar(select(func.count()).select_from(DeliveryBatch)) == 0
    assert not list(rt.settings.outbox_dir.glob("*.eml"))
