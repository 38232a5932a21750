"""`verdicts queue …`: the review queue."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from services.commands import common

app = typer.Typer(help="The review queue.", no_args_is_help=True)

@app.command("list")
def queue_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Candidates waiting for review, newest first."""
    from services.review.queue import candidate_rows

    rt = common.plain(common.settings())
    with rt.sessions() as session:
        rows = candidate_rows(session)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "name", "score", "reasons", "evidence")
    for row in rows:
        table.add_row(str(row["id"]), str(row["name"]), str(row["score"]), "; ".join(row["reasons"]),  # type: ignore[arg-type]
                      str(len(row["evidence"])))  # type: ignore[arg-type]
    common.console.print(table)


@app.command("approve")
def queue_approve(tool_id: int) -> None:
    """Approve a candidate and open it for the panel."""
    from services.review.queue import ReviewConflict, ReviewError, approve

    rt = common.plain(common.settings())
    try:
        with rt.sessions() as session, session.begin():
            tool = approve(session, tool_id, None)
            common.console.print(f"approved {tool.name!r}; the panel can now give its verdict")
    except (ReviewConflict, ReviewError) as exc:
        common.err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


@app.command("reject")
def queue_reject(tool_id: int, reason: Annotated[str, typer.Option("--reason", help="why")]) -> None:
    """Reject a candidate, with a reason."""
    from services.review.queue import ReviewConflict, ReviewError, reject

    rt = common.plain(common.settings())
    try:
        with rt.sessions() as session, session.begin():
            tool = reject(session, tool_id, None, reason)
            common.console.print(f"rejected {tool.name!r}")
    except (ReviewConflict, ReviewError) as exc:
        common.err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
