"""Headers shared by every recipient of a digest: the list's identity, the feedback-loop id, one-click.

``List-Id`` follows RFC 2919 (a phrase and a dotted id in angle brackets); ``Feedback-ID`` follows
Gmail's Feedback Loop format, colon-separated fields ending with the sender id
(https://support.google.com/a/answer/6254652); ``List-Unsubscribe-Post`` is RFC 8058's one-click
marker, which a message needs beside its own ``List-Unsubscribe``. All three are the same for a whole
batch, so they travel in the request's shared part, not once per recipient.
"""

from __future__ import annotations

import re

from services.core.settings import Settings

LIST_NAME = "Verdicts weekly"
#: RFC 8058's List-Unsubscribe-Post value.
ONE_CLICK = "List-Unsubscribe=One-Click"
#: A host usable as the right-hand part of a List-Id (a dot-atom of letters, digits and hyphens).
_DOT_ATOM = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")


def list_id(settings: Settings) -> str:
    """The digest's list id: ``settings.list_id``, else ``weekly.`` and the public URL's host.

    An IPv6 literal host is no dot-atom (RFC 2919 section 2), so it falls back to ``weekly.localhost``.
    """
    if settings.list_id:
        return settings.list_id
    host = settings.base_url.host or ""
    return f"weekly.{host if _DOT_ATOM.match(host) else 'localhost'}"


def digest_headers(settings: Settings, digest_id: int, week: str) -> dict[str, str]:
    """``List-Id``, ``Feedback-ID`` (campaign ``digest``, the week, the digest id, the sender id) and
    ``List-Unsubscribe-Post`` (``ONE_CLICK``)."""
    return {"List-Id": f'"{LIST_NAME}" <{list_id(settings)}>',
            "Feedback-ID": f"digest:{week}:{digest_id}:{settings.feedback_sender_id}",
            "List-Unsubscribe-Post": ONE_CLICK}
