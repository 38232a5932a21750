"""The migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from services.core.db.base import Base
from services.core.db.migrate import VERSION_TABLE, alembic_config, behind, upgrade
from services.core.db.session import make_engine
from services.core.db.unmodelled import include_object
from services.core.runtime import Runtime

CORE_TABLES = {
    "sources", "entries", "tools", "evidence", "users", "api_tokens", "audit_log", "panel_seats", "scorecards",
    "verdicts", "comparisons", "votes", "subscribers", "digests", "delivery_batches", "events",
}


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database behind ``engine`` down to ``revision`` (the product only ever upgrades)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_upgrade_creates_every_core_table(any_runtime: Runtime) -> None:
    # Given a database migrated from empty to head (by the fixture)
    tables = set(inspect(any_runtime.engine).get_table_names())
    # Then every core entity has its table, and Alembic knows the revision
    assert CORE_TABLES <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_agree(any_runtime: Runtime) -> None:
    # Given the migrated schema
    with any_runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        # When autogenerate compares it with the models (without the search objects no model describes, as env.py)
        diff = compare_metadata(context, Base.metadata)
    # Then nothing is pending
    assert diff == []


def test_upgrade_is_repeatable_and_downgrade_empties_the_database(any_runtime: Runtime) -> None:
    # Given a database at head, When upgrade runs again, Then nothing changes
    upgrade(any_runtime.engine)
    # When it is downgraded to base
    downgrade(any_runtime.engine, "base")
    # Then no project table is left, and upgrading again restores them
    assert not CORE_TABLES & set(inspect(any_runtime.engine).get_table_names())
    upgrade(any_runtime.engine)
    assert CORE_TABLES <= set(inspect(any_runtime.engine).get_table_names())



def test_only_the_search_objects_are_left_out_of_the_comparison(any_runtime: Runtime) -> None:
    # Given the migrated schema, compared with the models without the filter
    with any_runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    # Then autogenerate would only drop the full-text search objects the migrations made, and the filter keeps each
    found = [(step[0].removeprefix("remove_"), step[-1].name) for step in (s[0] if isinstance(s, list) else s
                                                                         for s in diff)]
    assert found and all(kind in ("table", "index", "column") for kind, _ in found)
    assert not any(include_object(None, name, kind, True, None) for kind, name in found)


def test_a_database_is_behind_until_migrated_to_head_but_not_once_a_newer_release_migrated_it(tmp_path: Path) -> None:
    # Given an empty SQLite database
    engine = make_engine(f"sqlite:///{tmp_path / 'behind.db'}")
    # Then it is behind before any migration, and at the first revision
    assert behind(engine)
    upgrade(engine, "0001")
    assert behind(engine)
    # And not once at head, nor when a newer release has moved it to a revision this one does not know
    upgrade(engine)
    assert not behind(engine)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'a-newer-release'"))
    assert not behind(engine)
    engine.dispose()


def test_events_nothing_handles_written_before_0014_are_marked_handled_by_it(any_runtime: Runtime) -> None:
    # Given a database at 0013 holding an unhandled event of a type nothing handles, and one of a handled type
    engine = any_runtime.engine
    downgrade(engine, "0013")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM events"))
        connection.execute(text("INSERT INTO events (type, payload, created_at, publish_count) VALUES "
                                "('entry.ingested', '{}', CURRENT_TIMESTAMP, 0), "
                                "('digest.approved', '{}', CURRENT_TIMESTAMP, 0)"))
    # When it is upgraded
    upgrade(engine)
    # Then the record-only event is handled (as of when it was written), the other still waits for its handler
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT type, handled_at IS NOT NULL FROM events")).all())
    assert rows == {"entry.ingested": True, "digest.approved": False}
