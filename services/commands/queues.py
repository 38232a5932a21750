"""`verdicts queues [--json] [--watch]`: every broker queue with its figures, as a table or JSON."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from services.commands import common

WATCH_SECONDS = 2.0
#: What stops `--watch`: Ctrl-C, and the polite stop of a process manager or `timeout`.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def table(rows: list[dict[str, object]]) -> Table:
    grid = common.table("queue", "ready", "delayed", "in flight", "dead", "processed 1 h", "failed 1 h",
                        title="Broker queues", caption=time.strftime("%H:%M:%S"))
    for row in rows:
        dead = Text(str(row["dead"]), style="red") if row["dead"] else "0"
        grid.add_row(str(row["name"]), str(row["ready"]), str(row["delayed"]), str(row["in_flight"]), dead,
                     str(row["processed_last_hour"]), str(row["failed_last_hour"]))
    return grid


def queues(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON (one document; with --watch one a line)")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="refresh every 2 s until Ctrl-C")] = False,
) -> None:
    """Every queue in the broker: ready, delayed, in flight, dead-lettered, and the last hour."""
    settings = common.with_redis("the embedded broker lives inside `verdicts web` (see its /ops page)")
    from services.core import broker
    from services.workers import boot

    boot(settings)  # the broker only: the figures live in Redis, not in the database
    from services.ops.overview import queue_rows

    def rows() -> list[dict[str, object]]:
        return [row.as_dict() for row in queue_rows(broker.current())]

    if not watch:
        if as_json:
            print(json.dumps(rows(), indent=2))
        else:
            common.console.print(table(rows()))
        return
    if as_json:
        until_stopped(lambda: print(json.dumps(rows()), flush=True))
    elif not common.console.is_terminal:
        until_stopped(lambda: common.console.print(table(rows())))
    else:
        with Live(console=common.console, auto_refresh=False) as live:
            until_stopped(lambda: live.update(table(rows()), refresh=True))


def until_stopped(show: Callable[[], None]) -> None:
    """Call ``show`` now and then every ``WATCH_SECONDS``, until SIGINT (Ctrl-C) or SIGTERM; then return.

    The handlers are installed here, not left to Python: a process started with SIGINT ignored (every
    background job of a non-interactive shell, so a CI step or script that runs commands with ``&``)
    never gets Python's KeyboardInterrupt and would watch forever. Each signal also sets a flag, so a
    KeyboardInterrupt that lands where it is swallowed (inside a ``__del__``) still ends the loop at its
    next turn. The handlers found are put back before returning.
    """
    stopped: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopped.append(signum)
        raise KeyboardInterrupt  # cuts the sleep, or the broker read in progress, short

    found = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        while not stopped:
            show()
            time.sleep(WATCH_SECONDS)
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in found.items():
            signal.signal(signum, handler)
