"""`verdicts queue …`: the review queue from the command line (decisions are audited as "command line")."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from services.commands import common
from services.review.tool_edits import EDITABLE_FIELDS, ToolEdits

app = typer.Typer(help="The review queue.", no_args_is_help=True)


@app.command("list")
def queue_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    state: Annotated[str, typer.Option(help="candidate, snoozed, approved, rejected or merged")] = "candidate",
    source: Annotated[str | None, typer.Option(help="only candidates seen on this source URL")] = None,
    category: Annotated[str | None, typer.Option(help="only this category")] = None,
    min_score: Annotated[float | None, typer.Option(help="only candidates scoring at least this")] = None,
    search: Annotated[str | None, typer.Option(help="name or vendor contains")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many")] = 100,
) -> None:
    """Candidates waiting for review, newest first."""
    from services.review.queue import QueueFilter, candidate_rows

    rt = common.plain(common.settings())
    with common.refusals(exit_code=2), rt.sessions() as session:
        rows = candidate_rows(session, QueueFilter(state, source, category, min_score, search), limit)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = common.table("id", "name", "vendor", "score", "reasons", "evidence")
    for row in rows:
        table.add_row(str(row["id"]), str(row["name"]), str(row["vendor"] or ""), str(row["score"]),
                      "; ".join(row["reasons"]), str(len(row["evidence"])))  # type: ignore[arg-type]
    common.console.print(table)


def _decide(act: Callable[[Session], object], done: Callable[[object], str]) -> None:
    rt = common.plain(common.settings())
    with common.refusals(), rt.sessions() as session, session.begin():
        common.console.print(done(act(session)))


def _with_edit_options(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` taking one ``--<fact>`` option per editable tool fact (``EDITABLE_FIELDS``) as ``**edits``."""
    fixed = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.kind is not p.VAR_KEYWORD]
    options = [inspect.Parameter(
        fact.name, inspect.Parameter.KEYWORD_ONLY, default=None,
        annotation=Annotated[str | None, typer.Option(help=f"corrected {fact.label.lower()}"
                                                      + (f", e.g. {fact.example}" if fact.example else ""))])
        for fact in EDITABLE_FIELDS]
    command.__signature__ = inspect.Signature([*fixed, *options])  # type: ignore[attr-defined]
    return command


@app.command("approve")
@_with_edit_options
def queue_approve(tool_id: common.RowIdArgument, **edits: str | None) -> None:
    """Approve a candidate (with corrections) and open it for the panel."""
    from services.review.queue import approve

    _decide(lambda s: approve(s, tool_id, None, ToolEdits(**edits)),
            lambda tool: f"approved {tool.name!r}; the panel can now give its verdict")  # type: ignore[attr-defined]


@app.command("reject")
def queue_reject(tool_id: common.RowIdArgument, reason: Annotated[str, typer.Option("--reason", help="why")]) -> None:
    """Reject a candidate, with a reason."""
    from services.review.queue import reject

    _decide(lambda s: reject(s, tool_id, None, reason), lambda tool: f"rejected {tool.name!r}")  # type: ignore[attr-defined]


@app.command("merge")
def queue_merge(tool_id: common.RowIdArgument, into: Annotated[int, typer.Option("--into", **common.ROW_ID, help="id of the existing tool")]) -> None:
    """Fold a duplicate candidate into an existing tool."""
    from services.review.queue import merge

    _decide(lambda s: merge(s, tool_id, into, None), lambda tool: f"merged {tool.name!r} into tool {into}")  # type: ignore[attr-defined]


@app.command("snooze")
def queue_snooze(tool_id: common.RowIdArgument, days: Annotated[int, typer.Option(min=1, max=365, help="days to put it aside")] = 7) -> None:
    """Put a candidate aside for some days."""
    from services.review.queue import snooze

    _decide(lambda s: snooze(s, tool_id, None, days), lambda tool: f"snoozed {tool.name!r} for {days} days")  # type: ignore[attr-defined]
