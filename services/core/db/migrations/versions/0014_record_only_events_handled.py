"""Events nothing handles are now written handled; mark the ones written before so. Drop ix_tools_category,
which ix_tools_category_state_name (category first) covers.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

#: The types services/core/event_types.py listed with no handler when this revision was written (a
#: migration keeps its own copy: the catalogue may change after it).
RECORD_ONLY = ("comparison.published", "digest.compiled", "digest.sent", "entry.ingested", "source.disabled",
               "tool.approved", "tool.detected", "tool.evidence_added", "tool.merged", "tool.queued",
               "tool.rejected", "tool.updated", "verdict.completed")


def upgrade() -> None:
    events = sa.table("events", sa.column("type", sa.String), sa.column("handled_at", sa.DateTime(timezone=True)),
                      sa.column("created_at", sa.DateTime(timezone=True)))
    op.execute(events.update().where(events.c.handled_at.is_(None), events.c.type.in_(RECORD_ONLY))
               .values(handled_at=events.c.created_at))
    with op.batch_alter_table("tools") as batch:
        batch.drop_index("ix_tools_category")


def downgrade() -> None:
    with op.batch_alter_table("tools") as batch:
        batch.create_index("ix_tools_category", ["category"], unique=False)
