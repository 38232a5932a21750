"""The shared SSRF guard: which URLs and addresses it lets through before a first connection.

Its behaviour on every hop of a fetch is proved in tests/ingest/test_hostile_sources.py."""

from __future__ import annotations

import ipaddress

import pytest

from services.core import ssrf


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fc00::1",
                                     "::ffff:127.0.0.1", "2002:7f00:1::", "2002:a00:1::1", "2002:a9fe:a9fe::"])
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert ssrf.forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "100.128.0.1",
                                     "2002:101:101::"])
def test_public_addresses_are_not(address: str) -> None:
    assert not ssrf.forbidden(ipaddress.ip_address(address))


def test_check_url_resolves_the_host_on_the_urls_port_and_refuses_a_private_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a resolver that records what it was asked and answers loopback
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["127.0.0.1"]

    monkeypatch.setattr(ssrf, "resolve", resolve)
    # When URLs are checked, Then loopback is refused unless private networks are allowed
    with pytest.raises(ssrf.GuardError) as caught:
        ssrf.check_url("https://hooks.example.org/in", allow_private_networks=False)
    assert caught.value.kind == "forbidden_address" and caught.value.kind in ssrf.FORBIDDEN
    ssrf.check_url("http://hooks.example.org:8080/in", allow_private_networks=True)
    assert asked == [("hooks.example.org", 443), ("hooks.example.org", 8080)]


@pytest.mark.parametrize(("url", "kind"), [("ftp://example.org/x", "forbidden_scheme"), ("http:///x", "bad_url"),
                                           ("https://no-such-host.invalid/", "dns"),
                                           ("http://1.1.1.1:99999/", "bad_url"), ("http://1.1.1.1:abc/", "bad_url"),
                                           ("http://[1.1.1.1]/", "bad_url"), ("http://[::1/", "bad_url"),
                                           ("http://a\uff03b/", "bad_url")])
def test_check_url_refuses_other_schemes_malformed_urls_missing_hosts_and_unresolvable_names(url: str, kind: str) -> None:
    with pytest.raises(ssrf.GuardError) as caught:
        ssrf.check_url(url, allow_private_networks=True)
    assert caught.value.kind == kind
