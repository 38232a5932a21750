"""`verdicts subscribers …`: import, export, add and remove subscribers."""

from __future__ import annotations

import contextlib
import csv
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.commands import common

app = typer.Typer(help="The subscriber list.", no_args_is_help=True)


@app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV with an `email` column (or emails in the first column)")],
    confirmed: Annotated[bool, typer.Option("--confirmed", help="the list opted in elsewhere: no confirmation mail")] = False,
) -> None:
    """Import addresses; each new one gets the confirmation mail unless --confirmed. Duplicates are skipped."""
    from services.delivery import subscribers

    rt = common.plain(common.settings())
    with open(file, encoding="utf-8-sig", newline="") as handle:
        lines = sum(1 for _ in csv.reader(handle))
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=common.err) as progress:
        task = progress.add_task("import", total=lines)
        report = subscribers.import_rows(rt.sessions, rt.settings, subscribers.read_csv(str(file)), confirmed,
                                         advance=lambda n: progress.advance(task, n))
    common.console.print(f"added {report.added}, already on the list {report.already}, rejected {len(report.rejected)}"
                         + ("" if confirmed else f" (confirmation mail sent to {report.added})"))
    if report.rejected:
        table = common.table("line", "value", "reason", title="Rejected rows")
        for line, value, reason in report.rejected:
            table.add_row(str(line), value, reason)
        common.console.print(table)


@app.command("export")
def export(out: Annotated[Path | None, typer.Option("--out", help="file to write (default: standard output)")] = None) -> None:
    """Write every subscriber as CSV."""
    from services.delivery import subscribers

    rt = common.plain(common.settings())
    target = open(out, "w", encoding="utf-8", newline="") if out else contextlib.nullcontext(sys.stdout)  # noqa: SIM115
    with rt.sessions() as session, target as handle:
        csv.writer(handle).writerows(subscribers.export_rows(session))


@app.command("add")
def add(
    email: str,
    confirmed: Annotated[bool, typer.Option("--confirmed", help="opted in elsewhere: no confirmation mail")] = False,
) -> None:
    """Add one address (a confirmation mail goes out unless --confirmed)."""
    from services.delivery import subscribers

    rt = common.plain(common.settings())
    with common.refusals(about=email), rt.sessions() as session, session.begin():
        added = subscribers.add(session, email, confirmed)
    if added is not None and not confirmed:
        subscribers.mail_confirmation(rt.settings, added)  # after the commit: the link names a stored subscriber
    common.console.print(f"added {email}" if added is not None else f"{email} is already on the list")


@app.command("remove")
def remove(email: str) -> None:
    """Erase a subscriber and their personal data (on their request)."""
    from services.delivery import subscribers

    rt = common.plain(common.settings())
    with common.refusals(about=email), rt.sessions() as session, session.begin():
        removed = subscribers.forget(session, email)
    if not removed:
        common.err.print(f"[red]error:[/red] no subscriber {email}")
        raise typer.Exit(1)
    common.console.print(f"removed {email} and their data")
