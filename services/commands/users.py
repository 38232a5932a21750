"""`verdicts users …`: people who sign in."""

from __future__ import annotations

import secrets
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
    from sqlalchemy import select

    from services.core.addresses import InvalidAddress, identity
    from services.core.db.models import User
    from services.core.passwords import hash_password

    try:
        address = identity(email)
    except InvalidAddress as exc:
        common.err.print(f"[red]error:[/red] {email}: {exc}")
        raise typer.Exit(2) from exc
    password = _password(password_stdin)
    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        if session.scalar(select(User).where(User.email == address)) is not None:
            common.err.print(f"[red]error:[/red] {address} already exists")
            raise typer.Exit(1)
        user = User(email=address, role=role, password_hash=hash_password(password))
        session.add(user)
        session.flush()
        if role is Role.REVIEWER and lens:
            from services.review.panel import PanelError, add_seat, seat_of_lens

            try:
                seat = seat_of_lens(session, lens) or add_seat(session, lens)
            except PanelError as exc:
                common.err.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(2) from exc
            seat.user_id = user.id
    common.console.print(f"added {address} as {role}" + (f" on the {lens} seat" if lens else ""))
    if not password_stdin:
        common.console.print(f"password (shown once): {password}")


@app.command("set-password")
def users_set_password(
    email: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Give a person a new password (a forgotten one); prints a generated one unless one comes on stdin.

    The change is on the audit log ("user.set_password"), with no user: it was made at the command line.
    """
    from services.core.db.models import AuditEntry
    from services.core.passwords import hash_password
    from services.web.auth import active_user

    password = _password(password_stdin)
    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        user = active_user(session, email)
        if user is None:
            common.err.print(f"[red]error:[/red] no active user {email.strip()}")
            raise typer.Exit(1)
        user.password_hash = hash_password(password)
        session.add(AuditEntry(user_id=None, action="user.set_password", subject=f"user:{user.id}",
                               detail={"email": user.email}, note="by the command line"))
    common.console.print(f"set a new password for {user.email}")
    if not password_stdin:
        common.console.print(f"password (shown once): {password}")


def _password(from_stdin: bool) -> str:
    """The first line of stdin (``from_stdin``) or a generated password; exit 2 when shorter than 10 characters."""
    password = sys.stdin.readline().rstrip("\n") if from_stdin else secrets.token_urlsafe(12)
    if len(password) < 10:
        common.err.print("[red]error:[/red] a password needs at least 10 characters")
        raise typer.Exit(2)
    return password


@app.command("token")
def users_token(email: str) -> None:
    """Print a new API token for a person (use it as `Authorization: Bearer <token>`); shown once."""
    from services.web.auth import active_user, issue_token

    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        user = active_user(session, email)
        if user is None:
            common.err.print(f"[red]error:[/red] no active user {email.strip()}")
            raise typer.Exit(1)
        token = issue_token(session, user)
    print(token)
