"""waiting lists, resident messages, notice e-mail and its outbox

Revision ID: 0012
Revises: 0014 (main's head when this branch was merged)
The file's number is its place in the chain; its revision id stays 0012 (deployed databases store it).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pilot_element') as batch_op:
        batch_op.add_column(sa.Column('waiting_list_enabled', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('waiting_months', sa.Integer(), server_default='6', nullable=False))
        batch_op.add_column(sa.Column('waiting_counts_as_switch', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('waiting_when_not_accepting', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('waiting_keep_when_skipped', sa.Boolean(), server_default='1', nullable=False))
    with op.batch_alter_table('unit') as batch_op:
        batch_op.add_column(sa.Column('waiting_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('waiting_when_closed', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('choice') as batch_op:
        batch_op.add_column(sa.Column('counts_as_switch', sa.Boolean(), server_default='1', nullable=False))

    op.create_table('waiting_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('resident_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('pilot_id', sa.Integer(), nullable=False),
        sa.Column('element', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('reference', sa.String(length=20), nullable=False),
        sa.Column('request_token', sa.String(length=64), nullable=False),
        sa.Column('joined_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.Column('joined_on', sa.Date(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('end_reason', sa.String(length=40), nullable=True),
        sa.Column('choice_id', sa.Integer(), nullable=True),
        sa.Column('last_skip', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['choice_id'], ['choice.id']),
        sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id']),
        sa.ForeignKeyConstraint(['resident_id'], ['resident.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('reference'),
        sa.UniqueConstraint('request_token'),
    )
    with op.batch_alter_table('waiting_entry') as batch_op:
        batch_op.create_index('ix_waiting_entry_resident_id', ['resident_id'], unique=False)
        batch_op.create_index('ix_waiting_entry_unit_status', ['unit_id', 'status', 'id'], unique=False)
        batch_op.create_index('uq_waiting_entry_one_per_element', ['resident_id', 'pilot_id', 'element'], unique=True,
                              sqlite_where=sa.text("status = 'waiting'"),
                              postgresql_where=sa.text("status = 'waiting'"))

    op.create_table('resident_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('resident_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['resident_id'], ['resident.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('resident_message') as batch_op:
        batch_op.create_index('ix_resident_message_resident_id', ['resident_id'], unique=False)

    op.create_table('notice_address',
        sa.Column('resident_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.ForeignKeyConstraint(['resident_id'], ['resident.id']),
        sa.PrimaryKeyConstraint('resident_id'),
    )

    op.create_table('outbox_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('resident_id', sa.Integer(), nullable=True),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('gave_up', sa.Boolean(), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['resident_message.id']),
        sa.ForeignKeyConstraint(['resident_id'], ['resident.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('outbox_mail') as batch_op:
        batch_op.create_index('ix_outbox_mail_due', ['sent_at', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_table('outbox_mail')
    op.drop_table('notice_address')
    op.drop_table('resident_message')
    op.drop_table('waiting_entry')
    with op.batch_alter_table('choice') as batch_op:
        batch_op.drop_column('counts_as_switch')
    with op.batch_alter_table('unit') as batch_op:
        batch_op.drop_column('waiting_when_closed')
        batch_op.drop_column('waiting_count')
    with op.batch_alter_table('pilot_element') as batch_op:
        for name in ('waiting_keep_when_skipped', 'waiting_when_not_accepting', 'waiting_counts_as_switch',
                     'waiting_months', 'waiting_list_enabled'):
            batch_op.drop_column(name)
