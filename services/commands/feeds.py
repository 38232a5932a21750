"""`verdicts feeds …` and `verdicts poll`: the sources we watch."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from services.commands import common
from services.core.domain import SourceKind, SourceState

app = typer.Typer(help="Sources we poll.", no_args_is_help=True)

@app.command("add")
def feeds_add(url: str, kind: Annotated[SourceKind, typer.Option(help="kind of source")] = SourceKind.FEED) -> None:
    """Watch one more source."""
    from services.ingest.sources import SourceError, add_source

    rt = common.plain(common.settings())
    try:
        with rt.sessions() as session, session.begin():
            source = add_source(session, url, kind)
            common.console.print(f"added source {source.id}: {url} ({kind.value})")
    except SourceError as exc:
        common.err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


@app.command("list")
def feeds_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Every source with its state."""
    from services.ingest.sources import source_rows

    rt = common.plain(common.settings())
    with rt.sessions() as session:
        rows = source_rows(session)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "state", "kind", "url", "entries", "last success", "failures", "last error")
    for row in rows:
        table.add_row(str(row["id"]), str(row["state"]), str(row["kind"]), str(row["url"]), str(row["entries"]),
                      str(row["last_success_at"] or "—"), str(row["consecutive_failures"]), str(row["last_error"] or ""))
    common.console.print(table)


def _set_source_state(source_id: int, state: SourceState) -> None:
    from services.ingest.sources import SourceError, set_state

    rt = common.plain(common.settings())
    try:
        with rt.sessions() as session, session.begin():
            set_state(session, source_id, state, reason="by the command line")
    except SourceError as exc:
        common.err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    common.console.print(f"source {source_id} is {state.value}")


@app.command("pause")
def feeds_pause(source_id: int) -> None:
    """Stop polling a source."""
    _set_source_state(source_id, SourceState.PAUSED)


@app.command("resume")
def feeds_resume(source_id: int) -> None:
    """Poll a paused source again, now."""
    _set_source_state(source_id, SourceState.ACTIVE)


def poll(
    once: Annotated[bool, typer.Option("--once", help="poll due sources now and return when done")] = False,
    every: Annotated[bool, typer.Option("--all", help="every active source, due or not")] = False,
) -> None:
    """Poll sources in this process, with a progress bar."""
    if not once:
        common.err.print("[red]error:[/red] say --once (the scheduler polls continuously)")
        raise typer.Exit(2)
    from services.ingest.pipeline import refresh_source
    from services.ingest.sources import due_source_ids

    rt = common.plain(common.settings())
    with rt.sessions() as session:
        ids = due_source_ids(session, every=every)
    failed = 0
    with Progress(console=common.console) as progress:
        task = progress.add_task("polling", total=len(ids))
        for source_id in ids:
            report = refresh_source(rt.sessions, source_id, rt.settings)
            failed += report.status == "failed"
            progress.advance(task)
    common.console.print(f"polled {len(ids)} source(s), {failed} failed")
