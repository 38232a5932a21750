"""`verdicts users …`: people who sign in."""

from __future__ import annotations

import secrets
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from services.commands import common
from services.core import limits
from services.core.domain import Role

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from services.core.db.models import User

app = typer.Typer(help="People who sign in.", no_args_is_help=True)
#: The fewest characters of a password set here; the most is what the sign-in form takes (``limits.PASSWORD``).
PASSWORD_MIN = 10


@app.command("add")
def users_add(
    email: str,
    role: Annotated[Role, typer.Option(help="what the person may do")],
    lens: Annotated[str | None, typer.Option(help="reviewers: the panel seat's lens")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Add a person; prints a generated password unless one comes on stdin."""
    from sqlalchemy import select

    from services.core.addresses import identity
    from services.core.db.models import User
    from services.core.passwords import hash_password

    with common.refusals(exit_code=2, about=email):
        address = identity(email)
    password = _password(password_stdin)
    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        if session.scalar(select(User).where(User.email == address)) is not None:
            common.err.print(f"[red]error:[/red] {address} already exists")
            raise typer.Exit(1)
        user = User(email=address, role=role, password_hash=hash_password(password))
        session.add(user)
        session.flush()
        seat_name = None
        if role is Role.REVIEWER and lens:
            from services.review.panel import add_seat, seat_of_lens

            with common.refusals(exit_code=2):
                seat = seat_of_lens(session, lens) or add_seat(session, lens)
            seat.user_id = user.id
            seat_name = seat.lens
    common.console.print(f"added {address} as {role}" + (f" on the {seat_name} seat" if seat_name else ""))
    if not password_stdin:
        common.console.print(f"password (shown once): {password}")


@app.command("set-password")
def users_set_password(
    email: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Give a person a new password (a forgotten one); prints a generated one unless one comes on stdin.

    The change is on the audit log ("user.set_password"), with no user: it was made at the command line.
    It ends every session the person has.
    """
    from services.web import accounts

    password = _password(password_stdin)
    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        user = _active(session, email)
        accounts.set_password(session, user, password, by=None, note=common.BY_CLI)
    common.console.print(f"set a new password for {user.email}")
    if not password_stdin:
        common.console.print(f"password (shown once): {password}")


@app.command("set-role")
def users_set_role(email: str, role: Annotated[Role, typer.Option(help="what the person may do from now on")]) -> None:
    """Give a person another role; ends every session they have. On the audit log ("user.set_role")."""
    from services.web import accounts

    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        user = _active(session, email)
        accounts.set_role(session, user, role, by=None, note=common.BY_CLI)
    common.console.print(f"{user.email} is now {role}")


@app.command("deactivate")
def users_deactivate(email: str) -> None:
    """Stop a person signing in; ends every session they have and revokes their API tokens.
    On the audit log ("user.deactivate")."""
    from services.web import accounts

    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        user = _active(session, email)
        accounts.deactivate(session, user, by=None, note=common.BY_CLI)
    common.console.print(f"deactivated {user.email}")


@app.command("reset-two-factor")
def users_reset_two_factor(email: str) -> None:
    """Turn a person's two-factor sign-in off (a lost phone, no recovery code left): the secret and recovery codes
    are dropped and every session ends; they sign in with the password and may enrol again. On the audit log
    ("user.reset_two_factor"); exit 1 when they had no two-factor sign-in."""
    from services.web import two_factor_accounts

    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        user = _active(session, email)
        changed = two_factor_accounts.reset(session, user, by=None, note=common.BY_CLI)
    if not changed:
        common.err.print(f"[red]error:[/red] {user.email} has no two-factor sign-in")
        raise typer.Exit(1)
    common.console.print(f"two-factor sign-in of {user.email} is off; they may enrol again")


def _active(session: Session, email: str) -> User:
    """The active user ``email`` names; exit 1 when there is none."""
    from services.web.auth import active_user

    user = active_user(session, email)
    if user is None:
        common.err.print(f"[red]error:[/red] no active user {escape(email.strip())}")
        raise typer.Exit(1)
    return user


def _password(from_stdin: bool) -> str:
    """The first line of stdin (``from_stdin``) or a generated password, for `users add` and `set-password`.

    Exits 2 when it is shorter than ``PASSWORD_MIN`` or longer than ``limits.PASSWORD`` characters: the
    sign-in form takes no more, so a longer one could never sign in.
    """
    password = sys.stdin.readline().rstrip("\n") if from_stdin else secrets.token_urlsafe(12)
    if len(password) < PASSWORD_MIN:
        common.err.print(f"[red]error:[/red] a password needs at least {PASSWORD_MIN} characters")
        raise typer.Exit(2)
    if len(password) > limits.PASSWORD:
        common.err.print(f"[red]error:[/red] a password has at most {limits.PASSWORD} characters (the sign-in form "
                         "takes no more)")
        raise typer.Exit(2)
    return password


@app.command("token")
def users_token(
    email: str,
    read_only: Annotated[bool, typer.Option("--read-only", help="the token may only read (GET)")] = False,
    days: Annotated[int | None, typer.Option(min=1, max=3650, help="days it works [VERDICTS_API_TOKEN_DAYS]")] = None,
) -> None:
    """Print a new API token for a person (use it as `Authorization: Bearer <token>`); shown once.
    On the audit log ("user.issue_token")."""
    from services.core.domain import TokenScope
    from services.web import accounts

    loaded = common.settings()
    rt = common.plain(loaded)
    scope = TokenScope.READ if read_only else TokenScope.FULL
    with rt.sessions() as session, session.begin():
        token = accounts.new_token(session, _active(session, email), days or loaded.api_token_days, scope, by=None,
                                   note=common.BY_CLI)
    print(token)


@app.command("tokens")
def users_tokens(email: str) -> None:
    """List a person's API tokens: id, prefix, scope, created, last used, expiry (expired ones too)."""
    from services.core.db.base import utcnow
    from services.web import accounts

    rt = common.plain(common.settings())
    with rt.sessions() as session:
        tokens = accounts.tokens_of(session, _active(session, email))
    now = utcnow()
    listing = common.table("id", "prefix", "scope", "created", "last used", "expires")
    for token in tokens:
        expires = f"{token.expires_at:%Y-%m-%d %H:%M}" + (" (expired)" if token.expires_at <= now else "")
        listing.add_row(str(token.id), f"{token.prefix or '(unknown)'}…", str(token.scope),
                        f"{token.created_at:%Y-%m-%d %H:%M}",
                        f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never", expires)
    common.console.print(listing if tokens else "no API tokens")


@app.command("revoke-token")
def users_revoke_token(token_id: common.RowIdArgument) -> None:
    """Revoke an API token by its id (see `verdicts users tokens`). On the audit log ("user.revoke_token")."""
    from services.web import accounts

    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        revoked = accounts.revoke_token(session, token_id, by=None, note=common.BY_CLI)
    if revoked is None:
        common.err.print(f"[red]error:[/red] no API token {token_id}")
        raise typer.Exit(1)
    common.console.print(f"revoked token {token_id} ({revoked.prefix or 'unknown'}…)")
