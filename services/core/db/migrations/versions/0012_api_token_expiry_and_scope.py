"""API tokens: an expiry, a scope (full or read-only) and a displayable prefix.

Tokens issued before this revision expire 90 days after they were made (the default lifetime of new
ones) and keep full scope; their prefix is unknown (only the hash was stored), so it is empty.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import services.core.db.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

EXISTING_LIFETIME = dt.timedelta(days=90)


def upgrade() -> None:
    utc = services.core.db.base.UtcDateTime(timezone=True)
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("prefix", sa.String(length=16), nullable=False, server_default=""))
        batch.add_column(sa.Column("scope", sa.String(length=16), nullable=False, server_default="full"))
        batch.add_column(sa.Column("expires_at", utc, nullable=True))
    tokens = sa.table("api_tokens", sa.column("id", sa.Integer()), sa.column("created_at", utc),
                      sa.column("expires_at", utc))
    connection = op.get_bind()
    for token_id, created_at in connection.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        connection.execute(tokens.update().where(tokens.c.id == token_id)
                           .values(expires_at=created_at + EXISTING_LIFETIME))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=utc, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("scope")
        batch.drop_column("prefix")
