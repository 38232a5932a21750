"""Transactions on SQLite (embedded mode) hold as on PostgreSQL: a savepoint never commits on its own,
and threads that read then write in their transactions, as the embedded worker's do, do not lock each other out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from services.core.db.models import AuditEntry, PanelSeat
from services.core.runtime import Runtime

THREADS = 4
TRANSACTIONS_EACH = 50


class Abandoned(Exception):
    """Raised to roll a transaction back."""


def test_a_savepoint_that_opens_the_transaction_rolls_back_with_it(any_runtime: Runtime) -> None:
    rt = any_runtime
    # Given a transaction whose first write is inside a savepoint that is released
    with pytest.raises(Abandoned), rt.sessions() as session, session.begin():
        with session.begin_nested():
            session.add(PanelSeat(lens="builder"))
        # When the transaction then fails
        raise Abandoned
    # Then nothing it wrote is left behind
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PanelSeat)) == 0


def _read_then_write(rt: Runtime) -> None:
    for _ in range(TRANSACTIONS_EACH):
        with rt.sessions() as session, session.begin():
            seen = session.scalar(select(func.count()).select_from(AuditEntry))
            session.add(AuditEntry(action="test.count", subject=f"seen:{seen}", detail={}))


def test_threads_that_read_then_write_all_commit(sqlite_runtime: Runtime) -> None:
    rt = sqlite_runtime
    # Given four threads, as the embedded worker runs, each reading then writing in every transaction
    with ThreadPoolExecutor(THREADS) as pool:
        done = [pool.submit(_read_then_write, rt) for _ in range(THREADS)]
        # When they run at once, Then none fails ("database is locked") and every write is stored
        for future in done:
            future.result()
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == THREADS * TRANSACTIONS_EACH


def test_a_second_session_of_the_same_thread_reads_while_the_first_holds_a_write(sqlite_runtime: Runtime) -> None:
    rt = sqlite_runtime
    # Given a transaction that wrote and is still open (a web request's, before it commits)
    with rt.sessions() as writer, writer.begin():
        writer.add(PanelSeat(lens="builder"))
        writer.flush()
        # When the same thread reads in a session of its own (a page looking up who is signed in)
        with rt.sessions() as reader:
            seen = reader.scalar(select(func.count()).select_from(PanelSeat))
        # Then the read answers, without the uncommitted row
        assert seen == 0
