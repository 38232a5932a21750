"""ops: alert incidents, so each alert is sent once per incident

Revision ID: 0006
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.core.db.base

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("open_key", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("opened_at", services.core.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("notified_at", services.core.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", services.core.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_incidents")),
        sa.UniqueConstraint("open_key", name=op.f("uq_alert_incidents_open_key")),
    )
    op.create_index(op.f("ix_alert_incidents_key"), "alert_incidents", ["key"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_incidents_key"), table_name="alert_incidents")
    op.drop_table("alert_incidents")
