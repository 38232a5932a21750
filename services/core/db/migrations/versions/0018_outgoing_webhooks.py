"""Outgoing webhooks: the endpoints editors register, a delivery per event and endpoint, each attempt.

Events of the types endpoints can be told of (tool.queued, tool.approved, verdict.completed,
comparison.published, digest.sent) are written unhandled from now on; the ones written before stay
handled (0014 marked them so): webhooks start with what happens after they exist.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.core.db.base

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", services.core.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_hook_endpoints_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hook_endpoints")),
    )
    op.create_table(
        "hook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.Enum("pending", "succeeded", "failed", name="hookdeliverystate", native_enum=False,
                                   create_constraint=False, length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", services.core.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", services.core.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("replay_of_id", sa.Integer(), nullable=True),
        sa.Column("replayed_as_id", sa.Integer(), nullable=True),
        sa.Column("created_at", services.core.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", services.core.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["hook_endpoints.id"],
                                name=op.f("fk_hook_deliveries_endpoint_id_hook_endpoints"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hook_deliveries")),
    )
    op.create_index("ix_hook_deliveries_due", "hook_deliveries", ["state", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_hook_deliveries_endpoint_id"), "hook_deliveries", ["endpoint_id"], unique=False)
    op.create_table(
        "hook_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", services.core.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["hook_deliveries.id"],
                                name=op.f("fk_hook_attempts_delivery_id_hook_deliveries"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hook_attempts")),
    )
    op.create_index(op.f("ix_hook_attempts_delivery_id"), "hook_attempts", ["delivery_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_hook_attempts_delivery_id"), table_name="hook_attempts")
    op.drop_table("hook_attempts")
    op.drop_index(op.f("ix_hook_deliveries_endpoint_id"), table_name="hook_deliveries")
    op.drop_index("ix_hook_deliveries_due", table_name="hook_deliveries")
    op.drop_table("hook_deliveries")
    op.drop_table("hook_endpoints")
