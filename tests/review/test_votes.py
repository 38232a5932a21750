"""Community votes through signed links: one changeable vote per reader per tool; bad links are refused."""

from __future__ import annotations

import threading

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, text

from services.core import links
from services.core.db.models import Subscriber, Vote
from services.core.domain import Call
from services.core.runtime import Runtime
from services.core.tokens import sign
from services.review import votes
from services.review.errors import VoteLinkError
from tests import factories


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _tool_and_reader(rt: Runtime) -> tuple[int, int]:
    with rt.sessions() as session, session.begin():
        tool = factories.judged_tool(session, "Voted", (Call.SHIP,) * 4)
        reader = factories.confirmed_subscriber(session, "reader@example.org")
        return tool.id, reader.id


def test_a_reader_votes_once_per_tool_and_can_change_it(rt: Runtime) -> None:
    tool_id, reader_id = _tool_and_reader(rt)
    secret = rt.settings.secret()
    ship = _token(links.vote(rt.settings, reader_id, tool_id, "ship"))
    skip = _token(links.vote(rt.settings, reader_id, tool_id, "skip"))
    # When the reader follows the ship link and confirms
    with rt.sessions() as session, session.begin():
        wanted = votes.read_link(session, secret, ship)
        assert (wanted.tool.id, wanted.call, wanted.current) == (tool_id, Call.SHIP, None)
        votes.cast(session, wanted.subscriber_id, tool_id, wanted.call)
    # And later changes their mind with the skip link
    with rt.sessions() as session, session.begin():
        wanted = votes.read_link(session, secret, skip)
        assert wanted.current == "ship"
        votes.cast(session, wanted.subscriber_id, tool_id, wanted.call)
    # Then there is one vote, and it says skip
    with rt.sessions() as session:
        assert votes.community_percent(session, [tool_id]) == {tool_id: 0}


@pytest.mark.parametrize("case", ["tampered", "foreign purpose", "other secret", "not a vote", "expired"])
def test_a_bad_vote_link_is_refused_with_a_reason(rt: Runtime, case: str) -> None:
    tool_id, reader_id = _tool_and_reader(rt)
    secret = rt.settings.secret()
    good = _token(links.vote(rt.settings, reader_id, tool_id, "ship"))
    token = {
        "tampered": good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        "foreign purpose": _token(links.unsubscribe(rt.settings, reader_id)),
        "other secret": sign("another-secret-entirely", links.VOTE, [reader_id, tool_id, "ship"]),
        "not a vote": sign(secret, links.VOTE, [reader_id, tool_id, "maybe"]),
        "expired": URLSafeTimedSerializer(secret, salt=f"verdicts:{links.VOTE}").dumps(
            [reader_id, tool_id, "ship"]),
    }[case]
    if case == "expired":
        votes_max_age = votes.VOTE_LINK_MAX_AGE_SECONDS
        votes.VOTE_LINK_MAX_AGE_SECONDS = -1  # any token is older than a negative age
    try:
        with pytest.raises(VoteLinkError, match="does not work"), rt.sessions() as session:
            votes.read_link(session, secret, token)
    finally:
        if case == "expired":
            votes.VOTE_LINK_MAX_AGE_SECONDS = votes_max_age


def test_an_unsubscribed_readers_link_no_longer_votes(rt: Runtime) -> None:
    tool_id, reader_id = _tool_and_reader(rt)
    with rt.sessions() as session, session.begin():
        session.get(Subscriber, reader_id).state = "unsubscribed"
    with pytest.raises(VoteLinkError, match="no longer exists"), rt.sessions() as session:
        votes.read_link(session, rt.settings.secret(), _token(links.vote(rt.settings, reader_id, tool_id, "ship")))


def test_two_first_votes_racing_each_other_leave_one_vote(rt: Runtime) -> None:
    tool_id, reader_id = _tool_and_reader(rt)
    # Given a first vote inserted but not yet committed
    first = rt.sessions()
    first.begin()
    votes.cast(first, reader_id, tool_id, Call.SHIP)
    outcome: dict[str, object] = {}

    def second_request() -> None:
        try:
            with rt.sessions() as session, session.begin():
                outcome["call"] = votes.cast(session, reader_id, tool_id, Call.SKIP).call
        except Exception as exc:  # noqa: BLE001 - the assertion below shows whatever went wrong
            outcome["error"] = exc

    # When a second request of the same reader inserts too (it waits on the unique index)
    thread = threading.Thread(target=second_request)
    thread.start()
    with rt.engine.connect() as watcher:
        for _ in range(500):
            if watcher.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar():
                break
            watcher.rollback()
            thread.join(0.02)
    first.commit()
    first.close()
    thread.join()
    # Then the second turns into a change of the first vote: one vote, the later call
    assert outcome == {"call": "skip"}
    with rt.sessions() as session:
        assert [v.call for v in session.scalars(select(Vote))] == ["skip"]


def _ballot(url: str) -> tuple[str, int, str]:
    """A ballot vote URL's token, tool id and call."""
    token, tool_id, call = url.rsplit("/", 3)[1:]
    return token, int(tool_id), call


def test_a_ballot_votes_on_the_tools_its_digest_showed_and_on_nothing_else(rt: Runtime) -> None:
    # Given a digest showing Alpha vs Beta, a reader, and a tool the digest did not show
    with rt.sessions() as session, session.begin():
        comparison = factories.published_comparison(session)
        shown = comparison.tool_a_id
        elsewhere = factories.judged_tool(session, "Elsewhere", (Call.SHIP,) * 4).id
        reader = factories.confirmed_subscriber(session, "reader@example.org").id
        digest = factories.sent_digest(session, rt.settings, "2026-W48").id
    secret = rt.settings.secret()
    # When the reader follows the digest's ship link for a shown tool and confirms
    with rt.sessions() as session, session.begin():
        wanted = votes.read_ballot(session, secret, *_ballot(links.ballot_vote(rt.settings, reader, digest, shown,
                                                                                "ship")))
        assert (wanted.subscriber_id, wanted.tool.id, wanted.call) == (reader, shown, Call.SHIP)
        votes.cast(session, wanted.subscriber_id, wanted.tool.id, wanted.call)
    # Then it counts
    with rt.sessions() as session:
        assert votes.community_percent(session, [shown]) == {shown: 100}
    # And the same ballot with another tool, an unknown call, or another digest's id is refused
    token, _tool, _call = _ballot(links.ballot_vote(rt.settings, reader, digest, shown, "ship"))
    with rt.sessions() as session:
        for tool_id, call, message in [(elsewhere, "ship", "did not show that tool"), (shown, "maybe", "not a vote"),
                                       (shown, "ship", "not valid")]:
            used = token if message != "not valid" else sign("another-secret-entirely", links.BALLOT, [reader, digest])
            with pytest.raises(VoteLinkError, match=message):
                votes.read_ballot(session, secret, used, tool_id, call)
