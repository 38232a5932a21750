"""What a process needs to do work: its settings, engine and session factory.

The entry point (CLI command, worker module, test fixture) builds one and installs it; actors read
it with ``current()``. Nothing builds it behind anyone's back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.core.db.session import make_engine, make_session_factory
from services.core.settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.database_url)
        return cls(settings=settings, engine=engine, sessions=make_session_factory(engine))


class _Slot:
    runtime: Runtime | None = None


def install(runtime: Runtime) -> Runtime:
    _Slot.runtime = runtime
    return runtime


def current() -> Runtime:
    if _Slot.runtime is None:
        raise RuntimeError("no runtime installed: the process entry point must call runtime.install() first")
    return _Slot.runtime
