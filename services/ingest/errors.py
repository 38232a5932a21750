"""What the ingest package refuses: sources that cannot be added, found or tied."""

from __future__ import annotations

from services.core.errors import InvalidInput, NotFound


class SourceError(InvalidInput):
    """A source request that cannot be honoured: a duplicate URL, a bad kind or URL, an unreadable feed."""


class SourceUrlError(SourceError):
    """The URL does not fit the kind of source (e.g. a GitHub releases source that is no releases.atom)."""


class SourceNotFound(NotFound, SourceError):
    """No source has the id given (web: 404)."""


class TieError(SourceError):
    """A tie that cannot be made: no tool is known by that key."""
