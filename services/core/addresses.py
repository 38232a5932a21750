"""The identity of an email address: the one form an address is stored in and looked up by.

Subscribers and staff users alike: two spellings of one mailbox (``Anna@Example.com`` and
``anna@example.com``; ``anna@xn--bcher-kva.example`` and ``anna@bücher.example``) are one identity.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from services.core.errors import InvalidInput


class InvalidAddress(InvalidInput):
    """Not a usable email address; the message says why, in email-validator's words."""


def identity(address: str) -> str:
    """The stored form of ``address``: email-validator's normalised form, lower-cased.

    Input: an address as typed or received, surrounding whitespace allowed. Output: the address
    with its domain in Unicode (an IDNA ``xn--`` label decoded, NFC-normalised, as email-validator
    2.x's ``normalized`` gives it) and then the whole lower-cased. Deliverability (DNS) is not
    checked. Raises ``InvalidAddress`` when it is not an address, or its domain is a special-use
    name (``.test``, ``.local``, ``localhost``…) that cannot receive mail.
    """
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from exc
