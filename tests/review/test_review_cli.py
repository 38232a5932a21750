"""`verdicts queue …` and `verdicts users token`: the review operations from the command line."""

from __future__ import annotations

import json

from sqlalchemy import select

from services.core.db.models import ApiToken, AuditEntry, PanelSeat, Tool, User
from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import panel
from services.web.auth import hash_token
from tests import factories
from tests.cli import run_cli


def test_approve_with_edits_merge_and_snooze_from_the_command_line(rt: Runtime) -> None:
    # Given an approved tool and three candidates
    with rt.sessions() as session, session.begin():
        existing = factories.judged_tool(session, "Existing", (Call.SHIP,) * 4)
        fix, dupe, later = (factories.candidate(session, n).id for n in ("raw name", "Existing again", "Later"))
        existing_id = existing.id
    # When the editor approves one with corrections, merges one and snoozes one
    assert run_cli(rt, "queue", "approve", str(fix), "--name", "Proper Name", "--entry-price", "$20/mo").returncode == 0
    assert run_cli(rt, "queue", "merge", str(dupe), "--into", str(existing_id)).returncode == 0
    assert run_cli(rt, "queue", "snooze", str(later), "--days", "3").returncode == 0
    # Then each is applied, the queue is empty, and the snoozed one is listed under its state
    with rt.sessions() as session:
        assert (session.get(Tool, fix).name, session.get(Tool, fix).entry_price) == ("Proper Name", "$20/mo")
        assert session.get(Tool, dupe).merged_into_id == existing_id
        assert {a for a in session.scalars(select(AuditEntry.action))} >= {"tool.approve", "tool.merge", "tool.snooze"}
    assert json.loads(run_cli(rt, "queue", "list", "--json").stdout) == []
    snoozed = json.loads(run_cli(rt, "queue", "list", "--json", "--state", "snoozed").stdout)
    assert [row["id"] for row in snoozed] == [later]


def test_users_token_prints_a_token_stored_only_as_a_hash(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        session.add(User(email="script@example.org", role="editor", password_hash=None))
    done = run_cli(rt, "users", "token", "Script@Example.org")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    with rt.sessions() as session:
        [stored] = session.scalars(select(ApiToken.token_hash)).all()
    assert token.startswith("vdt_") and stored == hash_token(token) and token not in stored
    assert run_cli(rt, "users", "token", "nobody@example.org").returncode == 1


def test_adding_a_reviewer_with_a_new_lens_seats_them_after_the_others(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        panel.ensure_seats(session)
    done = run_cli(rt, "users", "add", "sec@example.org", "--role", "reviewer", "--lens", "Security",
                   "--password-stdin", stdin="a long password\n")
    assert done.returncode == 0, done.stderr
    with rt.sessions() as session:
        seat = session.scalar(select(PanelSeat).where(PanelSeat.lens == "security"))
        user = session.scalar(select(User).where(User.email == "sec@example.org"))
        assert seat is not None and user is not None
        assert (seat.position, seat.user_id, user.role) == (4, user.id, "reviewer")


def test_a_correction_given_with_control_characters_is_stored_without_them(rt: Runtime) -> None:
    # Given a candidate, When an editor approves it with a tagline pasted with a vertical tab and a form feed
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, "Fresh").id
    done = run_cli(rt, "queue", "approve", str(tool_id), "--tagline", "Pasted\x0bfrom a\x0cslide")
    # Then it is approved with the tagline on one line, the characters gone
    assert done.returncode == 0, done.stderr
    with rt.sessions() as session:
        assert session.get(Tool, tool_id).tagline == "Pasted from a slide"
