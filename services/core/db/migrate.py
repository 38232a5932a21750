"""Run Alembic from code, so `verdicts db upgrade` and the tests need no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

MIGRATIONS = Path(__file__).with_name("migrations")
#: Where Alembic keeps the revisions a database is at (its default name; env.py keeps it).
VERSION_TABLE = "alembic_version"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision`` over that engine's own connection."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def behind(engine: Engine) -> bool:
    """True when the database behind ``engine`` lacks a migration of this version: never migrated, or at an
    older revision (its ``alembic_version`` revisions are all known to these scripts, and are not their heads).

    A database a newer release has migrated (a revision unknown here) is not behind: processes of the older
    release keep running on it during a rolling deploy. Reads the table itself, where Alembic's
    MigrationContext would log at info on every command.
    """
    script = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False)))
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return True
        current = set(connection.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))
    known = {revision.revision for revision in script.walk_revisions()}
    return current <= known and current != set(script.get_heads())
