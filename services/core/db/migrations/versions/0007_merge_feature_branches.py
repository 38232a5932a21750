"""Join the feature migrations (ingest, review, delivery, ops) into one head.

Revision ID: 0007
Revises: 0002, 0003, 0005, 0006
"""

from __future__ import annotations

revision = "0007"
down_revision = ("0002", "0003", "0005", "0006")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the four branches touch different tables."""


def downgrade() -> None:
    """Nothing to change: each branch's own downgrade undoes its part."""
