"""What one Event Webhook event means for its address: suppress it now, count a soft bounce, or nothing.

Source: SendGrid's Event Webhook reference
(https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event). A ``bounce`` carries
``type`` "bounce" (the receiving server refused the address for good) or "blocked" (a temporary,
often reputation-based refusal; a message deferred for 72 hours also ends as one). A ``dropped``
carries a ``reason``: "Bounced Address", "Invalid", "Spam Reporting Address" and "Unsubscribed
Address" mean the address will never take our mail; others ("Invalid SMTPAPI header", "Recipient
List over Package Quota", "Spam Content …") are about the message or the account, not the address.
``deferred`` is ignored: SendGrid is still trying, and the attempt ends in ``delivered`` or ``bounce``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Disposition(enum.StrEnum):
    SUPPRESS = "suppress"        # never deliverable: off the list at once
    OPT_OUT = "opt_out"          # the person asked to get no more: off the list, and unsubscribed
    SOFT_BOUNCE = "soft_bounce"  # a temporary refusal: one more in the address's run
    DELIVERED = "delivered"      # the address takes mail: its run of soft bounces ends
    IGNORE = "ignore"            # nothing about the address


#: Event types that are the person's own opt-out.
OPT_OUT_EVENTS = frozenset({"unsubscribe", "group_unsubscribe", "spamreport"})
#: ``dropped`` reasons (lower-cased) that mean the address never takes our mail, and whether it is an opt-out.
NEVER_DELIVERABLE_DROPS = {"bounced address": Disposition.SUPPRESS, "invalid": Disposition.SUPPRESS,
                           "spam reporting address": Disposition.OPT_OUT,
                           "unsubscribed address": Disposition.OPT_OUT}


def classify(event: Mapping[str, object]) -> Disposition:
    """The ``Disposition`` of one Event Webhook event (a JSON object as SendGrid posts it).

    A ``bounce`` without a ``type`` (older payloads) is a hard bounce; a ``dropped`` without a known
    reason is ignored. Pure: reads ``event``, touches nothing, raises nothing.
    """
    kind = event.get("event")
    if kind in OPT_OUT_EVENTS:
        return Disposition.OPT_OUT
    if kind == "bounce":
        return Disposition.SOFT_BOUNCE if event.get("type") == "blocked" else Disposition.SUPPRESS
    if kind == "dropped":
        return NEVER_DELIVERABLE_DROPS.get(str(event.get("reason", "")).strip().lower(), Disposition.IGNORE)
    if kind == "delivered":
        return Disposition.DELIVERED
    return Disposition.IGNORE
