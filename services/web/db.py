"""The request's database session: the one FastAPI dependency handlers take to read and write (``DbSession``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session


def db_session(request: Request) -> Iterator[Session]:
    """A session whose transaction the request owns: committed when the handler returns, rolled back when it raises.

    ``DbSession`` declares it with ``scope="function"``: FastAPI (0.121 on) then closes it after the
    handler returns and *before* the response is sent, so a commit that fails answers 500, never a 2xx
    for a change that was not stored (with the default scope, "request", the exit code runs after the
    response went out). A handler that must act once its change is stored (mail a confirmation) calls
    ``session.commit()`` itself; the session begins a new transaction when used again.
    """
    with request.app.state.runtime.sessions() as session:
        yield session  # a handler's exception comes back here: the session closes and rolls back
        session.commit()


DbSession = Annotated[Session, Depends(db_session, scope="function")]
