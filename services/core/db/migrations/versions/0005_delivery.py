"""delivery: send control and counters per digest, processed webhook events

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.core.db.base

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_sends",
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("control", sa.String(length=16), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("clicked", sa.Integer(), nullable=False),
        sa.Column("updated_at", services.core.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["digest_id"], ["digests.id"], name=op.f("fk_digest_sends_digest_id_digests"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("digest_id", name=op.f("pk_digest_sends")),
    )
    op.create_table(
        "webhook_events",
        sa.Column("sg_event_id", sa.String(length=128), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("received_at", services.core.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sg_event_id", name=op.f("pk_webhook_events")),
    )


    with op.batch_alter_table("delivery_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resent_as_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_batches", schema=None) as batch_op:
        batch_op.drop_column("resent_as_id")
    op.drop_table("webhook_events")
    op.drop_table("digest_sends")
