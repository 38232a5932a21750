"""What an editor checks before approving: the preview files and a test mail to one address.

A test mail is asked for in the request (``request_test`` records ``digest.test_due``) and sent by a
worker (``send_test``, from ``services.digest.actors``), like every other mail a request owes.
Neither touches a subscriber: personal markers are filled with neutral public links (a vote link
becomes the comparison's page, the unsubscribe and preferences links the subscribe page).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.core import events, links
from services.core.addresses import InvalidAddress, mailable_identity
from services.core.db.models import Digest
from services.core.domain import Call
from services.core.settings import Settings
from services.digest.errors import BadTestAddress
from services.mail import placeholders
from services.mail.mailers import Mailer
from services.mail.messages import OutgoingMail

TEST_PREFIX = "[Test] "


def neutral_values(settings: Settings, digest: Digest) -> dict[str, str]:
    """Public stand-ins for every per-recipient marker of ``digest``."""
    subscribe = links.subscribe(settings)
    values = {placeholders.UNSUBSCRIBE: subscribe, placeholders.PREFERENCES: subscribe}
    for section in digest.sections:
        for side in section.get("sides", ()):
            for call in Call:
                values[placeholders.vote(side["tool_id"], call)] = str(section["url"])
    return values


def preview_html(settings: Settings, digest: Digest) -> str:
    return placeholders.fill(digest.html or "", neutral_values(settings, digest))


def preview_text(settings: Settings, digest: Digest) -> str:
    return placeholders.fill(digest.text or "", neutral_values(settings, digest))


def preview_files(settings: Settings, digest: Digest) -> dict[str, str]:
    """The files `verdicts digest preview` writes: what the editor page shows, one file each."""
    return {"subject.txt": digest.subject + "\n", "preheader.txt": digest.preheader + "\n",
            "digest.html": preview_html(settings, digest), "digest.txt": preview_text(settings, digest)}


def request_test(session: Session, digest: Digest, address: str, *, smtputf8: bool) -> str:
    """Record a test mail of ``digest`` to ``address`` as due (``digest.test_due``) in the caller's
    transaction; returns the address as stored (``mailable_identity``; ``smtputf8``: settings'
    ``mailer_smtputf8``). Raises ``BadTestAddress`` for an address that is not one the mailer can deliver to.
    """
    try:
        recipient = mailable_identity(address, smtputf8)
    except InvalidAddress as exc:
        raise BadTestAddress(f"not an email address: {exc}") from exc
    events.record(session, "digest.test_due", digest_id=digest.id, address=recipient)
    return recipient


def send_test(settings: Settings, mailer: Mailer, digest: Digest, address: str) -> str:
    """Mail the digest as it stands to ``address`` (checked by ``request_test``) through the configured
    mailer; returns the mailer's id. What the mailer raises passes through.
    """
    return mailer.send(OutgoingMail(
        to=address, subject=TEST_PREFIX + digest.subject, html=preview_html(settings, digest),
        text=preview_text(settings, digest), headers={"X-Verdicts-Digest": digest.week},
        categories=("digest-test", digest.week)))
