"""`verdicts`: the one place that wires settings, broker, runtime and the packages together.

Heavy modules are imported inside commands, after the broker is set up, because actors bind to
the broker that exists when their module is imported.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from services.commands import (
    common,
    db,
    detect,
    digest,
    feeds,
    hooks,
    queues,
    review,
    send,
    subscribers,
    users,
    webhooks,
)
from services.core import links
from services.core.broker import QUEUES
from services.core.logging import configure as configure_logging
from services.core.runtime import Runtime

if TYPE_CHECKING:
    from dramatiq import Worker
    from fastapi import FastAPI

app = typer.Typer(help="verdicts: detect new AI tools, judge them, mail the weekly digest.", no_args_is_help=True)
app.add_typer(db.app, name="db")
app.add_typer(feeds.app, name="feeds")
app.add_typer(detect.app, name="detect")
app.add_typer(review.app, name="queue")
app.add_typer(users.app, name="users")
app.add_typer(digest.app, name="digest")
app.add_typer(subscribers.app, name="subscribers")
app.add_typer(hooks.app, name="hooks")
app.add_typer(webhooks.app, name="webhooks")
digest.app.command("send")(send.send)
app.command("poll")(feeds.poll)
app.command("queues")(queues.queues)
console, err = common.console, common.err
#: How long Ctrl-C waits for the in-process worker's messages in hand before the process ends (the
#: outbox sweeper sends any event they left unhandled again).
STOP_TIMEOUT_MS = 10_000


@app.callback()
def _logging(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False) -> None:
    configure_logging(logging.DEBUG if verbose else logging.INFO)  # JSON lines unless on a terminal


# --- processes ---------------------------------------------------------------------------------

@app.command()
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="stop after the flow")] = False,
    port: Annotated[int, typer.Option(help="port of the web app")] = 8000,
) -> None:
    """Run the whole flow once in embedded mode, then serve the web app."""
    # The demo's own feeds are served on 127.0.0.1; its links and mail point at the port it serves.
    settings = common.settings(allow_private_networks=True).served_at("127.0.0.1", port)
    rt = common.booted(settings, migrate=True)
    from services.demo import flow
    from services.workers import start_embedded_worker

    worker = start_embedded_worker()
    try:
        report = flow.run(rt, console.print)
    finally:
        if no_serve:
            worker.stop()
    base = settings.public_url
    console.print("\n[bold]What the demo did[/bold]")
    if report.editor_password:
        console.print(f"Editor account: {report.editor_email}  password: [bold]{report.editor_password}[/bold] "
                      "(shown once)")
    else:
        console.print(f"Editor account: {report.editor_email} (created by an earlier run; its password was shown then)")
    for path in report.outbox_files:
        console.print(f"Outbox: {path}  (+ {path.with_suffix('.html').name})")
    console.print(f"Review queue:    {base}/editor/queue")
    console.print(f"Comparison page: {links.comparison(settings, report.comparison_slug)}")
    console.print(f"Digest preview:  {base}/editor/digests/{report.week}")
    if no_serve:
        return
    _serve_embedded(rt, "127.0.0.1", port, worker)


@app.command()
def web(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 8000,
) -> None:
    """Serve the web app (in embedded mode also the worker and the scheduler, in-process)."""
    settings = common.settings().served_at(host, port)
    if settings.embedded:
        _serve_embedded(common.booted(settings, migrate=True), host, port)
        return
    from services.web.app import create_app

    _serve(create_app(common.booted(settings)), host=host, port=port)


def _serve_embedded(rt: Runtime, host: str, port: int, worker: Worker | None = None) -> None:
    """Serve the web app with the in-process worker (``worker``, or one started here) and scheduler; on
    Ctrl-C stop all three, the scheduler first so that no tick starts while the process winds down."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from services.scheduler import add_ticks
    from services.web.app import create_app
    from services.workers import start_embedded_worker

    worker = worker or start_embedded_worker()
    scheduler = add_ticks(BackgroundScheduler(timezone="UTC"))
    scheduler.start()
    console.print(f"Serving on http://{host}:{port} — Ctrl-C to stop")
    try:
        _serve(create_app(rt), host=host, port=port)
    finally:
        scheduler.shutdown()
        worker.stop(timeout=STOP_TIMEOUT_MS)


def _serve(app: FastAPI, **options: Any) -> None:
    """Run uvicorn (root logging: JSON lines) until Ctrl-C or SIGTERM, and return once it has shut down.

    uvicorn catches the signal, shuts down gracefully, then raises the signal again so that the default
    handler ends the process (``uvicorn.Server.capture_signals``): for Ctrl-C that is a KeyboardInterrupt
    here, after the clean shutdown, taken as the normal end of serving (exit 0).

    uvicorn's own proxy-header handling is off (by default it believes X-Forwarded-For from loopback):
    the app believes it only from ``VERDICTS_TRUSTED_PROXIES`` (``services.web.app.create_app``).
    """
    import uvicorn

    try:
        uvicorn.run(app, log_config=None, proxy_headers=False, **options)
    except KeyboardInterrupt:
        return


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
    common.with_redis("in embedded mode `verdicts web` runs the worker")
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
    common.booted(common.settings())
    from apscheduler.schedulers.blocking import BlockingScheduler

    from services.scheduler import add_ticks

    add_ticks(BlockingScheduler(timezone="UTC")).start()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
