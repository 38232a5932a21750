"""Public lists read the database a fixed number of times, however many comparisons they show."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import comparisons
from tests import factories


@contextmanager
def _statements(rt: Runtime) -> Iterator[list[str]]:
    """Every SQL statement the runtime's engine sends while the block runs."""
    sent: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        sent.append(statement)

    event.listen(rt.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(rt.engine, "before_cursor_execute", record)


def _publish(rt: Runtime, pairs: int, first: int = 0) -> None:
    """``pairs`` more published comparisons of two freshly judged tools each."""
    with rt.sessions() as session, session.begin():
        for n in range(first, first + pairs):
            a = factories.judged_tool(session, f"Left {n}", (Call.SHIP,) * 4)
            b = factories.judged_tool(session, f"Right {n}", (Call.SKIP,) * 4)
            comparisons.publish(session, comparisons.create(session, a.id, b.id).id)


@pytest.mark.parametrize("path", ["/", "/comparisons.atom", "/comparisons.json"])
def test_a_public_list_of_comparisons_costs_the_same_queries_for_one_as_for_many(rt: Runtime, client: TestClient,
                                                                                 path: str) -> None:
    # Given one published comparison, read once so the app is warm
    _publish(rt, 1)
    assert client.get(path).status_code == 200
    with _statements(rt) as one:
        shown_one = client.get(path).text
    # When four more are published and the list is read again
    _publish(rt, 4, first=1)
    with _statements(rt) as five:
        shown_five = client.get(path).text
    # Then all five are listed, for exactly as many statements as one took
    # (pages isolate each name in <bdi>; the feeds carry the title as text)
    shown_one, shown_five = (re.sub(r"</?bdi>", "", shown) for shown in (shown_one, shown_five))
    assert "Left 4 vs Right 4" in shown_five and "Left 4 vs Right 4" not in shown_one
    assert len(five) == len(one), five
