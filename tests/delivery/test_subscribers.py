"""Double opt-in: a pending subscriber gets a signed confirmation link; following it confirms."""

from __future__ import annotations

import csv
import email
import os
import re
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from services.core.db.models import Subscriber, Vote
from services.core.domain import Call
from services.core.runtime import Runtime
from services.delivery import subscribers
from services.delivery.errors import SubscriberLinkError
from tests import factories


def _mails(rt: Runtime) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(rt.settings.outbox_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime)]


def _subscribe(rt: Runtime, address: str) -> None:
    """What the subscribe form does: the change in a transaction, then the confirmation once it is committed."""
    with rt.sessions() as session, session.begin():
        invited = subscribers.subscribe(session, address)
    if invited is not None:
        subscribers.mail_confirmation(rt.settings, invited)


def _confirm(rt: Runtime, token: str) -> None:
    """What the confirmation link does: confirm in a transaction, then the welcome once it is committed."""
    with rt.sessions() as session, session.begin():
        welcomed = subscribers.confirm(session, rt.settings.secret(), token)
    if welcomed is not None:
        subscribers.mail_welcome(rt.settings, welcomed)


def test_subscribing_mails_a_link_that_confirms_and_welcomes(rt: Runtime) -> None:
    _subscribe(rt, "new@example.org")
    [confirmation] = _mails(rt)
    assert confirmation["Subject"] == "Confirm your Verdicts subscription"
    token = re.search(r"/confirm/(\S+)", confirmation.get_body(("plain",)).get_content()).group(1)
    with rt.sessions() as session:
        assert session.scalar(select(Subscriber.state)) == "pending"
    _confirm(rt, token)
    with rt.sessions() as session:
        assert session.scalar(select(Subscriber.state)) == "confirmed"
    assert [m["Subject"] for m in _mails(rt)][-1] == "Welcome to Verdicts"


def test_a_tampered_confirmation_token_is_refused(rt: Runtime) -> None:
    with pytest.raises(SubscriberLinkError), rt.sessions() as session:
        subscribers.confirm(session, rt.settings.secret(), "MQ.tampered.token")


def test_subscribing_a_confirmed_address_again_sends_nothing(rt: Runtime) -> None:
    _subscribe(rt, "again@example.org")
    token = re.search(r"/confirm/(\S+)", _mails(rt)[0].get_body(("plain",)).get_content()).group(1)
    _confirm(rt, token)
    before = len(_mails(rt))
    _subscribe(rt, "again@example.org")
    assert len(_mails(rt)) == before


# --- import, export, erasure -----------------------------------------------------------------------------


def _cli(rt: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERDICTS_")}
    env.update({"VERDICTS_DATABASE_URL": rt.settings.database_url, "VERDICTS_SECRET_KEY": rt.settings.secret(),
                "VERDICTS_VAR_DIR": str(rt.settings.var_dir), "VERDICTS_OUTBOX_DIR": str(rt.settings.outbox_dir)})
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=env, capture_output=True, text=True, check=False,
                          timeout=120)


def test_importing_a_csv_adds_each_address_once_and_reports_rejected_rows(rt: Runtime, tmp_path: Path) -> None:
    # Given a list with a header, a mixed-case duplicate, an address already subscribed and two bad rows
    with rt.sessions() as session, session.begin():
        factories.confirmed_subscriber(session, "known@example.org")
    path = tmp_path / "list.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["name", "email"], ["A", "a@example.org"], ["A again", "A@Example.org"],
                                      ["K", "known@example.org"], ["X", "not-an-address"], ["Y", ""],
                                      ["B", "b@example.org"]])
    # When it is imported as opted-in elsewhere
    result = _cli(rt, "subscribers", "import", str(path), "--confirmed")
    # Then two addresses were added, confirmed, no duplicate row exists, and the bad rows are named with reasons
    assert result.returncode == 0, result.stderr
    assert "added 2, already on the list 2, rejected 2" in result.stdout
    assert "not-an-address" in result.stdout and "Rejected rows" in result.stdout
    with rt.sessions() as session:
        rows = session.execute(select(Subscriber.email, Subscriber.state).order_by(Subscriber.email)).all()
    assert rows == [("a@example.org", "confirmed"), ("b@example.org", "confirmed"), ("known@example.org", "confirmed")]
    assert _mails(rt) == []


def test_importing_without_confirmed_mails_each_new_address_a_confirmation(rt: Runtime) -> None:
    report = subscribers.import_rows(rt.sessions, rt.settings, [["x@example.org"], ["y@example.org"], ["x@example.org"]],
                                     confirmed=False)
    assert (report.added, report.already, report.rejected) == (2, 1, [])
    assert sorted(m["To"] for m in _mails(rt)) == ["x@example.org", "y@example.org"]
    assert {m["Subject"] for m in _mails(rt)} == {"Confirm your Verdicts subscription"}


def test_export_add_and_remove_from_the_command_line(rt: Runtime) -> None:
    # Given an address added from the command line
    assert _cli(rt, "subscribers", "add", "Someone@Example.org", "--confirmed").returncode == 0
    # When the list is exported
    exported = _cli(rt, "subscribers", "export")
    assert exported.returncode == 0
    assert list(csv.reader(exported.stdout.splitlines()))[1][:2] == ["someone@example.org", "confirmed"]
    # When the address is removed on request
    removed = _cli(rt, "subscribers", "remove", "someone@example.org")
    # Then nothing of theirs is left, and removing again says so
    assert removed.returncode == 0
    with rt.sessions() as session:
        assert session.scalar(select(Subscriber.id)) is None
    assert _cli(rt, "subscribers", "remove", "someone@example.org").returncode == 1


def test_the_punycode_and_unicode_spellings_of_a_domain_are_one_subscriber(rt: Runtime) -> None:
    # Given an address subscribed with its domain in IDNA (punycode) form
    _subscribe(rt, "Anna@XN--BCHER-KVA.example")
    # When the same mailbox is added, and imported, with the domain in Unicode
    with rt.sessions() as session, session.begin():
        added = subscribers.add(session, "anna@Bücher.example", confirmed=True)
    report = subscribers.import_rows(rt.sessions, rt.settings, [["anna@bücher.example"]], confirmed=True)
    # Then there is one subscriber, stored in the Unicode lower-cased form, and either spelling erases it
    assert added is None and (report.added, report.already) == (0, 1)
    with rt.sessions() as session:
        assert session.scalars(select(Subscriber.email)).all() == ["anna@bücher.example"]
    with rt.sessions() as session, session.begin():
        assert subscribers.forget(session, "anna@xn--bcher-kva.example")


def test_forgetting_a_subscriber_erases_their_votes_too(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        tool = factories.judged_tool(session, "Gamma", (Call.SHIP, Call.SHIP, Call.SKIP, Call.SKIP))
        subscriber = factories.confirmed_subscriber(session, "voter@example.org")
        session.add(Vote(subscriber_id=subscriber.id, tool_id=tool.id, call="ship"))
    with rt.sessions() as session, session.begin():
        assert subscribers.forget(session, "Voter@example.org")
    with rt.sessions() as session:
        assert session.scalar(select(Vote.id)) is None and session.scalar(select(Subscriber.id)) is None
