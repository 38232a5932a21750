"""`verdicts`: the one place that wires settings, broker, runtime and the packages together.

Heavy modules are imported inside commands, after the broker is set up, because actors bind to
the broker that exists when their module is imported.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from services.core.broker import QUEUES
from services.core.domain import Role, SourceKind, SourceState
from services.core.runtime import Runtime
from services.core.settings import Settings, SettingsError, load_settings

app = typer.Typer(help="verdicts: detect new AI tools, judge them, mail the weekly digest.", no_args_is_help=True)
db_app = typer.Typer(help="The store of record.", no_args_is_help=True)
feeds_app = typer.Typer(help="Sources we poll.", no_args_is_help=True)
queue_app = typer.Typer(help="The review queue.", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in.", no_args_is_help=True)
digest_app = typer.Typer(help="The weekly digest.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(feeds_app, name="feeds")
app.add_typer(queue_app, name="queue")
app.add_typer(users_app, name="users")
app.add_typer(digest_app, name="digest")
console = Console()
err = Console(stderr=True)


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _booted(settings: Settings) -> Runtime:
    """Broker, runtime and actors, for commands that send messages or run workers."""
    from services.workers import boot

    return boot(settings)


def _plain(settings: Settings) -> Runtime:
    return Runtime.from_settings(settings)


@app.callback()
def _logging(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# --- processes ---------------------------------------------------------------------------------

@app.command()
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="stop after the flow")] = False,
    port: Annotated[int, typer.Option(help="port of the web app")] = 8000,
) -> None:
    """Run the whole flow once in embedded mode, then serve the web app."""
    settings = _settings(allow_private_networks=True)  # the demo's own feeds are served on 127.0.0.1
    rt = _booted(settings)
    from services.demo import flow
    from services.workers import start_embedded_worker

    worker = start_embedded_worker()
    try:
        report = flow.run(rt, console.print)
    finally:
        if no_serve:
            worker.stop()
    base = settings.public_url
    console.rule("What the demo did")
    if report.editor_password:
        console.print(f"Editor account: {report.editor_email}  password: [bold]{report.editor_password}[/bold] "
                      "(shown once)")
    else:
        console.print(f"Editor account: {report.editor_email} (created by an earlier run; its password was shown then)")
    for path in report.outbox_files:
        console.print(f"Outbox: {path}  (+ {path.with_suffix('.html').name})")
    console.print(f"Review queue:    {base}/editor/queue")
    console.print(f"Comparison page: {base}/c/{report.comparison_slug}")
    console.print(f"Digest preview:  {base}/editor/digests/{report.week}")
    if no_serve:
        return
    _serve_embedded(rt, "127.0.0.1", port, worker_running=True)


@app.command()
def web(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 8000,
) -> None:
    """Serve the web app (in embedded mode also the worker and the scheduler, in-process)."""
    rt = _booted(_settings())
    if rt.settings.embedded:
        from services.core.db.migrate import upgrade

        upgrade(rt.engine)
        _serve_embedded(rt, host, port, worker_running=False)
        return
    import uvicorn

    from services.web.app import create_app

    uvicorn.run(create_app(rt), host=host, port=port, proxy_headers=True)


def _serve_embedded(rt: Runtime, host: str, port: int, *, worker_running: bool) -> None:
    import uvicorn
    from apscheduler.schedulers.background import BackgroundScheduler

    from services.scheduler import add_ticks
    from services.web.app import create_app
    from services.workers import start_embedded_worker

    if not worker_running:
        start_embedded_worker()
    add_ticks(BackgroundScheduler(timezone="UTC")).start()
    console.print(f"Serving on http://{host}:{port} — Ctrl-C to stop")
    uvicorn.run(create_app(rt), host=host, port=port)


@app.command(context_settings={"allow_extra_args": True})
def worker(
    ctx: typer.Context,
    queues: Annotated[Optional[list[str]], typer.Option("--queues", help=f"queues to consume: {', '.join(QUEUES)}")] = None,
    processes: Annotated[int, typer.Option("--processes", min=1, help="worker processes")] = 2,
    threads: Annotated[int, typer.Option("--threads", min=1, help="threads per process")] = 8,
) -> None:
    """Run dramatiq workers over the project's actors (Prometheus metrics on :9191).

    `--queues ingest detect` names several queues after one flag, as the dramatiq CLI does.
    """
    queues = [*(queues or ()), *ctx.args]
    settings = _settings()
    if settings.embedded:
        err.print("[red]error:[/red] VERDICTS_REDIS_URL is not set; in embedded mode `verdicts web` runs the worker")
        raise typer.Exit(2)
    unknown = set(queues or ()) - set(QUEUES)
    if unknown:
        err.print(f"[red]error:[/red] unknown queue(s) {', '.join(sorted(unknown))}; known: {', '.join(QUEUES)}")
        raise typer.Exit(2)
    argv = ["dramatiq", "services.workers:boot_from_environment", "--processes", str(processes),
            "--threads", str(threads)]
    if queues:
        argv += ["--queues", *queues]
    os.environ["VERDICTS_WORKER_METRICS"] = "1"
    os.execvp(sys.executable, [sys.executable, "-m", *argv])


@app.command()
def scheduler() -> None:
    """Run the scheduler's ticks: outbox relay and sweep, poll ticks, the weekly digest."""
    _booted(_settings())
    from apscheduler.schedulers.blocking import BlockingScheduler

    from services.scheduler import add_ticks

    add_ticks(BlockingScheduler(timezone="UTC")).start()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    from services.core.db.migrate import upgrade

    rt = _plain(_settings())
    upgrade(rt.engine)
    console.print(f"database at head: {rt.engine.url.render_as_string(hide_password=True)}")


# --- sources -----------------------------------------------------------------------------------

@feeds_app.command("add")
def feeds_add(url: str, kind: Annotated[SourceKind, typer.Option(help="kind of source")] = SourceKind.FEED) -> None:
    """Watch one more source."""
    from services.ingest.sources import SourceError, add_source

    rt = _plain(_settings())
    try:
        with rt.sessions() as session, session.begin():
            source = add_source(session, url, kind)
            console.print(f"added source {source.id}: {url} ({kind.value})")
    except SourceError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


@feeds_app.command("list")
def feeds_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Every source with its state."""
    from services.ingest.sources import source_rows

    rt = _plain(_settings())
    with rt.sessions() as session:
        rows = source_rows(session)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "state", "kind", "url", "entries", "last success", "failures", "last error")
    for row in rows:
        table.add_row(str(row["id"]), str(row["state"]), str(row["kind"]), str(row["url"]), str(row["entries"]),
                      str(row["last_success_at"] or "—"), str(row["consecutive_failures"]), str(row["last_error"] or ""))
    console.print(table)


def _set_source_state(source_id: int, state: SourceState) -> None:
    from services.ingest.sources import SourceError, set_state

    rt = _plain(_settings())
    try:
        with rt.sessions() as session, session.begin():
            set_state(session, source_id, state, reason="by the command line")
    except SourceError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"source {source_id} is {state.value}")


@feeds_app.command("pause")
def feeds_pause(source_id: int) -> None:
    """Stop polling a source."""
    _set_source_state(source_id, SourceState.PAUSED)


@feeds_app.command("resume")
def feeds_resume(source_id: int) -> None:
    """Poll a paused source again, now."""
    _set_source_state(source_id, SourceState.ACTIVE)


@app.command()
def poll(
    once: Annotated[bool, typer.Option("--once", help="poll due sources now and return when done")] = False,
    every: Annotated[bool, typer.Option("--all", help="every active source, due or not")] = False,
) -> None:
    """Poll sources in this process, with a progress bar."""
    if not once:
        err.print("[red]error:[/red] say --once (the scheduler polls continuously)")
        raise typer.Exit(2)
    from services.ingest.pipeline import refresh_source
    from services.ingest.sources import due_source_ids

    rt = _plain(_settings())
    with rt.sessions() as session:
        ids = due_source_ids(session, every=every)
    failed = 0
    with Progress(console=console) as progress:
        task = progress.add_task("polling", total=len(ids))
        for source_id in ids:
            report = refresh_source(rt.sessions, source_id, rt.settings)
            failed += report.status == "failed"
            progress.advance(task)
    console.print(f"polled {len(ids)} source(s), {failed} failed")


# --- review ------------------------------------------------------------------------------------

@queue_app.command("list")
def queue_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Candidates waiting for review, newest first."""
    from services.review.queue import candidate_rows

    rt = _plain(_settings())
    with rt.sessions() as session:
        rows = candidate_rows(session)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "name", "score", "reasons", "evidence")
    for row in rows:
        table.add_row(str(row["id"]), str(row["name"]), str(row["score"]), "; ".join(row["reasons"]),  # type: ignore[arg-type]
                      str(len(row["evidence"])))  # type: ignore[arg-type]
    console.print(table)


@queue_app.command("approve")
def queue_approve(tool_id: int) -> None:
    """Approve a candidate and open it for the panel."""
    from services.review.queue import ReviewConflict, ReviewError, approve

    rt = _plain(_settings())
    try:
        with rt.sessions() as session, session.begin():
            tool = approve(session, tool_id, None)
            console.print(f"approved {tool.name!r}; the panel can now give its verdict")
    except (ReviewConflict, ReviewError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


@queue_app.command("reject")
def queue_reject(tool_id: int, reason: Annotated[str, typer.Option("--reason", help="why")]) -> None:
    """Reject a candidate, with a reason."""
    from services.review.queue import ReviewConflict, ReviewError, reject

    rt = _plain(_settings())
    try:
        with rt.sessions() as session, session.begin():
            tool = reject(session, tool_id, None, reason)
            console.print(f"rejected {tool.name!r}")
    except (ReviewConflict, ReviewError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


@users_app.command("add")
def users_add(
    email: str,
    role: Annotated[Role, typer.Option(help="what the person may do")],
    lens: Annotated[Optional[str], typer.Option(help="reviewers: the panel seat's lens")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Add a person; prints a generated password unless one comes on stdin."""
    import secrets

    from sqlalchemy import select

    from services.core.db.models import PanelSeat, User
    from services.core.passwords import hash_password

    password = sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(12)
    if len(password) < 10:
        err.print("[red]error:[/red] a password needs at least 10 characters")
        raise typer.Exit(2)
    rt = _plain(_settings())
    with rt.sessions() as session, session.begin():
        address = email.strip().lower()
        if session.scalar(select(User).where(User.email == address)) is not None:
            err.print(f"[red]error:[/red] {address} already exists")
            raise typer.Exit(1)
        user = User(email=address, role=role.value, password_hash=hash_password(password))
        session.add(user)
        session.flush()
        if role is Role.REVIEWER and lens:
            seat = session.scalar(select(PanelSeat).where(PanelSeat.lens == lens)) or PanelSeat(lens=lens)
            seat.user_id = user.id
            session.add(seat)
    console.print(f"added {address} as {role.value}" + (f" on the {lens} seat" if lens else ""))
    if not password_stdin:
        console.print(f"password (shown once): {password}")


# --- digest ------------------------------------------------------------------------------------

def _this_week() -> str:
    import datetime as dt

    from services.core.domain import iso_week

    return iso_week(dt.datetime.now(dt.timezone.utc).date())


@digest_app.command("compile")
def digest_compile(
    week: Annotated[Optional[str], typer.Option(help="ISO week, e.g. 2026-W48 (default: this week)")] = None,
    force: Annotated[bool, typer.Option("--force", help="compile even an empty week")] = False,
) -> None:
    """Compile the digest of a week (once: a second run finds it)."""
    from services.digest.compose import compile_week

    rt = _plain(_settings())
    label = week or _this_week()
    with rt.sessions() as session, session.begin():
        digest = compile_week(session, rt.settings, label, force=force)
        if digest is None:
            console.print(f"nothing to send for {label}: no new comparisons or tools (use --force)")
            return
        console.print(f"digest {digest.week}: {digest.subject!r} ({digest.state}, {len(digest.sections)} sections)")


@digest_app.command("preview")
def digest_preview(
    out: Annotated[Path, typer.Option("--out", help="folder for the preview files")],
    week: Annotated[Optional[str], typer.Option(help="ISO week (default: this week)")] = None,
) -> None:
    """Write the digest's subject, HTML and plain text to a folder."""
    from services.digest.compose import by_week

    rt = _plain(_settings())
    label = week or _this_week()
    with rt.sessions() as session:
        digest = by_week(session, label)
    if digest is None:
        err.print(f"[red]error:[/red] no digest for {label}; run `verdicts digest compile --week {label}` first")
        raise typer.Exit(1)
    out.mkdir(parents=True, exist_ok=True)
    (out / "subject.txt").write_text(digest.subject + "\n", encoding="utf-8")
    (out / "digest.html").write_text(digest.html or "", encoding="utf-8")
    (out / "digest.txt").write_text(digest.text or "", encoding="utf-8")
    console.print(f"wrote subject.txt, digest.html and digest.txt to {out}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
