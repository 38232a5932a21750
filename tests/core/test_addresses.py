"""identity(): one stored form per mailbox, whatever case or IDN spelling an address arrives in."""

from __future__ import annotations

import pytest

from services.core.addresses import InvalidAddress, identity


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
