"""Detector: the model version that scored a candidate, every tool name found in an entry, and the
tool a changelog source is tied to.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tools") as batch:
        batch.add_column(sa.Column("model_version", sa.String(64), nullable=True))
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("names", sa.JSON(), nullable=True))
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("tool_key", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("tool_key")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("names")
    with op.batch_alter_table("tools") as batch:
        batch.drop_column("model_version")
