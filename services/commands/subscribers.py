"""`verdicts subscribers …`: import, export, add and remove subscribers."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.commands import common
from services.core.text import clean_text

app = typer.Typer(help="The subscriber list.", no_args_is_help=True)


@app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV with an `email` column (or emails in the first column)")],
    confirmed: Annotated[bool, typer.Option("--confirmed", help="the list opted in elsewhere: no confirmation mail")] = False,
) -> None:
    """Import addresses; each new one gets the confirmation mail unless --confirmed. Duplicates are skipped.

    The encoding and the delimiter are sniffed (``services.core.csv_files.sniff``); rejected rows are listed
    with their row number and reason; exits 1 when no row named an address that is now on the list.
    """
    from services.core import csv_files
    from services.delivery import subscribers

    rt = common.plain(common.settings())
    form = csv_files.sniff(file)
    common.err.print(f"reading {escape(str(file))} as {form.encoding}, delimiter {escape(repr(form.delimiter))}")
    rows = sum(1 for _ in csv_files.read_rows(file, form))
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=common.err) as progress:
        task = progress.add_task("import", total=rows)
        report = subscribers.import_rows(rt.sessions, rt.settings, csv_files.read_rows(file, form), confirmed,
                                         advance=lambda n: progress.advance(task, n))
    common.console.print(f"added {report.added}, already on the list {report.already}, rejected {len(report.rejected)}"
                         + (f" (of those on the list, {report.confirmed} pending confirmed now)" if confirmed
                            else f" (confirmation mail on its way to {report.added})"))
    if report.rejected:
        table = common.table("row", "value", "reason", title="Rejected rows")
        for row, value, reason in report.rejected:
            # A rejected cell is untrusted: without control characters (and shown as written, ``common.table``),
            # it can neither send escape sequences to the terminal nor restyle the table.
            shown = [clean_text(cell, multiline=False) for cell in (value, reason)]
            table.add_row(str(row), *shown)
        common.console.print(table)
    if report.imported_nothing:
        common.err.print(f"[red]error:[/red] nothing imported from {escape(str(file))}")
        raise typer.Exit(1)


@app.command("export")
def export(out: Annotated[Path | None, typer.Option("--out", help="file to write (default: standard output)")] = None) -> None:
    """Write every subscriber as CSV (cells a spreadsheet would run as a formula start with a quote)."""
    from services.core import csv_files
    from services.delivery import subscribers

    rt = common.plain(common.settings())
    with common.writing(out or Path("-")):
        target = open(out, "w", encoding="utf-8", newline="") if out else contextlib.nullcontext(sys.stdout)  # noqa: SIM115
        with rt.sessions() as session, target as handle:
            csv_files.write_rows(handle, subscribers.export_rows(session))


@app.command("add")
def add(
    email: str,
    confirmed: Annotated[bool, typer.Option("--confirmed", help="opted in elsewhere: no confirmation mail")] = False,
) -> None:
    """Add one address (a confirmation mail goes out unless --confirmed); --confirmed also confirms an
    address on the list that is waiting for its confirmation."""
    from services.delivery import subscribers

    rt = common.plain(common.settings())
    with common.refusals(about=email), rt.sessions() as session, session.begin():
        done = subscribers.add(session, email, confirmed, smtputf8=rt.settings.mailer_smtputf8)
    if done.added:
        common.console.print(f"added {escape(email)}")
    elif done.confirmed:
        common.console.print(f"{escape(email)} was waiting for its confirmation: confirmed now")
    else:
        common.console.print(f"{escape(email)} is already on the list")


@app.command("remove")
def remove(email: str) -> None:
    """Erase a subscriber and their personal data (on their request)."""
    from services.delivery import subscribers

    rt = common.plain(common.settings())
    with common.refusals(about=email), rt.sessions() as session, session.begin():
        removed = subscribers.forget(session, email)
    if not removed:
        common.err.print(f"[red]error:[/red] no subscriber {escape(email)}")
        raise typer.Exit(1)
    common.console.print(f"removed {escape(email)} and their data")
