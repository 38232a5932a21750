"""What the review package refuses: the queue's decisions, the panel's calls, comparisons, vote links."""

from __future__ import annotations

from services.core.errors import Conflict, InvalidInput, NotFound


class CandidateNotFound(NotFound):
    """No tool has the id a queue decision names."""


class ReviewConflict(Conflict):
    """The candidate was decided or changed by someone else first; nothing was changed."""


class ReviewError(InvalidInput):
    """A queue request that cannot apply: a missing reason, a bad value, an unknown filter or merge target."""


class VerdictNotFound(NotFound):
    """No verdict has the id a call names."""


class VerdictComplete(Conflict):
    """The verdict is complete; its calls can no longer change."""


class SeatNotFound(NotFound):
    """No panel seat has the id given."""


class PanelError(InvalidInput):
    """A call or a seat that cannot be accepted: no quote, too long a quote, an inactive seat, a bad lens."""


class ToolNotFound(NotFound):
    """No approved tool has the slug given."""


class ComparisonNotFound(NotFound):
    """No comparison has the id given, or no published one the slug given."""


class ComparisonError(InvalidInput):
    """A comparison that cannot be made or saved: the same tool twice, a tool without a verdict, a bad headline."""


class VoteLinkError(InvalidInput):
    """The vote link is tampered with, expired, made for something else, or names what no longer exists."""
