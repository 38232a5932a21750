"""What every command shares: the consoles, loading settings, building a runtime."""

from __future__ import annotations

import typer
from rich.console import Console

from services.core.runtime import Runtime
from services.core.settings import Settings, SettingsError, load_settings

console = Console()
err = Console(stderr=True)


def settings(**overrides: object) -> Settings:
    """The settings, or exit 2 with the message that names the bad variable."""
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def booted(loaded: Settings) -> Runtime:
    """Broker, runtime and actors, for commands that send messages or run workers."""
    from services.workers import boot

    return boot(loaded)


def plain(loaded: Settings) -> Runtime:
    """A runtime with no broker, for commands that only read and write the database."""
    return Runtime.from_settings(loaded)

