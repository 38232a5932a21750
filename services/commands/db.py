"""`verdicts db`: the store of record."""

from __future__ import annotations

import typer

from services.commands import common
from services.core.runtime import Runtime

app = typer.Typer(help="The store of record.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    from services.core.db.migrate import upgrade

    rt = Runtime.from_settings(common.settings())
    upgrade(rt.engine)
    common.console.print(f"database at head: {rt.engine.url.render_as_string(hide_password=True)}")
