"""The command line: the worker command really runs dramatiq over the project's actors; the
source and queue commands read and change the database."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from services.core import events, limits, outbox_actors
from services.core.db.models import ApiToken, AuditEntry, Event, Source, User
from services.core.db.scratch import create_database, drop_database
from services.core.passwords import verify_password
from services.core.runtime import Runtime
from tests import factories
from tests.cli import cli_env, run_cli
from tests.conftest import RUN_ID
from tests.local_http import Reply, serving
from tests.services_check import PG_ADMIN_URL


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_worker_command_handles_events_from_redis(rt: Runtime, redis_required: None, tmp_path: Path) -> None:
    # Given an event published to the Redis namespace of this test run
    with rt.sessions() as session, session.begin():
        event = events.record(session, "source.paused", source_id=0, reason="probe: no such source")
        session.flush()
        event_id = event.id
    events.relay(rt.sessions, outbox_actors.publish)
    # When `verdicts worker` runs on the events queue
    env = cli_env(rt, VERDICTS_REDIS_URL=str(rt.settings.redis_url),
                  VERDICTS_REDIS_NAMESPACE=rt.settings.redis_namespace,
                  dramatiq_prom_port=str(_free_port()), dramatiq_prom_db=str(tmp_path / "prom"))
    worker = subprocess.Popen([sys.executable, "-m", "services.cli", "worker", "--queues", "events", "--processes", "1",
                               "--threads", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        handled = False
        while time.monotonic() < deadline and not handled and worker.poll() is None:
            time.sleep(0.2)
            with rt.sessions() as session:
                handled = session.get(Event, event_id).handled_at is not None  # type: ignore[union-attr]
    finally:
        worker.terminate()
        output = worker.communicate(timeout=60)[0]
    # Then the worker process handled it
    assert handled, output


def test_the_worker_command_refuses_embedded_mode(rt: Runtime) -> None:
    done = run_cli(rt, "worker")
    assert done.returncode == 2 and "VERDICTS_REDIS_URL" in done.stderr


def test_a_bad_setting_stops_the_command_with_the_variables_name(rt: Runtime) -> None:
    done = run_cli(rt, "feeds", "list", timeout=60, VERDICTS_BASE_URL="nonsense")
    assert done.returncode == 2 and "VERDICTS_BASE_URL" in done.stderr


def test_feeds_add_list_pause_and_resume(rt: Runtime) -> None:
    # Given a feed served on this machine (private addresses allowed, as on a newsroom's own network)
    with serving() as http:
        http.routes["/feed.xml"] = Reply(body=b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Acme</title>
<item><title>Introducing Widget 3</title><guid>w3</guid></item></channel></rss>""")
        url = http.url("/feed.xml")
        # When it is added, then listed, paused and resumed
        added = run_cli(rt, "feeds", "add", url, "--kind", "feed", VERDICTS_ALLOW_PRIVATE_NETWORKS="1")
    assert added.returncode == 0, added.stderr
    [row] = json.loads(run_cli(rt, "feeds", "list", "--json").stdout)
    assert {"id", "url", "kind", "state", "entries", "last_success_at", "last_error", "consecutive_failures",
            "next_poll_at"} <= set(row)
    assert (row["url"], row["kind"], row["state"]) == (url, "feed", "active")
    assert run_cli(rt, "feeds", "pause", str(row["id"])).returncode == 0
    assert json.loads(run_cli(rt, "feeds", "list", "--json").stdout)[0]["state"] == "paused"
    assert run_cli(rt, "feeds", "resume", str(row["id"])).returncode == 0
    assert json.loads(run_cli(rt, "feeds", "list", "--json").stdout)[0]["state"] == "active"
    assert run_cli(rt, "feeds", "pause", "999").returncode == 1


def test_queue_list_approve_and_reject(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        keep, drop = factories.candidate(session, "Keep").id, factories.candidate(session, "Drop").id
    listed = json.loads(run_cli(rt, "queue", "list", "--json").stdout)
    assert {row["name"] for row in listed} == {"Keep", "Drop"}
    assert run_cli(rt, "queue", "approve", str(keep)).returncode == 0
    assert run_cli(rt, "queue", "reject", str(drop), "--reason", "blog noise").returncode == 0
    assert json.loads(run_cli(rt, "queue", "list", "--json").stdout) == []
    again = run_cli(rt, "queue", "approve", str(keep))
    assert again.returncode == 1 and "already approved" in again.stderr


def test_digest_compile_and_preview_write_the_files(rt: Runtime, tmp_path: Path) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
    assert run_cli(rt, "digest", "compile", "--week", "2026-W48").returncode == 0
    done = run_cli(rt, "digest", "preview", "--week", "2026-W48", "--out", str(tmp_path / "preview"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "preview" / "subject.txt").read_text().startswith("Alpha vs Beta")
    assert "Alpha vs Beta" in (tmp_path / "preview" / "digest.html").read_text()
    assert "Alpha vs Beta" in (tmp_path / "preview" / "digest.txt").read_text()


def test_db_upgrade_migrates_an_empty_sqlite_file(rt: Runtime, tmp_path: Path) -> None:
    done = run_cli(rt, "db", "upgrade", VERDICTS_DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}")
    assert done.returncode == 0, done.stderr
    assert "database at head" in done.stdout
    assert (tmp_path / "fresh.db").stat().st_size > 0


@pytest.mark.parametrize("command", [("feeds", "list"), ("queue", "list"), ("users", "token", "ann@example.org"),
                                     ("digest", "compile"), ("scheduler",)])
def test_a_command_on_a_database_never_migrated_says_to_run_db_upgrade(rt: Runtime, tmp_path: Path,
                                                                       command: tuple[str, ...]) -> None:
    # Given a SQLite database no one has migrated
    never_migrated = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    # When a command that reads or writes it runs
    done = run_cli(rt, *command, VERDICTS_DATABASE_URL=never_migrated)
    # Then it stops with one line that says what to run, and no traceback
    assert done.returncode == 2
    assert "run `verdicts db upgrade` first" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_command_on_a_postgresql_database_never_migrated_says_to_run_db_upgrade(rt: Runtime) -> None:
    # Given an empty PostgreSQL database
    name = f"verdicts_test_{RUN_ID}_never_migrated"
    url = create_database(PG_ADMIN_URL, name)
    try:
        # When `feeds list` runs against it
        done = run_cli(rt, "feeds", "list", VERDICTS_DATABASE_URL=url)
    finally:
        drop_database(PG_ADMIN_URL, name)
    # Then it says to migrate, naming the database without its password
    assert done.returncode == 2
    assert "run `verdicts db upgrade` first" in done.stderr and name in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_users_set_password_replaces_a_forgotten_password_on_the_audit_log(rt: Runtime) -> None:
    # Given a staff user whose password is forgotten
    assert run_cli(rt, "users", "add", "ann@example.org", "--role", "editor", "--password-stdin",
                stdin="the forgotten one\n").returncode == 0
    # When an admin sets a new one from stdin
    done = run_cli(rt, "users", "set-password", "Ann@Example.org", "--password-stdin", stdin="a brand new one\n")
    # Then only the new password signs in, and the change is on the audit log
    assert done.returncode == 0, done.stderr
    assert "ann@example.org" in done.stdout and "a brand new one" not in done.stdout
    with rt.sessions() as session:
        user = session.scalar(select(User).where(User.email == "ann@example.org"))
        assert user is not None
        assert verify_password(user.password_hash, "a brand new one")
        assert not verify_password(user.password_hash, "the forgotten one")
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.set_password"))
        assert entry.subject == f"user:{user.id}"


def test_users_set_role_and_deactivate_end_every_session_on_the_audit_log(rt: Runtime) -> None:
    # Given a staff user
    assert run_cli(rt, "users", "add", "ann@example.org", "--role", "editor", "--password-stdin",
                stdin="a long password\n").returncode == 0
    # When an admin makes her a reviewer, then deactivates her
    role = run_cli(rt, "users", "set-role", "ann@example.org", "--role", "reviewer")
    gone = run_cli(rt, "users", "deactivate", "ann@example.org")
    # Then each change ended her sessions (a new session generation), she is inactive, and both are audited
    assert role.returncode == 0 and gone.returncode == 0, role.stderr + gone.stderr
    with rt.sessions() as session:
        user = session.scalar(select(User).where(User.email == "ann@example.org"))
        assert user is not None
        assert (user.role, user.active, user.session_generation) == ("reviewer", False, 2)
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == f"user:{user.id}")))
        assert actions == {"user.set_role", "user.deactivate"}
    # And a deactivated user is no longer found by name
    assert run_cli(rt, "users", "deactivate", "ann@example.org").returncode == 1


def test_users_reset_two_factor_turns_it_off_ends_sessions_and_is_audited(rt: Runtime) -> None:
    import pyotp

    from services.web import two_factor_accounts

    # Given a staff user with two-factor sign-in
    assert run_cli(rt, "users", "add", "ann@example.org", "--role", "editor", "--password-stdin",
                   stdin="a long password\n").returncode == 0
    now = time.time()
    with rt.sessions() as session, session.begin():
        user = session.scalars(select(User).where(User.email == "ann@example.org")).one()
        secret = two_factor_accounts.start_enrolment(session, rt.settings.secret(), user)
        assert two_factor_accounts.confirm_enrolment(session, rt.settings.secret(), user, pyotp.TOTP(secret).at(now),
                                                     now)
        generation = user.session_generation
    # When an admin resets it at the command line
    reset = run_cli(rt, "users", "reset-two-factor", "ann@example.org")
    # Then it is off with no secret and no recovery code, her sessions ended, and the reset is audited
    assert reset.returncode == 0, reset.stderr
    with rt.sessions() as session:
        user = session.scalars(select(User).where(User.email == "ann@example.org")).one()
        assert (user.two_factor_at, user.totp_secret, user.session_generation) == (None, None, generation + 1)
        assert two_factor_accounts.recovery_codes_left(session, user) == 0
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.reset_two_factor"))
        assert (entry.user_id, entry.subject) == (None, f"user:{user.id}")
    # And a second reset says there is nothing to reset
    again = run_cli(rt, "users", "reset-two-factor", "ann@example.org")
    assert again.returncode == 1 and "has no two-factor sign-in" in again.stderr


def test_users_tokens_lists_and_revoke_token_revokes_on_the_audit_log(rt: Runtime) -> None:
    # Given a staff user with a read-only token issued at the command line
    assert run_cli(rt, "users", "add", "ann@example.org", "--role", "editor", "--password-stdin",
                stdin="a long password\n").returncode == 0
    issued = run_cli(rt, "users", "token", "ann@example.org", "--read-only", "--days", "7")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    # When her tokens are listed
    listed = run_cli(rt, "users", "tokens", "ann@example.org")
    # Then the listing shows the token's prefix and scope, never the token
    assert listed.returncode == 0, listed.stderr
    assert token[:12] in listed.stdout and "read" in listed.stdout and "never" in listed.stdout
    assert token not in listed.stdout
    # When the token is revoked by its id, Then it is gone, and both actions are on the audit log
    with rt.sessions() as session:
        [token_id] = session.scalars(select(ApiToken.id)).all()
    assert run_cli(rt, "users", "revoke-token", str(token_id)).returncode == 0
    assert "no API tokens" in run_cli(rt, "users", "tokens", "ann@example.org").stdout
    with rt.sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["user.issue_token", "user.revoke_token"]
    # And an unknown id is an error
    assert run_cli(rt, "users", "revoke-token", str(token_id)).returncode == 1


def test_users_set_password_refuses_an_unknown_address_and_a_short_password(rt: Runtime) -> None:
    unknown = run_cli(rt, "users", "set-password", "nobody@example.org", "--password-stdin", stdin="long enough pw\n")
    assert unknown.returncode == 1 and "no active user" in unknown.stderr
    short = run_cli(rt, "users", "set-password", "nobody@example.org", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr


@contextmanager
def _serving_web(folder: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`verdicts web --port P` in embedded mode (nothing configured) in ``folder``, once /readyz answers."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "services.cli", "web", "--port", str(port)], cwd=folder,
                               env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        ready = False
        while not ready and process.poll() is None and time.monotonic() < deadline:
            with suppress(httpx.TransportError):
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
            if not ready:
                time.sleep(0.2)
        assert process.poll() is None, process.communicate()
        assert ready, f"/readyz on port {port} never answered 200 within 180 s"
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if '"level": "error"' in line or '"level": "critical"' in line]


def test_embedded_web_links_point_at_the_port_it_serves(tmp_path: Path) -> None:
    # Given `verdicts web --port P` in embedded mode, with no VERDICTS_BASE_URL
    with _serving_web(tmp_path) as (_process, port):
        # When the public index page is read
        page = httpx.get(f"http://127.0.0.1:{port}/").text
    # Then its own URL is on port P
    assert f'content="http://127.0.0.1:{port}/"' in page


def test_ctrl_c_stops_embedded_web_cleanly(tmp_path: Path) -> None:
    # Given `verdicts web` serving, with its in-process worker and scheduler
    with _serving_web(tmp_path) as (process, _port):
        # When it gets Ctrl-C
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    # Then it shuts down with exit 0: no traceback, nothing logged at error level
    assert process.returncode == 0, err
    assert "Traceback" not in out + err
    assert _error_lines(err) == []


def test_an_out_path_that_cannot_be_written_gives_one_line_not_a_traceback(rt: Runtime, tmp_path: Path) -> None:
    # Given a folder where the exports expect a file, and a path under a file where preview expects a folder
    folder = tmp_path / "a-folder"
    folder.mkdir()
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
    assert run_cli(rt, "digest", "compile", "--week", "2026-W48").returncode == 0
    for args in (("feeds", "export", "--out", str(folder)), ("subscribers", "export", "--out", str(folder)),
                 ("digest", "preview", "--week", "2026-W48", "--out", str(a_file / "preview")),
                 ("detect", "train", "--out", str(folder))):
        # When the command is told to write there
        done = run_cli(rt, *args)
        # Then it fails with one line naming the path, and no traceback
        assert done.returncode == 1, args
        assert "Traceback" not in done.stderr and "cannot write" in done.stderr, (args, done.stderr)


def test_a_refusal_shows_what_was_typed_as_written_not_as_markup(rt: Runtime) -> None:
    # Given refusals of values that rich would read as markup: an unknown state, two addresses
    for args, code, shown in ((("queue", "list", "--state", "[/x]"), 2, "'[/x]'"),
                              (("subscribers", "add", "[/red]@x"), 1, "[/red]@x: "),
                              (("users", "add", "[bold]@x", "--role", "editor"), 2, "[bold]@x: ")):
        # When the command is run
        done = run_cli(rt, *args)
        # Then it is one error line with the value as typed, not a MarkupError traceback or swallowed tags
        assert done.returncode == code, (args, done.stderr)
        assert "Traceback" not in done.stderr and shown in done.stderr, (args, done.stderr)


def test_feeds_list_shows_a_last_error_as_written_not_as_markup(rt: Runtime) -> None:
    # Given a source whose remote fetch left an error holding rich markup
    with rt.sessions() as session, session.begin():
        session.add(Source(url="https://feeds.example.org/[a].xml", last_error_kind="http",
                           last_error="[bold]x[/bold]"))
    # When the sources are listed as a table
    done = run_cli(rt, "feeds", "list")
    # Then the error and the URL are shown as they are
    assert done.returncode == 0, done.stderr
    assert "http: [bold]x[/bold]" in done.stdout and "https://feeds.example.org/[a].xml" in done.stdout


def test_a_password_longer_than_the_sign_in_form_takes_is_refused(rt: Runtime) -> None:
    # Given a password one character past what the sign-in form takes
    too_long = "x" * (limits.PASSWORD + 1) + "\n"
    # When it is given to `users add` and to `users set-password`
    added = run_cli(rt, "users", "add", "long@example.org", "--role", "editor", "--password-stdin", stdin=too_long)
    reset = run_cli(rt, "users", "set-password", "long@example.org", "--password-stdin", stdin=too_long)
    # Then both refuse it (exit 2), and nobody was added with a password that could never sign in
    for done in (added, reset):
        assert done.returncode == 2 and f"at most {limits.PASSWORD} characters" in done.stderr, done.stderr
    with rt.sessions() as session:
        assert session.scalar(select(User).where(User.email == "long@example.org")) is None


def test_a_commands_environment_leaves_out_the_developers_own_verdicts_and_dramatiq_variables(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a shell with a developer's own VERDICTS_* and dramatiq_* variables
    monkeypatch.setenv("VERDICTS_REDIS_URL", "redis://developer.example.org:6379/0")
    monkeypatch.setenv("dramatiq_prom_port", "9191")
    # When a test builds the environment of a command over its runtime
    env = cli_env(rt, COLUMNS="100")
    # Then only the runtime's settings and the test's own variables are in it
    assert {k for k in env if k.startswith(("VERDICTS_", "dramatiq_"))} == {
        "VERDICTS_DATABASE_URL", "VERDICTS_SECRET_KEY", "VERDICTS_VAR_DIR", "VERDICTS_OUTBOX_DIR"}
    assert (env["VERDICTS_OUTBOX_DIR"], env["COLUMNS"]) == (str(rt.settings.outbox_dir), "100")
