"""The editor pages drive the review: the queue's actions, conflicts, the panel, comparisons, votes."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core import links
from services.core.db.models import Comparison, Tool, Verdict, Vote
from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import panel, queue
from tests import factories
from tests.web.conftest import add_user, sign_in


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _browser(client: TestClient) -> TestClient:
    return TestClient(client.app, base_url="https://verdicts.example.org")


def test_an_editor_approves_a_candidate_with_edits_from_the_queue(rt: Runtime, client: TestClient) -> None:
    # Given a candidate and a signed-in editor
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, "nimbus coder").id
    token = sign_in(client, add_user(rt, "ed@example.org", "editor").email)
    assert f'action="/editor/queue/{tool_id}/approve"' in client.get("/editor/queue").text
    # When they approve it with corrections
    response = client.post(f"/editor/queue/{tool_id}/approve", data={
        "csrf_token": token, "revision": "1", "name": "Nimbus Coder", "category": "Developer Tools",
        "entry_price": "$20/mo", "tagline": "Pairs with you", "vendor": "", "homepage": "https://nimbus.example",
        "description": "A coding agent."})
    # Then they land back on the queue with a note, and the tool carries the corrections and has a verdict open
    assert response.status_code == 200 and "Nimbus Coder: approved" in response.text
    with rt.sessions() as session:
        tool = session.get(Tool, tool_id)
        assert (tool.name, tool.category, tool.entry_price, tool.state) == (
            "Nimbus Coder", "Developer Tools", "$20/mo", "approved")
        assert session.scalar(select(Verdict.state).where(Verdict.tool_id == tool_id)) == "open"
    audit = _text(client.get("/editor/audit").text)
    assert f"ed@example.org tool.approve tool:{tool_id}" in audit and "$20/mo" in audit


def test_a_merge_target_written_in_unicode_digits_is_a_name_to_look_up_not_a_server_error(rt: Runtime,
                                                                                         client: TestClient) -> None:
    # Given a duplicate candidate, an approved tool, and a signed-in editor
    with rt.sessions() as session, session.begin():
        target_id = factories.judged_tool(session, "Orbit", (Call.SHIP,) * 4).id
        dupe_id = factories.candidate(session, "Orbit again").id
    token = sign_in(client, add_user(rt, "ed@example.org", "editor").email)
    # When they merge it "into" superscript two (str.isdigit says yes, int refuses it)
    refused = client.post(f"/editor/queue/{dupe_id}/merge", data={"csrf_token": token, "into": "²", "revision": "1"})
    # Then it is no tool's name: a 400 saying so, and the candidate is untouched
    assert refused.status_code == 400 and "no approved tool named" in refused.text
    with rt.sessions() as session:
        assert session.get(Tool, dupe_id).state == "candidate"
    # And the tool's name (any case) or its id still names it
    named = client.post(f"/editor/queue/{dupe_id}/merge", data={"csrf_token": token, "into": " orbit ",
                                                                 "revision": "1"})
    assert named.status_code == 200 and "merged into the existing tool" in named.text
    with rt.sessions() as session:
        assert session.get(Tool, dupe_id).merged_into_id == target_id


def test_the_second_of_two_editors_gets_a_clear_conflict_message(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, "Contested").id
    first, second = client, _browser(client)
    first_token = sign_in(first, add_user(rt, "one@example.org", "editor").email)
    second_token = sign_in(second, add_user(rt, "two@example.org", "editor").email)
    # Given both editors have the queue open at the same revision
    assert "Contested" in first.get("/editor/queue").text and "Contested" in second.get("/editor/queue").text
    # When the first rejects and then the second approves
    assert first.post(f"/editor/queue/{tool_id}/reject", data={"csrf_token": first_token, "revision": "1",
                                                               "reason": "not a tool"}).status_code == 200
    late = second.post(f"/editor/queue/{tool_id}/approve", data={"csrf_token": second_token, "revision": "1",
                                                                 "name": "Mine"})
    # Then the second is told someone else decided, and nothing of theirs was applied
    assert late.status_code == 409
    assert "Someone else got there first" in late.text and "already rejected by one@example.org" in late.text
    assert "What you sent: name: Mine" in late.text  # their typing is shown back, not lost
    with rt.sessions() as session:
        assert (session.get(Tool, tool_id).state, session.get(Tool, tool_id).name) == ("rejected", "Contested")
        assert session.scalar(select(Verdict).where(Verdict.tool_id == tool_id)) is None


def test_filters_search_and_bulk_reject_on_the_queue_page(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        keep = factories.candidate(session, "Keeper", score=0.95).id
        noise = [factories.candidate(session, f"Noise {n}", score=0.55).id for n in range(2)]
    token = sign_in(client, add_user(rt, "ed@example.org", "editor").email)
    assert "Noise 0" not in client.get("/editor/queue?min_score=0.9").text
    assert "Keeper" not in client.get("/editor/queue?q=noise").text
    # When the editor rejects the two noisy ones in one go
    client.post("/editor/queue/bulk", data={"csrf_token": token, "action": "reject", "reason": "blog noise",
                                            "ids": [str(i) for i in noise]})
    # Then only the keeper is left
    page = _text(client.get("/editor/queue").text)
    assert "Keeper" in page and "Noise" not in page and "1 match," in page
    with rt.sessions() as session:
        assert [session.get(Tool, i).reject_reason for i in noise] == ["blog noise", "blog noise"]
        assert session.get(Tool, keep).state == "candidate"


def test_reviewers_call_from_their_to_do_list_until_the_verdict_completes(rt: Runtime, client: TestClient) -> None:
    # Given an approved tool and four reviewers, one per seat
    with rt.sessions() as session, session.begin():
        panel.ensure_seats(session)
        tool = factories.candidate(session, "Judged")
        queue.approve(session, tool.id, None)
        verdict_id = factories.tool_verdict_id(session, tool)
        seats = {s.lens: s.id for s in panel.all_seats(session)}
    for lens in seats:
        add_user(rt, f"{lens}@example.org", "reviewer", lens=lens)
    calls = {"builder": "ship", "skeptic": "skip", "strategist": "ship", "buyer": "ship"}
    for n, (lens, call) in enumerate(calls.items()):
        browser = _browser(client)
        token = sign_in(browser, f"{lens}@example.org")
        assert "Judged" in browser.get("/editor/panel").text
        answer = browser.post(f"/editor/panel/{verdict_id}/call", data={
            "csrf_token": token, "seat_id": seats[lens], "call": call, "quote": f"{lens} says {call}"})
        assert answer.status_code == 200
        if n == 0:
            # A seat can change its quote while the verdict is open, and cannot call for another seat
            browser.post(f"/editor/panel/{verdict_id}/call", data={
                "csrf_token": token, "seat_id": seats[lens], "call": call, "quote": "second thoughts"})
            other = browser.post(f"/editor/panel/{verdict_id}/call", data={
                "csrf_token": token, "seat_id": seats["buyer"], "call": "skip", "quote": "not mine"})
            assert other.status_code == 403
    # Then the last call completed the verdict at 75% ship, and calls are closed
    assert "The verdict is complete" in answer.text
    with rt.sessions() as session:
        verdict = session.get(Verdict, verdict_id)
        assert (verdict.state, verdict.ship_percent) == ("completed", 75)
    closed = browser.post(f"/editor/panel/{verdict_id}/call", data={
        "csrf_token": token, "seat_id": seats["buyer"], "call": "skip", "quote": "changed my mind"})
    assert closed.status_code == 409 and "complete" in closed.text


def test_an_editor_creates_edits_and_publishes_a_suggested_comparison(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        factories.judged_tool(session, "Alpha", (Call.SHIP,) * 4)
        factories.judged_tool(session, "Beta", (Call.SKIP,) * 4)
    token = sign_in(client, add_user(rt, "ed@example.org", "editor").email)
    suggestions = client.get("/editor/comparisons").text
    assert "Beta vs Alpha" in _text(suggestions)
    a_id, b_id = re.search(r'name="tool_a_id" value="(\d+)"><input type="hidden" name="tool_b_id" value="(\d+)"',
                           suggestions).groups()
    # When the editor creates the draft, edits it and publishes it
    edit_page = client.post("/editor/comparisons", data={"csrf_token": token, "tool_a_id": a_id, "tool_b_id": b_id})
    comparison_id = int(str(edit_page.url).rsplit("/", 1)[1])
    with rt.sessions() as session:
        slug = session.get(Comparison, comparison_id).slug
    assert client.get(f"/c/{slug}").status_code == 404  # a draft is not public
    client.post(f"/editor/comparisons/{comparison_id}", data={
        "csrf_token": token, "headline": "Ship it or skip it", "editor_note": "Two takes.", "position": "1",
        "swap": "true"})
    assert "Ship it or skip it" in client.get(f"/editor/comparisons/{comparison_id}/preview").text
    client.post(f"/editor/comparisons/{comparison_id}/publish", data={"csrf_token": token})
    # Then the public page and the index show it, with the edits
    page = _text(client.get(f"/c/{slug}").text)
    assert "Alpha vs Beta" in page and "Ship it or skip it" in page and "Two takes." in page
    assert f'href="/c/{slug}"' in client.get("/").text
    with rt.sessions() as session:
        assert session.get(Comparison, comparison_id).state == "published"


def test_a_vote_link_shows_a_confirm_page_and_only_the_post_votes(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        comparison = factories.published_comparison(session, "Alpha", "Beta")
        reader = factories.confirmed_subscriber(session, "reader@example.org")
        slug, tool_id, reader_id = comparison.slug, comparison.tool_a_id, reader.id
    url = links.vote(rt.settings, reader_id, tool_id, "ship").removeprefix(rt.settings.public_url)
    # When a mail scanner (or the reader) follows the link
    confirm = client.get(url)
    # Then a confirm page with a POST button shows, and no vote is counted yet
    assert confirm.status_code == 200 and "Confirm: Ship" in confirm.text and 'method="post"' in confirm.text
    with rt.sessions() as session:
        assert session.scalars(select(Vote)).all() == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text).group(1)  # type: ignore[union-attr]
    assert client.post(url).status_code == 403  # a post without the form's token is refused
    # When the reader presses the button
    done = client.post(url, data={"csrf_token": token})
    # Then the vote counts and the comparison page shows the community share
    assert done.status_code == 200 and "Your vote is in" in done.text
    assert "100% community" in _text(client.get(f"/c/{slug}").text)
    skip = links.vote(rt.settings, reader_id, tool_id, "skip").removeprefix(rt.settings.public_url)
    client.post(skip, data={"csrf_token": token})
    assert "0% community" in _text(client.get(f"/c/{slug}").text)
    with rt.sessions() as session:
        assert len(session.scalars(select(Vote)).all()) == 1


def test_a_digest_ballot_link_shows_a_confirm_page_that_posts_back_to_it(rt: Runtime, client: TestClient) -> None:
    # Given a sent digest showing Alpha vs Beta and one of its readers' ship link for Alpha
    with rt.sessions() as session, session.begin():
        comparison = factories.published_comparison(session, "Alpha", "Beta")
        reader = factories.confirmed_subscriber(session, "reader@example.org").id
        digest = factories.sent_digest(session, rt.settings, "2026-W48").id
        slug, tool_id = comparison.slug, comparison.tool_a_id
    url = links.ballot_vote(rt.settings, reader, digest, tool_id, "ship").removeprefix(rt.settings.public_url)
    # When the link is followed, Then the confirm page posts back to that very link, counting nothing yet
    confirm = client.get(url)
    assert confirm.status_code == 200 and f'action="{url}"' in confirm.text
    with rt.sessions() as session:
        assert session.scalars(select(Vote)).all() == []
    # When the reader presses the button, Then the vote counts
    token = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text).group(1)  # type: ignore[union-attr]
    assert client.post(url, data={"csrf_token": token}).status_code == 200
    assert "100% community" in _text(client.get(f"/c/{slug}").text)
    # And the same ballot for a tool the digest did not show gets a clear refusal
    other = url.rsplit("/", 2)[0] + "/999999/ship"
    assert client.get(other).status_code == 400


def test_a_tampered_vote_link_gets_a_clear_page_not_an_error(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        tool = factories.judged_tool(session, "Alpha", (Call.SHIP,) * 4)
        reader = factories.confirmed_subscriber(session, "reader@example.org")
        url = links.vote(rt.settings, reader.id, tool.id, "ship").removeprefix(rt.settings.public_url)
    for bad in (url[:-4] + "abcd", "/vote/nonsense", links.unsubscribe(rt.settings, 1).replace(
            rt.settings.public_url + "/unsubscribe", "/vote")):
        response = client.get(bad)
        assert response.status_code == 400 and "This link does not work" in response.text


def test_editors_see_open_verdicts_and_manage_the_seats(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        panel.ensure_seats(session)
        queue.approve(session, factories.candidate(session, "Waiting").id, None)
    add_user(rt, "builder@example.org", "reviewer", lens="builder")
    token = sign_in(client, add_user(rt, "ed@example.org", "editor").email)
    page = _text(client.get("/editor/panel").text)
    assert "Waiting 0 / 4" in page and "builder builder@example.org active" in page
    # When the editor adds a lens and deactivates another
    client.post("/editor/panel/seats", data={"csrf_token": token, "lens": "Security"})
    with rt.sessions() as session:
        buyer = next(s for s in panel.all_seats(session) if s.lens == "buyer")
    client.post(f"/editor/panel/seats/{buyer.id}/active", data={"csrf_token": token, "active": "false"})
    # Then the verdict now waits for the four active seats, the new one among them
    page = _text(client.get("/editor/panel").text)
    assert "Waiting 0 / 4" in page and "security — active" in page and "buyer — inactive" in page


def test_a_browser_gets_error_pages_and_scripts_get_json(rt: Runtime, client: TestClient) -> None:
    token = sign_in(client, add_user(rt, "builder@example.org", "reviewer", lens="builder").email)
    html = {"accept": "text/html,application/xhtml+xml"}
    # A form with a missing field, in a browser: a page that names the field
    page = client.post("/editor/panel/1/call", data={"csrf_token": token, "call": "ship"}, headers=html)
    assert page.status_code == 422 and "seat_id" in page.text and "<h1>Check the form</h1>" in page.text
    # A page the role may not see, in a browser: a page that says so
    assert "<h1>Not allowed</h1>" in client.get("/editor/queue", headers=html).text
    # The same from a script: JSON
    assert client.get("/editor/queue", headers={"accept": "application/json"}).json()["detail"]


def test_the_tool_page_shows_its_figures_quotes_and_comparisons(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        comparison = factories.published_comparison(session, "Alpha", "Beta")
        slug = comparison.tool_a.slug
    response = client.get(f"/t/{slug}")
    page = _text(response.text)
    assert "75% panel ship" in page and "— community" in page and "Free entry" in page
    assert "Skeptic SHIP “skeptic on Alpha: ship”" in page and "Alpha vs Beta" in page
    assert '<meta property="og:title" content="Alpha">' in response.text
    assert client.get("/t/no-such-tool").status_code == 404
