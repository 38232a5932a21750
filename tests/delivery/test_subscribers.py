"""Double opt-in: a pending subscriber gets a signed confirmation link; following it confirms."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from services.core.csv_files import UnreadableRow
from services.core.db.models import Subscriber, Vote
from services.core.domain import Call
from services.core.runtime import Runtime
from services.delivery import subscribers
from services.delivery.errors import SubscriberLinkError
from tests import factories
from tests.cli import run_cli
from tests.event_driver import mails


def _subscribe(rt: Runtime, address: str) -> None:
    """What the subscribe form does: the change, with its confirmation recorded as due, in one transaction."""
    with rt.sessions() as session, session.begin():
        subscribers.subscribe(session, address, smtputf8=rt.settings.mailer_smtputf8)


def _confirm(rt: Runtime, token: str) -> None:
    """What the confirmation link does: confirm, with the welcome recorded as due, in one transaction."""
    with rt.sessions() as session, session.begin():
        subscribers.confirm(session, rt.settings.secret(), token)


def test_subscribing_mails_a_link_that_confirms_and_welcomes(rt: Runtime) -> None:
    _subscribe(rt, "new@example.org")
    [confirmation] = mails(rt)
    assert confirmation["Subject"] == "Confirm your Verdicts subscription"
    token = re.search(r"/confirm/(\S+)", confirmation.get_body(("plain",)).get_content()).group(1)
    with rt.sessions() as session:
        assert session.scalar(select(Subscriber.state)) == "pending"
    _confirm(rt, token)
    with rt.sessions() as session:
        assert session.scalar(select(Subscriber.state)) == "confirmed"
    assert [m["Subject"] for m in mails(rt)][-1] == "Welcome to Verdicts"


def test_a_tampered_confirmation_token_is_refused(rt: Runtime) -> None:
    with pytest.raises(SubscriberLinkError), rt.sessions() as session:
        subscribers.confirm(session, rt.settings.secret(), "MQ.tampered.token")


def test_subscribing_a_confirmed_address_again_sends_nothing(rt: Runtime) -> None:
    _subscribe(rt, "again@example.org")
    token = re.search(r"/confirm/(\S+)", mails(rt)[0].get_body(("plain",)).get_content()).group(1)
    _confirm(rt, token)
    before = len(mails(rt))
    _subscribe(rt, "again@example.org")
    assert len(mails(rt)) == before


# --- import, export, erasure -----------------------------------------------------------------------------


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
    result = run_cli(rt, "subscribers", "import", str(path), "--confirmed")
    # Then two addresses were added, confirmed, no duplicate row exists, and the bad rows are named with reasons
    assert result.returncode == 0, result.stderr
    assert "added 2, already on the list 2, rejected 2" in result.stdout
    assert "not-an-address" in result.stdout and "Rejected rows" in result.stdout
    with rt.sessions() as session:
        rows = session.execute(select(Subscriber.email, Subscriber.state).order_by(Subscriber.email)).all()
    assert rows == [("a@example.org", "confirmed"), ("b@example.org", "confirmed"), ("known@example.org", "confirmed")]
    assert mails(rt) == []


def test_importing_without_confirmed_mails_each_new_address_a_confirmation(rt: Runtime) -> None:
    report = subscribers.import_rows(rt.sessions, rt.settings, [["x@example.org"], ["y@example.org"], ["x@example.org"]],
                                     confirmed=False)
    assert (report.added, report.already, report.rejected) == (2, 1, [])
    assert sorted(m["To"] for m in mails(rt)) == ["x@example.org", "y@example.org"]
    assert {m["Subject"] for m in mails(rt)} == {"Confirm your Verdicts subscription"}


def test_an_import_with_a_topics_column_gives_new_subscribers_their_topics_and_the_export_writes_them_back(
        rt: Runtime) -> None:
    # Given one address already on the list with no topic
    with rt.sessions() as session, session.begin():
        factories.confirmed_subscriber(session, "known@example.org")
    # When a file with a topics column is imported (names or slugs, several separators, one row with too many)
    too_many = ";".join(f"topic-{n}" for n in range(60))
    report = subscribers.import_rows(rt.sessions, rt.settings, [
        ["topics", "email"], ["Developer Tools; image-generation", "a@example.org"], ["", "b@example.org"],
        ["audio|Video", "known@example.org"], [too_many, "c@example.org"]], confirmed=True)
    # Then new subscribers get their topics as slugs, an empty cell means the whole digest, a subscriber on the
    # list keeps their own, and the row with too many topics is refused with the reason
    assert (report.added, report.already) == (2, 1)
    assert [(line, value) for line, value, _reason in report.rejected] == [(5, "c@example.org")]
    assert "at most 50 topics" in report.rejected[0][2]
    with rt.sessions() as session:
        topics = {email: topics for email, topics in session.execute(select(Subscriber.email, Subscriber.topics))}
    assert topics == {"a@example.org": ["developer-tools", "image-generation"], "b@example.org": [],
                      "known@example.org": []}
    # And the export writes them in a topics column that imports back to the same
    with rt.sessions() as session:
        exported = list(subscribers.export_rows(session))
    column = exported[0].index("topics")
    assert {row[0]: row[column] for row in exported[1:]} == {
        "known@example.org": "", "a@example.org": "developer-tools;image-generation", "b@example.org": ""}
    assert subscribers.parse_topics("developer-tools;image-generation") == ["developer-tools", "image-generation"]


def test_an_import_killed_midway_leaves_every_stored_pending_address_its_confirmation(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an import committed in chunks of two, whose input dies after the third row
    monkeypatch.setattr(subscribers, "IMPORT_CHUNK", 2)

    def rows() -> Iterator[list[str]]:
        yield from (["p@example.org"], ["q@example.org"], ["r@example.org"])
        raise KeyboardInterrupt("the import was killed")

    # When it runs and is killed
    with pytest.raises(KeyboardInterrupt):
        subscribers.import_rows(rt.sessions, rt.settings, rows(), confirmed=False)
    # Then every address it stored is mailed its confirmation by the worker, none left owed
    with rt.sessions() as session:
        stored = sorted(session.scalars(select(Subscriber.email)))
    assert stored == ["p@example.org", "q@example.org"]
    assert sorted(m["To"] for m in mails(rt)) == stored


def test_export_add_and_remove_from_the_command_line(rt: Runtime) -> None:
    # Given an address added from the command line
    assert run_cli(rt, "subscribers", "add", "Someone@Example.org", "--confirmed").returncode == 0
    # When the list is exported
    exported = run_cli(rt, "subscribers", "export")
    assert exported.returncode == 0
    assert list(csv.reader(exported.stdout.splitlines()))[1][:2] == ["someone@example.org", "confirmed"]
    # When the address is removed on request
    removed = run_cli(rt, "subscribers", "remove", "someone@example.org")
    # Then nothing of theirs is left, and removing again says so
    assert removed.returncode == 0
    with rt.sessions() as session:
        assert session.scalar(select(Subscriber.id)) is None
    assert run_cli(rt, "subscribers", "remove", "someone@example.org").returncode == 1


def test_the_punycode_and_unicode_spellings_of_a_domain_are_one_subscriber(rt: Runtime) -> None:
    # Given an address subscribed with its domain in IDNA (punycode) form
    _subscribe(rt, "Anna@XN--BCHER-KVA.example")
    # When the same mailbox is added, and imported, with the domain in Unicode
    with rt.sessions() as session, session.begin():
        added = subscribers.add(session, "anna@Bücher.example", confirmed=True, smtputf8=False)
    report = subscribers.import_rows(rt.sessions, rt.settings, [["anna@bücher.example"]], confirmed=True)
    # Then there is one subscriber, stored in the Unicode lower-cased form, and either spelling erases it
    assert (added.added, added.already) == (0, 1) and (report.added, report.already) == (0, 1)
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


# --- real-world import files, formulas in exports, addresses the mailer cannot deliver to ---------------------


def _emails(rt: Runtime) -> list[str]:
    with rt.sessions() as session:
        return session.scalars(select(Subscriber.email).order_by(Subscriber.email)).all()


@pytest.mark.parametrize(("delimiter", "encoding"), [(";", "cp1252"), ("\t", "utf-16"), ("|", "utf-8-sig")])
def test_a_list_saved_by_a_spreadsheet_in_another_locale_imports_every_row(rt: Runtime, tmp_path: Path,
                                                                            delimiter: str, encoding: str) -> None:
    # Given a list as Excel saves it elsewhere: names with accents, another delimiter, another encoding
    path = tmp_path / "list.csv"
    rows = [["Name", "email"], ["Zoë Müller", "zoe@example.org"], ["Renée, Köln", "renee@example.org"]]
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    # When it is imported
    result = run_cli(rt, "subscribers", "import", str(path), "--confirmed")
    # Then every address is on the list and the command succeeds
    assert result.returncode == 0, result.stderr
    assert "added 2, already on the list 0, rejected 0" in result.stdout
    assert _emails(rt) == ["renee@example.org", "zoe@example.org"]


def test_an_import_that_adds_nothing_exits_non_zero_and_names_each_rejected_row(rt: Runtime, tmp_path: Path) -> None:
    # Given a file in which no row holds an address
    path = tmp_path / "list.csv"
    path.write_text("email\nnot-an-address\nalso not\n", encoding="utf-8")
    # When it is imported
    result = run_cli(rt, "subscribers", "import", str(path), "--confirmed")
    # Then the command fails, listing each bad row by its number with the reason
    assert result.returncode == 1
    assert "rejected 2" in result.stdout and "nothing imported" in result.stderr
    assert "not-an-address" in result.stdout and "also not" in result.stdout
    assert _emails(rt) == []


def test_rejected_rows_are_listed_without_control_characters_or_markup(rt: Runtime, tmp_path: Path) -> None:
    # Given rows that hold a terminal escape sequence and rich markup instead of addresses
    path = tmp_path / "list.csv"
    path.write_bytes(b"email\n\x1b[2Jwipe\n[bold red]loud[/bold red]\n")
    # When the file is imported
    result = run_cli(rt, "subscribers", "import", str(path), "--confirmed")
    # Then the rows are listed as text: no control character reaches the terminal, the markup shows as written
    assert result.returncode == 1
    assert "\x1b" not in result.stdout and "[2Jwipe" in result.stdout
    assert "[bold red]loud[/bold red]" in result.stdout


def test_an_unreadable_row_is_reported_and_the_rows_after_it_are_imported(rt: Runtime) -> None:
    # Given a row the CSV parser refused between two good ones
    unreadable = UnreadableRow("not readable as CSV: field larger than field limit (131072)")
    # When they are imported
    report = subscribers.import_rows(rt.sessions, rt.settings, [["a@example.org"], unreadable, ["b@example.org"]],
                                     confirmed=True)
    # Then the good rows are added, and the bad one is reported by its number with the parser's reason
    assert (report.added, report.rejected) == (2, [(2, "", str(unreadable))])


def test_an_export_neutralises_formulas_and_imports_back_to_the_same_addresses(rt: Runtime, tmp_path: Path) -> None:
    # Given addresses a spreadsheet would run as formulas, one of them subscribed as anyone can
    _subscribe(rt, "=1+2@example.com")
    addresses = ["+31@example.org", "-minus@example.org", "'quoted@example.org", "plain@example.org"]
    with rt.sessions() as session, session.begin():
        for address in addresses:
            factories.confirmed_subscriber(session, address)
    # When the list is exported
    out = tmp_path / "export.csv"
    assert run_cli(rt, "subscribers", "export", "--out", str(out)).returncode == 0
    # Then no cell starts with a formula trigger
    cells = [row[0] for row in csv.reader(out.read_text(encoding="utf-8").splitlines())][1:]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'=1+2@example.com" in cells
    # When the export is imported into an empty list, Then the same addresses come back
    for address in [*addresses, "=1+2@example.com"]:
        with rt.sessions() as session, session.begin():
            subscribers.forget(session, address)
    result = run_cli(rt, "subscribers", "import", str(out), "--confirmed")
    assert result.returncode == 0, result.stderr
    assert _emails(rt) == sorted([*addresses, "=1+2@example.com"])


def test_an_address_the_mailer_cannot_deliver_to_is_refused_at_import_and_add(rt: Runtime) -> None:
    # Given a mailer without SMTPUTF8 (the default, as with SendGrid)
    # When a list with a non-ASCII local part and an internationalised domain is imported
    report = subscribers.import_rows(rt.sessions, rt.settings, [["zoë@example.com"], ["anna@bücher.example"]],
                                     confirmed=True)
    # Then the first is rejected saying why, and the second is welcome
    assert report.added == 1 and [(row, value) for row, value, _ in report.rejected] == [(1, "zoë@example.com")]
    assert "SMTPUTF8" in report.rejected[0][2]
    # And adding it from the command line fails with the same reason
    added = run_cli(rt, "subscribers", "add", "zoë@example.com")
    assert added.returncode == 1 and "SMTPUTF8" in added.stderr
    assert _emails(rt) == ["anna@bücher.example"]


def test_with_an_smtputf8_mailer_a_non_ascii_local_part_subscribes_and_is_mailed(rt: Runtime) -> None:
    # Given the file outbox, declared able to send SMTPUTF8
    utf8 = Runtime(settings=rt.settings.model_copy(update={"mailer_smtputf8": True}), engine=rt.engine,
                   sessions=rt.sessions)
    # When zoë@bücher.example subscribes
    _subscribe(utf8, "Zoë@Bücher.example")
    # Then the confirmation goes to her, her domain in IDNA form
    [confirmation] = mails(rt)
    assert confirmation["To"] == "zoë@xn--bcher-kva.example"
    assert _emails(rt) == ["zoë@bücher.example"]


def test_adding_a_pending_address_as_confirmed_confirms_it_and_says_so(rt: Runtime) -> None:
    # Given an address that subscribed and never followed its confirmation link, and one that unsubscribed
    _subscribe(rt, "waiting@example.org")
    _subscribe(rt, "left@example.org")
    with rt.sessions() as session, session.begin():
        left = session.scalar(select(Subscriber).where(Subscriber.email == "left@example.org"))
        subscribers.unsubscribe(left)
    # When an operator adds both with --confirmed (they opted in elsewhere)
    waiting = run_cli(rt, "subscribers", "add", "Waiting@Example.org", "--confirmed")
    gone = run_cli(rt, "subscribers", "add", "left@example.org", "--confirmed")
    # Then the pending one is confirmed, and the command says so; the unsubscribe stands
    assert waiting.returncode == 0 and "confirmed now" in waiting.stdout
    assert gone.returncode == 0 and "already on the list" in gone.stdout
    with rt.sessions() as session:
        states = dict(session.execute(select(Subscriber.email, Subscriber.state)).all())
        confirmed_at = session.scalar(select(Subscriber.confirmed_at).where(Subscriber.email == "waiting@example.org"))
    assert states == {"waiting@example.org": "confirmed", "left@example.org": "unsubscribed"}
    assert confirmed_at is not None


def test_importing_a_pending_address_as_confirmed_confirms_it(rt: Runtime) -> None:
    # Given an address waiting for its confirmation
    _subscribe(rt, "waiting@example.org")
    # When a list that opted in elsewhere, holding it, is imported with confirmed
    report = subscribers.import_rows(rt.sessions, rt.settings, [["waiting@example.org"], ["new@example.org"]],
                                     confirmed=True)
    # Then it is counted as on the list already, and confirmed
    assert (report.added, report.already, report.confirmed) == (1, 1, 1)
    with rt.sessions() as session:
        assert set(session.scalars(select(Subscriber.state))) == {"confirmed"}
