"""Digest topics: subscribers' ``categories`` become ``topics``; digest variants; each batch names its variant.

The old ``categories`` held "comparisons" / "new-tools", a choice no send ever read: every confirmed
subscriber got the whole digest. They are not topics (tool category slugs), so the renamed column
starts empty for everyone, which keeps what each subscriber receives exactly as it was.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.alter_column("categories", new_column_name="topics")
    op.execute("UPDATE subscribers SET topics = '[]'")
    op.create_table(
        "digest_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("section_ids", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("recipient_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["digest_id"], ["digests.id"], name=op.f("fk_digest_variants_digest_id_digests"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_variants")),
        sa.UniqueConstraint("digest_id", "key", name=op.f("uq_digest_variants_digest_id")),
    )
    op.create_index(op.f("ix_digest_variants_digest_id"), "digest_variants", ["digest_id"])
    with op.batch_alter_table("delivery_batches") as batch:
        batch.add_column(sa.Column("variant_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_delivery_batches_variant_id_digest_variants"), "digest_variants",
                                 ["variant_id"], ["id"], ondelete="CASCADE")


def downgrade() -> None:
    with op.batch_alter_table("delivery_batches") as batch:
        batch.drop_constraint(op.f("fk_delivery_batches_variant_id_digest_variants"), type_="foreignkey")
        batch.drop_column("variant_id")
    op.drop_index(op.f("ix_digest_variants_digest_id"), table_name="digest_variants")
    op.drop_table("digest_variants")
    with op.batch_alter_table("subscribers") as batch:
        batch.alter_column("topics", new_column_name="categories")
