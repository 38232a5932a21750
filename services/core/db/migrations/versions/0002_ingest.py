"""ingest: tool keys, entry tombstones, source claims

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.core.db.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tool_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("created_at", services.core.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tool_id"], ["tools.id"], name=op.f("fk_tool_keys_tool_id_tools"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_keys")),
        sa.UniqueConstraint("key", name=op.f("uq_tool_keys_key")),
    )
    with op.batch_alter_table("tool_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tool_keys_tool_id"), ["tool_id"], unique=False)
    op.create_table(
        "entry_tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("guid", sa.String(length=1024), nullable=False),
        sa.Column("created_at", services.core.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_entry_tombstones_source_id_sources"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_tombstones")),
        sa.UniqueConstraint("source_id", "guid", name=op.f("uq_entry_tombstones_source_id")),
    )
    with op.batch_alter_table("entry_tombstones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entry_tombstones_source_id"), ["source_id"], unique=False)
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_until", services.core.db.base.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error_status", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("last_error_status")
        batch_op.drop_column("claimed_until")
    with op.batch_alter_table("entry_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entry_tombstones_source_id"))
    op.drop_table("entry_tombstones")
    with op.batch_alter_table("tool_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tool_keys_tool_id"))
    op.drop_table("tool_keys")
