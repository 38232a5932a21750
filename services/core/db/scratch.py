"""Throwaway PostgreSQL databases for the test suite and the benchmarks.

Each is created empty on the server behind an admin URL and dropped with its connections forced
off, so a run leaves nothing behind even when a worker it started still holds a connection.
"""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url


def _admin_dsn(admin_url: str) -> str:
    return make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` beside ``admin_url``'s; returns its SQLAlchemy URL.

    Raises psycopg.OperationalError when the server cannot be reached.
    """
    with psycopg.connect(_admin_dsn(admin_url), autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(_admin_dsn(admin_url), autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
