"""identity(): one stored form per mailbox, whatever case or IDN spelling an address arrives in;
mailable_identity() and transport_form(): which addresses the mailer can deliver to, and in what form."""

from __future__ import annotations

import pytest

from services.core.addresses import InvalidAddress, identity, mailable_identity, transport_form


@pytest.mark.parametrize("spelled", [
    "anna@bücher.example",
    "anna@xn--bcher-kva.example",  # the same domain in its IDNA (punycode) form
    "ANNA@XN--BCHER-KVA.EXAMPLE",
    "Anna@Bücher.Example",
    "anna@bu\u0308cher.example",  # ü as u plus a combining diaeresis (NFD)
    "  anna@bücher.example\n",
])
def test_every_spelling_of_one_mailbox_is_one_identity(spelled: str) -> None:
    # Given one mailbox spelled another way, When its identity is taken, Then it is the Unicode, lower-cased form
    assert identity(spelled) == "anna@bücher.example"


def test_an_ascii_address_is_lower_cased_whole() -> None:
    assert identity("Reader.One@Example.ORG") == "reader.one@example.org"


@pytest.mark.parametrize("value", ["", "reader", "reader@", "@example.org", "reader@example", "ops@host.test"])
def test_what_is_not_a_mailable_address_raises_invalid_address_saying_why(value: str) -> None:
    # Given something that is not an address (or names a domain that cannot receive mail)
    # When its identity is taken, Then InvalidAddress says what is wrong
    with pytest.raises(InvalidAddress, match=r"\w+"):
        identity(value)


@pytest.mark.parametrize("address", ["zoë@example.com", "Ñandú@example.org", "用户@例子.广告"])
def test_a_local_part_outside_ascii_is_refused_while_the_mailer_cannot_send_smtputf8(address: str) -> None:
    # Given an address whose part before the @ is not ASCII, and a mailer without SMTPUTF8 (SendGrid)
    # When it comes onto the list, Then InvalidAddress names the part and the reason
    with pytest.raises(InvalidAddress, match="SMTPUTF8"):
        mailable_identity(address, smtputf8=False)


def test_a_local_part_outside_ascii_is_welcome_when_the_mailer_can_send_smtputf8() -> None:
    assert mailable_identity("Zoë@Example.com", smtputf8=True) == "zoë@example.com"


@pytest.mark.parametrize("spelled", ["anna@bücher.example", "Anna@XN--BCHER-KVA.example"])
def test_an_internationalised_domain_is_welcome_and_travels_as_idna(spelled: str) -> None:
    # Given an ASCII mailbox at an internationalised domain, and a mailer without SMTPUTF8
    # When it comes onto the list, Then it is stored in Unicode, and mail carries the domain's IDNA form
    stored = mailable_identity(spelled, smtputf8=False)
    assert stored == "anna@bücher.example"
    assert transport_form(stored) == "anna@xn--bcher-kva.example"


def test_an_ascii_address_travels_as_it_is_stored() -> None:
    assert transport_form("reader@example.org") == "reader@example.org"


def test_a_local_part_longer_than_64_octets_is_refused_and_64_is_welcome() -> None:
    # Given addresses whose part before the @ is 65 and 64 characters long
    too_long, longest = "a" * 65 + "@example.com", "a" * 64 + "@example.com"
    # When they come onto the list, Then the longer one is refused saying why (RFC 5321's limit), the other kept
    with pytest.raises(InvalidAddress, match="at most 64"):
        mailable_identity(too_long, smtputf8=False)
    assert mailable_identity(longest, smtputf8=False) == longest
