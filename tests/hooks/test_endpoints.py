"""Registering endpoints: the SSRF guard, the event types, the secret shown once, the audit log."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from services.core import ssrf
from services.core.db.models import AuditEntry, HookEndpoint
from services.core.runtime import Runtime
from services.hooks import endpoints
from services.hooks.errors import HookNotFound, HookRefused


def _count(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(HookEndpoint)) or 0


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "100.64.0.1", "::1",
                                     "fe80::1", "::ffff:10.0.0.1"])
def test_an_endpoint_on_a_private_or_local_address_is_refused_unless_private_networks_are_allowed(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    # Given a host name that resolves to a non-public address
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: [address])
    # When it is registered under the default policy, Then it is refused saying why, and nothing is stored
    with rt.sessions() as session, session.begin(), pytest.raises(HookRefused, match="only public addresses"):
        endpoints.register(session, "https://hooks.example.org/in", "", ["tool.approved"],
                           allow_private_networks=False, user_id=None)
    assert _count(rt) == 0
    # When private networks are allowed, Then it is registered
    with rt.sessions() as session, session.begin():
        endpoints.register(session, "https://hooks.example.org/in", "", ["tool.approved"],
                           allow_private_networks=True, user_id=None)
    assert _count(rt) == 1


@pytest.mark.parametrize(("url", "types", "why"), [
    ("file:///etc/passwd", ["tool.approved"], "refusing file URL"),
    ("gopher://example.org/", ["tool.approved"], "refusing gopher URL"),
    ("https:///no-host", ["tool.approved"], "no host"),
    ("", ["tool.approved"], "URL cannot be empty"),
    ("https://hooks.example.org/in", [], "at least one event type"),
    ("https://hooks.example.org/in", ["tool.approved", "tool.rejected"], "unknown event type"),
])
def test_bad_registrations_are_refused_with_the_reason(rt: Runtime, monkeypatch: pytest.MonkeyPatch, url: str,
                                                       types: list[str], why: str) -> None:
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["93.184.215.14"])
    with rt.sessions() as session, session.begin(), pytest.raises(HookRefused, match=why):
        endpoints.register(session, url, "", types, allow_private_networks=False, user_id=None)
    assert _count(rt) == 0


def test_a_registered_endpoint_has_a_standard_webhooks_secret_that_lists_show_only_the_start_of(rt: Runtime) -> None:
    # Given an endpoint registered with its types out of order and repeated
    with rt.sessions() as session, session.begin():
        made = endpoints.register(session, " http://127.0.0.1:9/in ", "CRM sync",
                                  ["digest.sent", "tool.queued", "digest.sent"], allow_private_networks=True,
                                  user_id=None, note="by the command line")
        endpoint_id = made.endpoint.id
    # Then the secret is whsec_ and 32 random bytes in base64, the types are kept once in catalogue order
    assert made.secret.startswith("whsec_") and len(base64.b64decode(made.secret[6:])) == 32
    with rt.sessions() as session:
        [row] = endpoints.endpoint_rows(session)
        [audit] = session.scalars(select(AuditEntry)).all()
    assert row["url"] == "http://127.0.0.1:9/in" and row["event_types"] == ["tool.queued", "digest.sent"]
    assert row["secret_hint"] == made.secret[:10] + "…" and made.secret not in str(row)
    assert (row["pending"], row["succeeded"], row["failed"]) == (0, 0, 0)
    # And the registration is on the audit log, without the secret
    assert (audit.action, audit.subject, audit.note) == ("hook.add", f"hook:{endpoint_id}", "by the command line")
    assert made.secret not in str(audit.detail)


def test_removing_an_endpoint_is_audited_and_an_unknown_one_is_not_found(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        endpoint_id = endpoints.register(session, "http://127.0.0.1:9/in", "", ["tool.queued"],
                                         allow_private_networks=True, user_id=None).endpoint.id
    with rt.sessions() as session, session.begin():
        endpoints.remove(session, endpoint_id, user_id=None)
    with rt.sessions() as session, pytest.raises(HookNotFound):
        endpoints.remove(session, endpoint_id, user_id=None)
    with rt.sessions() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["hook.add", "hook.remove"] and _count(rt) == 0


@pytest.mark.parametrize("url", ["http://1.1.1.1:99999/", "http://1.1.1.1:abc/", "http://1.1.1.1:-1/",
                                 "http://[1.1.1.1]/", "http://[::1/", "http://hooks\uff03example.org/"])
def test_a_url_with_a_bad_port_or_host_is_refused_as_malformed(rt: Runtime, url: str) -> None:
    with rt.sessions() as session, session.begin(), pytest.raises(HookRefused, match="malformed URL"):
        endpoints.register(session, url, "", ["tool.approved"], allow_private_networks=True, user_id=None)
    assert _count(rt) == 0


@pytest.mark.parametrize("url", ["http://user:pw@hooks.example.org/in", "http://token@hooks.example.org/in",
                                 "https://:pw@hooks.example.org/in"])
def test_a_url_with_a_user_name_or_password_is_refused(rt: Runtime, monkeypatch: pytest.MonkeyPatch,
                                                       url: str) -> None:
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["93.184.215.14"])
    with rt.sessions() as session, session.begin(), pytest.raises(HookRefused, match="user name or password"):
        endpoints.register(session, url, "", ["tool.approved"], allow_private_networks=False, user_id=None)
    assert _count(rt) == 0


def test_the_same_url_is_not_registered_twice_for_the_same_event_type(rt: Runtime) -> None:
    # Given an endpoint told of approvals and queued tools
    with rt.sessions() as session, session.begin():
        first = endpoints.register(session, "http://127.0.0.1:9/in", "", ["tool.approved", "tool.queued"],
                                   allow_private_networks=True, user_id=None).endpoint.id
    # When the same URL is registered again for one of those types, Then it is refused naming the endpoint
    with rt.sessions() as session, session.begin(), pytest.raises(HookRefused, match=f"endpoint {first} already "
                                                                                      "sends tool.approved"):
        endpoints.register(session, " http://127.0.0.1:9/in", "", ["tool.approved"], allow_private_networks=True,
                           user_id=None)
    # When it is registered for another type only, Then that is a second endpoint
    with rt.sessions() as session, session.begin():
        endpoints.register(session, "http://127.0.0.1:9/in", "", ["digest.sent"], allow_private_networks=True,
                           user_id=None)
    assert _count(rt) == 2


def test_a_description_is_one_clean_line_and_a_bidi_control_in_it_is_refused(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin(), pytest.raises(HookRefused, match="bidirectional control"):
        endpoints.register(session, "http://127.0.0.1:9/in", "CRM \u202egnp.exe", ["tool.approved"],
                           allow_private_networks=True, user_id=None)
    with rt.sessions() as session, session.begin():
        made = endpoints.register(session, "http://127.0.0.1:9/in", "CRM\x1b[2J\n sync\x00", ["tool.approved"],
                                  allow_private_networks=True, user_id=None)
        assert made.endpoint.description == "CRM[2J sync"


def test_more_event_types_than_a_form_can_send_are_refused_without_repeating_them(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin(), pytest.raises(HookRefused, match="1000 event types given"):
        endpoints.register(session, "http://127.0.0.1:9/in", "", ["x" * 100] * 1000, allow_private_networks=True,
                           user_id=None)
