"""`verdicts users …`: people who sign in."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from services.commands import common
from services.core.domain import Role

app = typer.Typer(help="People who sign in.", no_args_is_help=True)


@app.command("add")
def users_add(
    email: str,
    role: Annotated[Role, typer.Option(help="what the person may do")],
    lens: Annotated[str | None, typer.Option(help="reviewers: the panel seat's lens")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Add a person; prints a generated password unless one comes on stdin."""
    import secrets

    from sqlalchemy import select

    from services.core.db.models import PanelSeat, User
    from services.core.passwords import hash_password

    password = sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(12)
    if len(password) < 10:
        common.err.print("[red]error:[/red] a password needs at least 10 characters")
        raise typer.Exit(2)
    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        address = email.strip().lower()
        if session.scalar(select(User).where(User.email == address)) is not None:
            common.err.print(f"[red]error:[/red] {address} already exists")
            raise typer.Exit(1)
        user = User(email=address, role=role.value, password_hash=hash_password(password))
        session.add(user)
        session.flush()
        if role is Role.REVIEWER and lens:
            from services.review.panel import PanelError, add_seat

            seat = session.scalar(select(PanelSeat).where(PanelSeat.lens == lens.strip().lower()))
            try:
                seat = seat or add_seat(session, lens)
            except PanelError as exc:
                common.err.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(2) from exc
            seat.user_id = user.id
    common.console.print(f"added {address} as {role.value}" + (f" on the {lens} seat" if lens else ""))
    if not password_stdin:
        common.console.print(f"password (shown once): {password}")


@app.command("token")
def users_token(email: str) -> None:
    """Print a new API token for a person (use it as `Authorization: Bearer <token>`); shown once."""
    from sqlalchemy import select

    from services.core.db.models import User
    from services.web.auth import issue_token

    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.active:
            common.err.print(f"[red]error:[/red] no active user {email.strip().lower()}")
            raise typer.Exit(1)
        token = issue_token(session, user)
    print(token)
