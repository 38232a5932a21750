"""What every command shares: the consoles, loading settings, building a runtime, printing a refusal.

Whatever a person typed or a remote server sent (an address, a URL, an error) may hold ``[...]``, which
rich reads as markup: refusals escape it (``rich.markup.escape``) and tables show their cells as written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.style import StyleType
from rich.table import Column, Table
from rich.text import Text

from services.core.errors import DomainError
from services.core.limits import ROW_ID_MAX
from services.core.runtime import Runtime
from services.core.settings import Settings, SettingsError, load_settings

#: A row id as commands take it: 1..``ROW_ID_MAX`` (the database's integer range), so an id past it is a
#: usage error naming the argument, never an overflow in the database.
ROW_ID: dict[str, int] = {"min": 1, "max": ROW_ID_MAX}
#: The ``ID`` argument of a command acting on one row (``queue approve ID``, ``users revoke-token ID``…).
RowIdArgument = Annotated[int, typer.Argument(**ROW_ID)]

#: The audit log's note on changes made at the command line (they have no signed-in user).
BY_CLI = "by the command line"

#: The width of a console that is not a terminal: no line of ours comes near it, so none is wrapped or cut.
UNBOUNDED = 1_000_000


def _console(*, stderr: bool = False) -> Console:
    """At a terminal, rich's console: it fits the window (text wraps, table cells fold). Anywhere else (a
    pipe, a file, CI) every line is printed whole: text is not wrapped and a table is as wide as its widest
    row, where rich would otherwise assume 80 columns and break a URL over two lines."""
    at_terminal = Console(stderr=stderr)
    if at_terminal.is_terminal:
        return at_terminal
    return Console(stderr=stderr, soft_wrap=True, width=UNBOUNDED)


console = _console()
err = _console(stderr=True)


class _LiteralTable(Table):
    """A ``Table`` whose ``str`` cells are shown as written (as ``rich.text.Text``), never read as markup."""

    def add_row(self, *renderables: RenderableType | None, style: StyleType | None = None,
                end_section: bool = False) -> None:
        """``Table.add_row`` with each ``str`` cell made a ``Text``; other renderables (a styled ``Text``) as given."""
        cells = (Text(cell) if isinstance(cell, str) else cell for cell in renderables)
        super().add_row(*cells, style=style, end_section=end_section)


def table(*headers: str, **options: object) -> Table:
    """A rich ``Table`` with these column headers whose cells are never cut: at a terminal too narrow for a
    value (a URL, an address, an error), the value folds onto more lines and the row grows, instead of
    ending in "…". ``str`` cells are shown as written: "[bold]" in a remote error is text, not markup (a
    styled cell is a ``rich.text.Text``). ``options`` are ``Table``'s own (title, caption…)."""
    return _LiteralTable(*(Column(header, overflow="fold") for header in headers), **options)  # type: ignore[arg-type]


def settings(**overrides: object) -> Settings:
    """The settings, or exit 2 with the message that names the bad variable."""
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def with_redis(instead: str) -> Settings:
    """The settings (``settings``) of a command that needs the Redis broker; exit 2 in embedded mode (no
    ``VERDICTS_REDIS_URL``) with one line that ends in ``instead``: what to use there."""
    loaded = settings()
    if loaded.embedded:
        err.print(f"[red]error:[/red] VERDICTS_REDIS_URL is not set; {instead}")
        raise typer.Exit(2)
    return loaded


def booted(loaded: Settings, *, migrate: bool = False) -> Runtime:
    """Broker, runtime and actors, for commands that send messages or run workers.

    ``migrate``: first bring the database to this version's schema (embedded `web` and `demo`, which own
    their SQLite file); otherwise a database that lacks a migration ends the command (``migrated``).
    """
    from services.workers import boot

    rt = boot(loaded)
    if not migrate:
        return migrated(rt)
    from services.core.db.migrate import upgrade

    upgrade(rt.engine)
    return rt


def plain(loaded: Settings) -> Runtime:
    """A runtime with no broker, for commands that only read and write the database (``migrated``)."""
    return migrated(Runtime.from_settings(loaded))


def migrated(rt: Runtime) -> Runtime:
    """``rt`` unless its database lacks migrations of this version (``migrate.behind``): then exit 2 with one
    line that says to run `verdicts db upgrade`, instead of a traceback at the first query ("no such table").

    Nothing migrates by itself here: a command run in the wrong folder would otherwise quietly create and
    fill a new embedded database there, and production's schema changes when its operator says so.
    """
    from services.core.db.migrate import behind

    if behind(rt.engine):
        where = escape(rt.engine.url.render_as_string(hide_password=True))
        err.print(f"[red]error:[/red] the database {where} lacks migrations of this version: "
                  "run `verdicts db upgrade` first")
        raise typer.Exit(2)
    return rt


@contextmanager
def refusals(exit_code: int = 1, about: str | None = None) -> Iterator[None]:
    """Turn a domain refusal (``services.core.errors.DomainError``) raised inside into one line on stderr
    ("error: [about: ]message", both printed as written, never as markup) and exit ``exit_code``; open the
    transaction inside, so it rolls back first."""
    try:
        yield
    except DomainError as exc:
        err.print(f"[red]error:[/red] {escape(about) + ': ' if about else ''}{escape(str(exc))}")
        raise typer.Exit(exit_code) from exc


@contextmanager
def writing(path: Path, verb: str = "write") -> Iterator[None]:
    """Turn an ``OSError`` while writing ``path`` (a folder where a file belongs, a missing or read-only
    parent, a full disk), or while reading it with ``verb="read"``, into one line on stderr ("error: cannot
    <verb> <path>: <reason>") and exit 1, instead of a traceback."""
    try:
        yield
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot {verb} {escape(str(path))}: {escape(exc.strerror or str(exc))}")
        raise typer.Exit(1) from exc
