"""PTV identity and accessibility sentences: unit.ptv_id (unique where set), unit.ptv_imported_at and
the accessibility_sentence table.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 03:42:22.615019
The file's number is its place in the chain; its revision id stays 0014 (deployed databases store it).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accessibility_sentence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('group_fi', sa.String(length=200), nullable=False),
    sa.Column('group_sv', sa.String(length=200), nullable=False),
    sa.Column('group_en', sa.String(length=200), nullable=False),
    sa.Column('sentence_fi', sa.Text(), nullable=False),
    sa.Column('sentence_sv', sa.Text(), nullable=False),
    sa.Column('sentence_en', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('accessibility_sentence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accessibility_sentence_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ptv_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('ptv_imported_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_unit_ptv_id'), ['ptv_id'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_ptv_id'))
        batch_op.drop_column('ptv_imported_at')
        batch_op.drop_column('ptv_id')

    with op.batch_alter_table('accessibility_sentence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accessibility_sentence_unit_id'))

    op.drop_table('accessibility_sentence')
