"""Every table of the store of record; importing this package registers them all on Base.metadata."""

from services.core.db.models.delivery import (
    DeliveryBatch,
    DigestEngagement,
    DigestEventCount,
    DigestLinkClick,
    DigestSend,
    WebhookBatch,
    WebhookEvent,
)
from services.core.db.models.digests import Digest, DigestVariant
from services.core.db.models.hooks import HookAttempt, HookDelivery, HookEndpoint
from services.core.db.models.ingest import EntryTombstone, ToolKey
from services.core.db.models.ops import AlertIncident
from services.core.db.models.outbox import Event
from services.core.db.models.panel import (
    Comparison,
    PanelSeat,
    Scorecard,
    Verdict,
    Vote,
)
from services.core.db.models.people import ApiToken, AuditEntry, RecoveryCode, User
from services.core.db.models.sources import Entry, Source
from services.core.db.models.subscribers import Subscriber
from services.core.db.models.tools import Evidence, Tool

__all__ = [
    "AlertIncident",
    "ApiToken",
    "AuditEntry",
    "Comparison",
    "DeliveryBatch",
    "Digest",
    "DigestVariant",
    "DigestEngagement",
    "DigestEventCount",
    "DigestLinkClick",
    "DigestSend",
    "Entry",
    "EntryTombstone",
    "Event",
    "Evidence",
    "HookAttempt",
    "HookDelivery",
    "HookEndpoint",
    "PanelSeat",
    "RecoveryCode",
    "Scorecard",
    "Source",
    "Subscriber",
    "Tool",
    "ToolKey",
    "User",
    "Verdict",
    "Vote",
    "WebhookBatch",
    "WebhookEvent",
]
