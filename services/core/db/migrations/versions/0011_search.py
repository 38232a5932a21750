"""Full-text search over tools and comparisons: weighted tsvector columns on PostgreSQL, FTS5 tables on SQLite.

PostgreSQL: a stored generated ``search_vector`` (English configuration) on ``tools`` (name and tagline
weigh A, vendor and category B, description C) and on ``comparisons`` (headline A, category B, editor's
note C), and a ``search_title`` of the A fields alone (so a word in names is found without reading every
description that has it), each with a GIN index; b-tree indexes for a category's page (models). SQLite:
external-content FTS5 tables ``tools_fts`` and ``comparisons_fts`` (porter stemming) kept in step by
triggers. Neither is a model: the names are listed in ``services.core.db.unmodelled`` so autogenerate
leaves them alone. A later SQLite batch migration that recreates ``tools`` or ``comparisons`` drops their
triggers and must create them again.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: table -> (FTS5 columns, PostgreSQL title vector expression, PostgreSQL weighted vector expression)
SEARCHED = {
    "tools": (
        ("name", "tagline", "vendor", "category", "description"),
        "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(tagline, ''))",
        ("setweight(to_tsvector('english', coalesce(name, '') || ' ' || coalesce(tagline, '')), 'A') || "
         "setweight(to_tsvector('english', coalesce(vendor, '') || ' ' || coalesce(category, '')), 'B') || "
         "setweight(to_tsvector('english', coalesce(description, '')), 'C')"),
    ),
    "comparisons": (
        ("headline", "category", "editor_note"),
        "to_tsvector('english', coalesce(headline, ''))",
        ("setweight(to_tsvector('english', coalesce(headline, '')), 'A') || "
         "setweight(to_tsvector('english', coalesce(category, '')), 'B') || "
         "setweight(to_tsvector('english', coalesce(editor_note, '')), 'C')"),
    ),
}


def _sqlite_upgrade(table: str, columns: tuple[str, ...]) -> None:
    fts = f"{table}_fts"
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    remove = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
    add = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});"
    op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', content_rowid='id', "
               "tokenize='porter unicode61')")
    op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add} END")
    op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {remove} END")
    op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} BEGIN {remove} {add} END")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, (columns, title, vector) in SEARCHED.items():
        if sqlite:
            _sqlite_upgrade(table, columns)
            continue
        for column, expression in (("search_title", title), ("search_vector", vector)):
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column} tsvector GENERATED ALWAYS AS ({expression}) STORED")
            op.execute(f"CREATE INDEX ix_{table}_{column} ON {table} USING gin ({column})")
    #: A category's page counts and lists its approved tools by name, and counts its comparisons, from these.
    op.create_index("ix_tools_category_state_name", "tools", ["category", "state", "name"])
    op.create_index("ix_comparisons_category_state", "comparisons", ["category", "state"])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_tools_category_state_name", "tools")
    op.drop_index("ix_comparisons_category_state", "comparisons")
    for table in SEARCHED:
        if sqlite:
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
        else:
            for column in ("search_title", "search_vector"):
                op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}")
                op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column}")
