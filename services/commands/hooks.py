"""`verdicts hooks …`: outgoing webhook endpoints, their deliveries and replays.

The commands only write the database: the scheduler's tick hands what is due to the worker, so a delivery
added or replayed here goes out within a tick of a running scheduler.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from services.commands import common

app = typer.Typer(help="Outgoing webhooks: endpoints told of what happens here.", no_args_is_help=True)


@app.command("add")
def hooks_add(
    url: str,
    event: Annotated[list[str] | None, typer.Option("--event", help="an event type to send (repeat it); "
                                                    "default: every type")] = None,
    description: Annotated[str, typer.Option(help="what the endpoint is for")] = "",
) -> None:
    """Register an endpoint and print its signing secret, once. Event types: tool.queued, tool.approved,
    verdict.completed, comparison.published, digest.sent. Exits 1, adding nothing, for an address the
    SSRF guard refuses (private or local networks unless VERDICTS_ALLOW_PRIVATE_NETWORKS), a malformed URL or
    one with a user name or password, an unknown type, or a URL already told of one of these types."""
    from services.hooks.endpoints import EVENT_TYPES, register

    rt = common.plain(common.settings())
    with common.refusals(), rt.sessions() as session, session.begin():
        made = register(session, url, description, list(event or EVENT_TYPES),
                        allow_private_networks=rt.settings.allow_private_networks, user_id=None, note=common.BY_CLI)
        endpoint_id, stored, types = made.endpoint.id, made.endpoint.url, made.endpoint.event_types
    common.console.print(f"added webhook endpoint {endpoint_id}: {stored} ({', '.join(types)})", markup=False)
    common.console.print(f"signing secret (shown only now): {made.secret}", markup=False)


@app.command("list")
def hooks_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Every endpoint with its event types and its deliveries by state."""
    from services.hooks.endpoints import endpoint_rows

    rt = common.plain(common.settings())
    with rt.sessions() as session:
        rows = endpoint_rows(session)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = common.table("id", "url", "events", "description", "secret", "pending", "succeeded", "failed")
    for row in rows:
        table.add_row(str(row["id"]), str(row["url"]), ", ".join(row["event_types"]),  # type: ignore[arg-type]
                      str(row["description"]), str(row["secret_hint"]), str(row["pending"]), str(row["succeeded"]),
                      str(row["failed"]))
    common.console.print(table)


@app.command("remove")
def hooks_remove(endpoint_id: common.RowIdArgument) -> None:
    """Delete an endpoint with its deliveries; nothing more is sent to it (audit-logged)."""
    from services.hooks.endpoints import remove

    rt = common.plain(common.settings())
    with common.refusals(), rt.sessions() as session, session.begin():
        url = remove(session, endpoint_id, user_id=None, note=common.BY_CLI).url
    common.console.print(f"removed webhook endpoint {endpoint_id}: {url}", markup=False)


@app.command("deliveries")
def hooks_deliveries(endpoint_id: common.RowIdArgument,
                     as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """An endpoint's 50 newest deliveries with their last attempts (status, duration, error)."""
    from services.hooks.deliveries import delivery_rows
    from services.hooks.endpoints import get

    rt = common.plain(common.settings())
    with common.refusals(), rt.sessions() as session:
        get(session, endpoint_id)
        rows = delivery_rows(session, endpoint_id)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = common.table("id", "event", "state", "attempts", "last attempt", "next attempt", "created")
    for row in rows:
        last = row["last_attempts"][0] if row["last_attempts"] else None  # type: ignore[index]
        shown = "—" if last is None else (f"{last['status_code'] or 'no answer'} in {last['duration_ms']} ms"
                                          + (f": {last['error']}" if last["error"] else ""))
        table.add_row(str(row["id"]), str(row["event_type"]), str(row["state"]), str(row["attempts"]), shown,
                      str(row["next_attempt_at"] or "—"), str(row["created_at"]))
    common.console.print(table)


@app.command("replay")
def hooks_replay(
    endpoint_id: common.RowIdArgument,
    delivery: Annotated[int | None, typer.Option("--delivery", help="replay this delivery", **common.ROW_ID)] = None,
    failed: Annotated[bool, typer.Option("--failed", help="replay every failed delivery not replayed yet")] = False,
) -> None:
    """Send a delivery again (same webhook-id and body, fresh attempts), or every failed one; audit-logged.
    Exits 1 for a delivery still being tried or not the endpoint's, 2 without exactly one of the options."""
    from services.hooks import deliveries

    if (delivery is None) == (not failed):
        common.err.print("[red]error:[/red] give either --delivery ID or --failed")
        raise typer.Exit(2)
    rt = common.plain(common.settings())
    with common.refusals(), rt.sessions() as session, session.begin():
        if delivery is not None:
            made = [deliveries.replay(session, endpoint_id, delivery, user_id=None, note=common.BY_CLI)]
        else:
            made = deliveries.replay_failed(session, endpoint_id, user_id=None, note=common.BY_CLI)
        pairs = [(d.replay_of_id, d.id) for d in made]
    for old, new in pairs:
        common.console.print(f"delivery {old} replayed as delivery {new}")
    common.console.print(f"{len(pairs)} delivery(ies) queued again")
