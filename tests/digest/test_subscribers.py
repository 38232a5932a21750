"""Double opt-in: a pending subscriber gets a signed confirmation link; following it confirms."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from sqlalchemy import select

from services.core.db.models import Subscriber
from services.core.runtime import Runtime
from services.core.tokens import TokenError
from services.digest import subscribers


def _mails(rt: Runtime) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(rt.settings.outbox_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime)]


def test_subscribing_mails_a_link_that_confirms_and_welcomes(rt: Runtime) -> None:
    subscribers.subscribe(rt, "new@example.org")
    [confirmation] = _mails(rt)
    assert confirmation["Subject"] == "Confirm your Verdicts subscription"
    token = re.search(r"/confirm/(\S+)", confirmation.get_body(("plain",)).get_content()).group(1)
    with rt.sessions() as session:
        assert session.scalar(select(Subscriber.state)) == "pending"
    subscribers.confirm(rt, token)
    with rt.sessions() as session:
        assert session.scalar(select(Subscriber.state)) == "confirmed"
    assert [m["Subject"] for m in _mails(rt)][-1] == "Welcome to Verdicts"


def test_a_tampered_confirmation_token_is_refused(rt: Runtime) -> None:
    with pytest.raises(TokenError):
        subscribers.confirm(rt, "MQ.tampered.token")


def test_subscribing_a_confirmed_address_again_sends_nothing(rt: Runtime) -> None:
    subscribers.subscribe(rt, "again@example.org")
    token = re.search(r"/confirm/(\S+)", _mails(rt)[0].get_body(("plain",)).get_content()).group(1)
    subscribers.confirm(rt, token)
    before = len(_mails(rt))
    subscribers.subscribe(rt, "again@example.org")
    assert len(_mails(rt)) == before
