"""The three ways a domain function refuses a request; each package subclasses them under its own names.

Packages raise their subclasses (``services.review.errors``, ``services.digest.errors``,
``services.delivery.errors``) and name them in their docstrings. The web layer maps the three kinds to
status codes in one place (``services.web.errors``); the CLI prints one line and exits non-zero
(``services.commands.common.refusals``). A refusal changes nothing: the caller rolls its transaction back.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; ``str(error)`` is a sentence fit for the person who asked."""


class NotFound(DomainError):
    """What the request names does not exist (web: 404)."""


class Conflict(DomainError):
    """The current state does not allow the change: someone else changed it first, or it is settled (web: 409)."""


class InvalidInput(DomainError):
    """The request's own values are not acceptable (web: 400)."""
