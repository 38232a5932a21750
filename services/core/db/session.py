"""Engines and sessions for the store of record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(database_url: str, **kwargs: object) -> Engine:
    """An engine for PostgreSQL (psycopg 3) or SQLite.

    SQLite gets WAL, a busy timeout, FK checks, and a BEGIN before a SAVEPOINT that would open the
    transaction (``_sqlite_begin_before_savepoint``).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_before_savepoint(connection: Connection, _name: str) -> None:
    """BEGIN (deferred) when a SAVEPOINT is about to open the database's transaction.

    The sqlite3 module (Python < 3.12, "legacy transaction control") sends BEGIN itself only before
    an INSERT, UPDATE, DELETE or REPLACE, never before a SAVEPOINT; a SAVEPOINT outside a transaction
    starts one that its RELEASE commits, so ``session.begin_nested()`` as the transaction's first
    write committed on its own, whatever the outer transaction did next. SQLAlchemy's SQLite
    documentation ("Serializable isolation / Savepoints / Transactional DDL") names the fault; its
    remedy (the module's BEGIN off, a BEGIN on every transaction) was tried and not kept: a deferred
    BEGIN before the first read makes a later write fail at once with "database is locked" when
    another thread wrote in between (the embedded worker's threads sending batches), and BEGIN
    IMMEDIATE blocks a second session of the same thread until the busy timeout (a signed-in
    person's page). This keeps the module's locking, and adds the one BEGIN it leaves out.
    """
    if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
