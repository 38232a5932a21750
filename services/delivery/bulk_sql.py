"""Statements over many rows at once: one per table per batch, fast on PostgreSQL, plain elsewhere.

On PostgreSQL, rows travel as one JSON document read by ``json_to_recordset`` and id lists as one array with
``= ANY``: a statement has a parameter or two whatever the row count (psycopg rewrites a statement's text on
each call and quotes each element of a text array with a regular expression, so a VALUES list of thousands of
placeholders, or an array per column, costs more than the work itself; orjson writes the document in well
under a millisecond and PostgreSQL parses it in C). On SQLite (embedded mode) the same statements are
SQLAlchemy's portable ``INSERT … ON CONFLICT`` and ``IN`` lists.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import orjson
from sqlalchemy import ColumnElement, any_, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.schema import Table


def on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def one_of(session: Session, column: InstrumentedAttribute[int] | InstrumentedAttribute[str],
           values: Collection[object]) -> ColumnElement[bool]:
    """``column`` is one of ``values``: ``= ANY(array)`` on PostgreSQL, ``IN (…)`` elsewhere."""
    if on_postgresql(session):
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(values))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, object]], conflict: Sequence[str],
                add: str | None = None, returning: str | None = None) -> list[object]:
    """Insert ``rows`` (dicts with the same keys, the table's column names) into ``table`` in one statement.

    A row whose ``conflict`` columns match an existing row is skipped, or, with ``add``, adds its ``add`` column to
    the existing row's. Returns the ``returning`` column of the rows inserted (not of those skipped; with ``add``,
    of those added to as well), or ``[]``. Rows must be unique on ``conflict`` (PostgreSQL refuses to change one
    row twice in a statement). Raises what the database raises.
    """
    if not rows:
        return []
    columns = list(rows[0])
    if not on_postgresql(session):
        statement = sqlite.insert(table)
        statement = statement.on_conflict_do_update(index_elements=list(conflict),
                                                    set_={add: table.c[add] + statement.excluded[add]}) \
            if add else statement.on_conflict_do_nothing(index_elements=list(conflict))
        if returning:
            return list(session.scalars(statement.returning(table.c[returning]), list(rows)))
        session.execute(statement, list(rows))
        return []
    dialect = postgresql.dialect()
    record = ", ".join(f"{name} {table.c[name].type.compile(dialect=dialect)}" for name in columns)
    on_conflict = f"DO UPDATE SET {add} = {table.name}.{add} + excluded.{add}" if add else "DO NOTHING"
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(columns)} "
           f"FROM json_to_recordset(CAST(:rows AS json)) AS r({record}) "
           f"ON CONFLICT ({', '.join(conflict)}) {on_conflict}" + (f" RETURNING {returning}" if returning else ""))
    result = session.execute(text(sql), {"rows": orjson.dumps(rows).decode()})
    return list(result.scalars()) if returning else []
