"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 05:53:00.755426
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.core.db.base

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('preheader', sa.String(length=300), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('sections', sa.JSON(), nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('compiled_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('approved_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digests')),
    sa.UniqueConstraint('week', name=op.f('uq_digests_week'))
    )
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digests_state'), ['state'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('published_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('publish_count', sa.Integer(), nullable=False),
    sa.Column('handled_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_pending', ['handled_at', 'published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_type'), ['type'], unique=False)

    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('etag', sa.String(length=500), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('watermark', sa.String(length=100), nullable=True),
    sa.Column('poll_interval_seconds', sa.Integer(), nullable=False),
    sa.Column('next_poll_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_polled_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_kind', sa.String(length=64), nullable=True),
    sa.Column('last_error_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('parse_warning', sa.Text(), nullable=True),
    sa.Column('state_reason', sa.Text(), nullable=True),
    sa.Column('created_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('url', name=op.f('uq_sources_url'))
    )
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sources_next_poll_at'), ['next_poll_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sources_state'), ['state'], unique=False)

    op.create_table('subscribers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('suppressed_reason', sa.String(length=64), nullable=True),
    sa.Column('suppressed_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribers')),
    sa.UniqueConstraint('email', name=op.f('uq_subscribers_email'))
    )
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscribers_state'), ['state'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=128), nullable=False),
    sa.Column('created_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_user_id'), ['user_id'], unique=False)

    op.create_table('delivery_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('subscriber_ids', sa.JSON(), nullable=False),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('started_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['digest_id'], ['digests.id'], name=op.f('fk_delivery_batches_digest_id_digests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_batches')),
    sa.UniqueConstraint('digest_id', 'number', name=op.f('uq_delivery_batches_digest_id'))
    )
    with op.batch_alter_table('delivery_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_batches_digest_id'), ['digest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_batches_state'), ['state'], unique=False)

    op.create_table('entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('guid', sa.String(length=1024), nullable=False),
    sa.Column('link', sa.String(length=2048), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=500), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('published_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('fetched_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_entries_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries')),
    sa.UniqueConstraint('source_id', 'guid', name=op.f('uq_entries_source_id'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entries_fetched_at'), ['fetched_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_entries_source_id'), ['source_id'], unique=False)

    op.create_table('panel_seats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lens', sa.String(length=50), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_panel_seats_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_seats')),
    sa.UniqueConstraint('lens', name=op.f('uq_panel_seats_lens'))
    )
    op.create_table('tools',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('vendor', sa.String(length=200), nullable=True),
    sa.Column('homepage', sa.String(length=2048), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('tagline', sa.String(length=300), nullable=True),
    sa.Column('entry_price', sa.String(length=100), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('version', sa.String(length=100), nullable=True),
    sa.Column('canonical_key', sa.String(length=500), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('snoozed_until', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_tools_decided_by_id_users')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['tools.id'], name=op.f('fk_tools_merged_into_id_tools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tools')),
    sa.UniqueConstraint('canonical_key', name=op.f('uq_tools_canonical_key')),
    sa.UniqueConstraint('slug', name=op.f('uq_tools_slug'))
    )
    with op.batch_alter_table('tools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tools_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_tools_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tools_state'), ['state'], unique=False)

    op.create_table('comparisons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=300), nullable=False),
    sa.Column('headline', sa.String(length=300), nullable=False),
    sa.Column('tool_a_id', sa.Integer(), nullable=False),
    sa.Column('tool_b_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('editor_note', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('published_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('mailed_in_digest_id', sa.Integer(), nullable=True),
    sa.Column('created_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mailed_in_digest_id'], ['digests.id'], name=op.f('fk_comparisons_mailed_in_digest_id_digests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tool_a_id'], ['tools.id'], name=op.f('fk_comparisons_tool_a_id_tools')),
    sa.ForeignKeyConstraint(['tool_b_id'], ['tools.id'], name=op.f('fk_comparisons_tool_b_id_tools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comparisons')),
    sa.UniqueConstraint('slug', name=op.f('uq_comparisons_slug'))
    )
    with op.batch_alter_table('comparisons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comparisons_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparisons_state'), ['state'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tool_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('source_url', sa.String(length=2048), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('snippet', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('version', sa.String(length=100), nullable=True),
    sa.Column('created_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_evidence_entry_id_entries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tool_id'], ['tools.id'], name=op.f('fk_evidence_tool_id_tools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('tool_id', 'entry_id', name=op.f('uq_evidence_tool_id'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_tool_id'), ['tool_id'], unique=False)

    op.create_table('verdicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tool_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('ship_percent', sa.Integer(), nullable=True),
    sa.Column('opened_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', services.core.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tool_id'], ['tools.id'], name=op.f('fk_verdicts_tool_id_tools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verdicts')),
    sa.UniqueConstraint('tool_id', name=op.f('uq_verdicts_tool_id'))
    )
    with op.batch_alter_table('verdicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verdicts_state'), ['state'], unique=False)

    op.create_table('votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('tool_id', sa.Integer(), nullable=False),
    sa.Column('call', sa.String(length=8), nullable=False),
    sa.Column('created_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_votes_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tool_id'], ['tools.id'], name=op.f('fk_votes_tool_id_tools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_votes')),
    sa.UniqueConstraint('subscriber_id', 'tool_id', name=op.f('uq_votes_subscriber_id'))
    )
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_votes_tool_id'), ['tool_id'], unique=False)

    op.create_table('scorecards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('verdict_id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=False),
    sa.Column('call', sa.String(length=8), nullable=False),
    sa.Column('quote', sa.Text(), nullable=False),
    sa.Column('submitted_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.core.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['seat_id'], ['panel_seats.id'], name=op.f('fk_scorecards_seat_id_panel_seats'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['verdict_id'], ['verdicts.id'], name=op.f('fk_scorecards_verdict_id_verdicts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecards')),
    sa.UniqueConstraint('verdict_id', 'seat_id', name=op.f('uq_scorecards_verdict_id'))
    )
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecards_verdict_id'), ['verdict_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecards_verdict_id'))

    op.drop_table('scorecards')
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_votes_tool_id'))

    op.drop_table('votes')
    with op.batch_alter_table('verdicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verdicts_state'))

    op.drop_table('verdicts')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_tool_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('comparisons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comparisons_state'))
        batch_op.drop_index(batch_op.f('ix_comparisons_published_at'))

    op.drop_table('comparisons')
    with op.batch_alter_table('tools', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tools_state'))
        batch_op.drop_index(batch_op.f('ix_tools_created_at'))
        batch_op.drop_index(batch_op.f('ix_tools_category'))

    op.drop_table('tools')
    op.drop_table('panel_seats')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entries_source_id'))
        batch_op.drop_index(batch_op.f('ix_entries_fetched_at'))

    op.drop_table('entries')
    with op.batch_alter_table('delivery_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_batches_state'))
        batch_op.drop_index(batch_op.f('ix_delivery_batches_digest_id'))

    op.drop_table('delivery_batches')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscribers_state'))

    op.drop_table('subscribers')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sources_state'))
        batch_op.drop_index(batch_op.f('ix_sources_next_poll_at'))

    op.drop_table('sources')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_type'))
        batch_op.drop_index('ix_events_pending')

    op.drop_table('events')
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digests_state'))

    op.drop_table('digests')
