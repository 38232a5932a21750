"""Public subscriber pages: double opt-in without enumeration, rate limits, one-click unsubscribe, preferences."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core import links
from services.core.db.models import Event, Subscriber
from services.core.domain import Call
from services.core.runtime import Runtime
from tests import factories
from tests.event_driver import mails
from tests.web.conftest import client_with


def _subscriber(rt: Runtime, address: str) -> Subscriber:
    with rt.sessions() as session:
        return session.scalar(select(Subscriber).where(Subscriber.email == address))


def test_the_answer_is_the_same_for_new_pending_and_confirmed_addresses(rt: Runtime, client: TestClient) -> None:
    # Given one confirmed address
    with rt.sessions() as session, session.begin():
        factories.confirmed_subscriber(session, "known@example.org")
    # When a new address subscribes twice (pending the second time) and the known one subscribes
    answers = [client.post("/subscribe", data={"email": address})
               for address in ("New@Example.org", "new@example.org", "known@example.org")]
    # Then all three answers are alike, and the new address is stored lower-cased, pending, with its confirmation
    assert {a.status_code for a in answers} == {200}
    assert len({re.sub(r"\s+", " ", a.text) for a in answers}) == 1
    assert _subscriber(rt, "new@example.org").state == "pending"
    assert [m["To"] for m in mails(rt)] == ["new@example.org", "new@example.org"]


def test_new_pending_and_confirmed_addresses_take_the_same_path_with_no_mail_sent_in_the_request(
        rt: Runtime, client: TestClient) -> None:
    # Given one confirmed and one pending address
    with rt.sessions() as session, session.begin():
        factories.confirmed_subscriber(session, "known@example.org")
    client.post("/subscribe", data={"email": "waiting@example.org"})
    earlier = [m["To"] for m in mails(rt)]
    # When a new, the pending and the confirmed address subscribe
    for address in ("fresh@example.org", "waiting@example.org", "known@example.org"):
        client.post("/subscribe", data={"email": address})
    # Then each request recorded exactly one confirmation-due event and nothing was mailed in the requests
    with rt.sessions() as session:
        due = session.scalars(select(Event.payload).where(Event.type == "subscriber.confirmation_due",
                                                          Event.handled_at.is_(None)).order_by(Event.id)).all()
        ids = [session.scalar(select(Subscriber.id).where(Subscriber.email == address))
               for address in ("fresh@example.org", "waiting@example.org", "known@example.org")]
    assert due == [{"subscriber_id": subscriber_id} for subscriber_id in ids]
    assert len(list(rt.settings.outbox_dir.glob("*.eml"))) == len(earlier)
    # And the worker mails the two still pending, and not the confirmed one
    assert sorted(m["To"] for m in mails(rt)) == sorted([*earlier, "fresh@example.org", "waiting@example.org"])


def test_the_json_api_subscribes_the_same_way(rt: Runtime, client: TestClient) -> None:
    response = client.post("/api/subscribers", json={"email": "api@example.org"})
    assert response.status_code == 202 and response.json()["status"] == "accepted"
    assert _subscriber(rt, "api@example.org").state == "pending"
    assert client.post("/api/subscribers", json={"email": "not an address"}).status_code == 400


def test_an_address_the_mailer_cannot_deliver_to_is_refused_with_the_reason(rt: Runtime, client: TestClient) -> None:
    # Given a mailer without SMTPUTF8 (the default, as with SendGrid)
    # When an address with a non-ASCII part before the @ subscribes through the form and the JSON API
    form = client.post("/subscribe", data={"email": "zoë@example.com"})
    api = client.post("/api/subscribers", json={"email": "Zoë@example.com"})
    # Then both refuse it, saying why, and nothing is stored or mailed
    assert form.status_code == 400 and "SMTPUTF8" in form.text
    assert api.status_code == 400 and "SMTPUTF8" in api.json()["message"]
    assert _subscriber(rt, "zoë@example.com") is None and mails(rt) == []


def test_an_internationalised_domain_subscribes_and_is_mailed_at_its_idna_form(rt: Runtime,
                                                                               client: TestClient) -> None:
    assert client.post("/subscribe", data={"email": "anna@bücher.example"}).status_code == 200
    assert _subscriber(rt, "anna@bücher.example").state == "pending"
    assert [m["To"] for m in mails(rt)] == ["anna@xn--bcher-kva.example"]


def test_subscribing_is_rate_limited_per_address_and_per_ip(rt: Runtime, redis_required: None) -> None:
    # Given limits of 2 confirmations per address and 4 requests per IP
    client = client_with(rt, subscribe_limit_per_address=2, subscribe_limit_per_ip=4,
                         redis_namespace=f"{rt.settings.redis_namespace}-{id(rt)}")
    # When one address asks four times
    answers = [client.post("/subscribe", data={"email": "eager@example.org"}).status_code for _ in range(4)]
    # Then every answer looks the same but only two confirmations went out; the fifth request from the IP is refused
    assert answers == [200, 200, 200, 200]
    assert len(mails(rt)) == 2
    assert client.post("/subscribe", data={"email": "other@example.org"}).status_code == 429


def _confirmed(rt: Runtime) -> tuple[int, str, str]:
    with rt.sessions() as session, session.begin():
        subscriber = factories.confirmed_subscriber(session, "reader@example.org")
    return (subscriber.id, links.unsubscribe(rt.settings, subscriber.id).rsplit("/", 1)[1],
            links.preferences(rt.settings, subscriber.id).rsplit("/", 1)[1])


def test_one_click_post_unsubscribes_at_once_without_cookie_or_csrf(rt: Runtime, client: TestClient) -> None:
    # Given a confirmed reader and the URL from their List-Unsubscribe header
    _id, token, _prefs = _confirmed(rt)
    # When a mail client POSTs the RFC 8058 body, with no cookie
    response = client.post(f"/unsubscribe/{token}", content=b"List-Unsubscribe=One-Click",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    # Then the reader is unsubscribed
    assert response.status_code == 200
    assert _subscriber(rt, "reader@example.org").state == "unsubscribed"


def test_following_the_link_shows_a_button_and_unsubscribes_nobody(rt: Runtime, client: TestClient) -> None:
    _id, token, _prefs = _confirmed(rt)
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and f'action="/unsubscribe/{token}"' in page.text and "<button" in page.text
    assert _subscriber(rt, "reader@example.org").state == "confirmed"


def test_a_forged_unsubscribe_token_is_refused(rt: Runtime, client: TestClient) -> None:
    _confirmed(rt)
    assert client.post("/unsubscribe/MQ.forged.token", content=b"List-Unsubscribe=One-Click").status_code == 400
    assert _subscriber(rt, "reader@example.org").state == "confirmed"


def test_the_preferences_page_pauses_and_picks_topics_from_the_tools_categories(rt: Runtime, client: TestClient) -> None:
    # Given approved tools in two categories and the reader's preferences link
    with rt.sessions() as session, session.begin():
        factories.judged_tool(session, "Coder", (Call.SHIP,) * 4, category="Developer Tools")
        factories.judged_tool(session, "Painter", (Call.SHIP,) * 4, category="Image Generation")
    _id, _token, prefs = _confirmed(rt)
    page = client.get(f"/prefs/{prefs}").text
    assert "Pause the digest" in page
    assert 'value="developer-tools"' in page and "Developer Tools" in page and 'value="image-generation"' in page
    # When they pause and tick one offered topic and one that no tool has
    saved = client.post(f"/prefs/{prefs}", data={"paused": "on", "topics": ["image-generation", "bogus"]})
    # Then it is stored (the unknown topic dropped), shown ticked, and the page still offers to unsubscribe
    assert saved.status_code == 200 and "Saved." in saved.text and 'action="/unsubscribe/' in saved.text
    assert 'value="image-generation" checked' in saved.text
    subscriber = _subscriber(rt, "reader@example.org")
    assert subscriber.paused is True and subscriber.topics == ["image-generation"]
    # When they untick everything, Then they are back to the whole digest
    client.post(f"/prefs/{prefs}", data={})
    assert _subscriber(rt, "reader@example.org").topics == []


def test_the_json_api_keeps_the_topics_of_a_new_subscriber_and_refuses_too_many(rt: Runtime,
                                                                              client: TestClient) -> None:
    # When a new address subscribes through the API with topics named as categories
    answer = client.post("/api/subscribers", json={"email": "topical@example.org",
                                                   "topics": ["Developer Tools", "image-generation"]})
    # Then it is accepted and its topics are stored as slugs
    assert answer.status_code == 202
    assert _subscriber(rt, "topical@example.org").topics == ["developer-tools", "image-generation"]
    # And a confirmed subscriber's topics cannot be changed by anyone who knows the address
    with rt.sessions() as session, session.begin():
        factories.confirmed_subscriber(session, "settled@example.org")
    client.post("/api/subscribers", json={"email": "settled@example.org", "topics": ["image-generation"]})
    assert _subscriber(rt, "settled@example.org").topics == []
    # And a list past the limit is refused with a 4xx, storing nothing
    refused = client.post("/api/subscribers", json={"email": "greedy@example.org",
                                                    "topics": [f"topic-{n}" for n in range(60)]})
    assert refused.status_code == 422 and _subscriber(rt, "greedy@example.org") is None


@pytest.mark.parametrize("path", ["/prefs/x.y.z", "/unsubscribe/x.y.z"])
def test_bad_links_get_a_clear_page(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 400
