"""The identity of an email address: the one form an address is stored in and looked up by.

Subscribers and staff users alike: two spellings of one mailbox (``Anna@Example.com`` and
``anna@example.com``; ``anna@xn--bcher-kva.example`` and ``anna@bücher.example``) are one identity.
An address new to the list must also be one the mailer can deliver to (``mailable_identity``), and
goes to the mailer in its ASCII-domain form (``transport_form``).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from services.core.errors import InvalidInput


class InvalidAddress(InvalidInput):
    """Not a usable email address; the message says why, in email-validator's words."""


#: RFC 5321 §4.5.3.1.1: the longest local part servers must accept (email-validator checks it only when strict).
LOCAL_PART_MAX_OCTETS = 64


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


def mailable_identity(address: str, smtputf8: bool) -> str:
    """``identity(address)`` for an address coming onto the list: one the configured mailer can deliver to.

    Input: an address as typed, and whether the mailer can send SMTPUTF8 (RFC 6531), the extension a
    local part (before the @) that is not ASCII needs (setting ``mailer_smtputf8``; SendGrid's v3 Mail
    Send cannot). Output: the identity. Raises ``InvalidAddress`` as ``identity`` does, when the local
    part is longer than 64 octets, and when it is not ASCII and ``smtputf8`` is False. An internationalised domain is always fine: it
    travels as IDNA (``transport_form``).
    """
    stored = identity(address)
    local = stored.rpartition("@")[0]
    if len(local.encode()) > LOCAL_PART_MAX_OCTETS:
        raise InvalidAddress(f"the part before the @ is {len(local.encode())} characters long; mail servers accept "
                             f"at most {LOCAL_PART_MAX_OCTETS} (RFC 5321, section 4.5.3.1.1)")
    if not smtputf8 and not local.isascii():
        raise InvalidAddress(f"the part before the @ ({local}) has characters outside ASCII, which our mail service "
                             "cannot deliver to (it needs SMTPUTF8); please give an address without them")
    return stored


def transport_form(address: str) -> str:
    """A stored address as mail carries it: the domain in IDNA ASCII form (``xn--`` labels, RFC 5891).

    Input: an ``identity``. Output: the same mailbox with its domain as email-validator's
    ``ascii_domain`` gives it, the form every mail service accepts (an ASCII address is returned as it
    is). Raises ``InvalidAddress`` for what ``identity`` would refuse.
    """
    if address.isascii():
        return address
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from exc
    return f"{checked.local_part}@{checked.ascii_domain}"
