"""`verdicts feeds …` and `verdicts poll`: the sources we watch."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from services.commands import common
from services.core.domain import SourceKind, SourceState

app = typer.Typer(help="Sources we poll.", no_args_is_help=True)


@app.command("add")
def feeds_add(
    url: str,
    kind: Annotated[SourceKind, typer.Option(help="kind of source")] = SourceKind.FEED,
    title: Annotated[str | None, typer.Option(help="a name to show")] = None,
) -> None:
    """Watch one more source once it has been fetched and parsed; a web page's own feed is found
    from its <link rel="alternate">. Exits 1, adding nothing, when nothing there reads as a source
    or the address is one the fetcher refuses (a private or local network)."""
    from services.ingest.refresh import policy_from
    from services.ingest.sources import add_source, readable_source

    rt = common.plain(common.settings())
    with common.refusals():
        feed_url, feed_kind = readable_source(url, kind, policy_from(rt.settings), rt.settings.hub_endpoint)
        with rt.sessions() as session, session.begin():
            source = add_source(session, feed_url, feed_kind, title, rt.settings.hub_endpoint)
            common.console.print(f"added source {source.id}: {source.url} ({feed_kind})"
                                 + (f", found on {url}" if feed_url != url else ""), markup=False)


@app.command("seed")
def feeds_seed() -> None:
    """Watch the default catalog: vendor blogs, GitHub releases of AI projects, Hub authors."""
    from services.ingest.sources import seed_catalog

    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        added = seed_catalog(session)
        for source in added:
            common.console.print(f"added {source.id}: {source.url} ({source.kind})", markup=False)
    common.console.print(f"{len(added)} source(s) added; the rest were watched already")


@app.command("list")
def feeds_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Every source with its state, last success and last error."""
    from services.ingest.sources import source_rows

    rt = common.plain(common.settings())
    with rt.sessions() as session:
        rows = source_rows(session)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = common.table("id", "state", "kind", "url", "entries", "last success", "failures", "last error",
                         "next poll")
    for row in rows:
        error = f"{row['last_error_kind']}: {row['last_error']}" if row["last_error"] else ""
        state = str(row["state"]) + (f" ({row['state_reason']})" if row["state_reason"] else "")
        table.add_row(str(row["id"]), state, str(row["kind"]), str(row["url"]), str(row["entries"]),
                      str(row["last_success_at"] or "—"), str(row["consecutive_failures"]), error,
                      str(row["next_poll_at"] or "—"))
    common.console.print(table)


@app.command("import")
def feeds_import(path: Annotated[Path, typer.Argument(help="an OPML file (any name; other readers' exports too)")]) -> None:
    """Watch every feed of an OPML file without fetching them; nested outlines and categories become
    tags. URLs watched already and refused outlines are reported; exits 1 when nothing was added and
    something was refused, or the file is no OPML we read."""
    from rich.markup import escape

    from services.ingest.opml import import_opml

    rt = common.plain(common.settings())
    with common.writing(path, verb="read"):
        data = path.read_bytes()
    with (common.refusals(), rt.sessions() as session, session.begin(),
          Progress(console=common.err, transient=True) as progress):
        task = progress.add_task("importing", total=None)
        report = import_opml(session, data, rt.settings.hub_endpoint,
                             lambda done, total: progress.update(task, completed=done, total=total))
        added = [(source.id, source.url) for source in report.added]
    for source_id, url in added:
        common.console.print(f"added source {source_id}: {url}", markup=False)
    for url in report.already:
        common.console.print(f"already watching {url}", markup=False)
    for url, reason in report.failed:
        common.err.print(f"[yellow]refused[/yellow] {escape(url)}: {escape(reason)}")
    common.console.print(f"{len(added)} added, {len(report.already)} watched already, {len(report.failed)} refused")
    if not added and report.failed:
        raise typer.Exit(1)


@app.command("export")
def feeds_export(out: Annotated[Path | None, typer.Option("--out", help="write here instead of stdout")] = None) -> None:
    """Every source as OPML 2.0, tags as nested outlines and a category attribute."""
    from services.ingest.opml import export_opml

    rt = common.plain(common.settings())
    with rt.sessions() as session:
        document = export_opml(session)
    if out is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    else:
        with common.writing(out):
            out.write_bytes(document)


def _set_source_state(source_id: int, state: SourceState) -> None:
    from services.ingest.sources import set_state

    rt = common.plain(common.settings())
    with common.refusals(), rt.sessions() as session, session.begin():
        set_state(session, source_id, state, reason=common.BY_CLI if state is not SourceState.ACTIVE else None)
    common.console.print(f"source {source_id} is {state}")


@app.command("pause")
def feeds_pause(source_id: common.RowIdArgument) -> None:
    """Stop polling a source."""
    _set_source_state(source_id, SourceState.PAUSED)


@app.command("resume")
def feeds_resume(source_id: common.RowIdArgument) -> None:
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
    from services.ingest.refresh import refresh_source
    from services.ingest.sources import due_source_ids

    rt = common.plain(common.settings())
    with rt.sessions() as session:
        ids = due_source_ids(session, every=every)
    failed = new = 0
    with Progress(console=common.console) as progress:
        task = progress.add_task("polling", total=len(ids))
        for source_id in ids:
            report = refresh_source(rt.sessions, source_id, rt.settings)
            failed += report.status == "failed"
            new += report.new_entries
            progress.advance(task)
    common.console.print(f"polled {len(ids)} source(s): {new} new entries, {failed} failed")
    if ids and failed == len(ids):
        common.err.print("[red]error:[/red] every polled source failed; `verdicts feeds list` shows why")
        raise typer.Exit(1)


@app.command("tie")
def feeds_tie(source_id: common.RowIdArgument, tool: Annotated[str, typer.Option("--tool", help="key of the tool, e.g. github:owner/repo")]) -> None:
    """Tie a changelog source to a tool: its items become updates of that tool."""
    from services.ingest.ties import tie_source

    rt = common.plain(common.settings())
    with common.refusals(), rt.sessions() as session, session.begin():
        source = tie_source(session, source_id, tool)
        common.console.print(f"source {source.id} is tied to {source.tool_key}", markup=False)
