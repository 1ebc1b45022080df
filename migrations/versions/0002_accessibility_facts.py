"""accessibility facts: yes / no / not known per unit, replacing the feature list

Revision ID: 0013
Revises: 0001
Create Date: 2026-11-30 03:50:00
The file's number is its place in the chain; its revision id stays 0013 (deployed databases store it).

Every row of unit_feature becomes a fact with value yes (tactile_guidance is renamed tactile_signage);
every other fact stays not known (no row). Units also get an accessibility note in fi/sv/en.
The downgrade keeps the facts known to be present as features; facts known to be absent are lost.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0001'
branch_labels = None
depends_on = None

RENAMED = {"tactile_guidance": "tactile_signage"}


def upgrade() -> None:
    op.create_table('unit_accessibility_fact',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'code')
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        for lang in ("fi", "sv", "en"):
            batch_op.add_column(sa.Column(f'accessibility_note_{lang}', sa.Text(), nullable=False,
                                          server_default=''))

    conn = op.get_bind()
    feature = sa.table('unit_feature', sa.column('unit_id', sa.Integer), sa.column('code', sa.String))
    fact = sa.table('unit_accessibility_fact', sa.column('unit_id', sa.Integer), sa.column('code', sa.String),
                    sa.column('value', sa.Boolean))
    rows = {(uid, RENAMED.get(code, code)) for uid, code in conn.execute(sa.select(feature.c.unit_id, feature.c.code))}
    if rows:
        conn.execute(fact.insert(), [{"unit_id": uid, "code": code, "value": True} for uid, code in sorted(rows)])
    op.drop_table('unit_feature')


def downgrade() -> None:
    op.create_table('unit_feature',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'code')
    )
    conn = op.get_bind()
    feature = sa.table('unit_feature', sa.column('unit_id', sa.Integer), sa.column('code', sa.String))
    fact = sa.table('unit_accessibility_fact', sa.column('unit_id', sa.Integer), sa.column('code', sa.String),
                    sa.column('value', sa.Boolean))
    back = {new: old for old, new in RENAMED.items()}
    rows = conn.execute(sa.select(fact.c.unit_id, fact.c.code).where(fact.c.value.is_(True))).all()
    if rows:
        conn.execute(feature.insert(), [{"unit_id": uid, "code": back.get(code, code)} for uid, code in rows])
    with op.batch_alter_table('unit', schema=None) as batch_op:
        for lang in ("fi", "sv", "en"):
            batch_op.drop_column(f'accessibility_note_{lang}')
    op.drop_table('unit_accessibility_fact')
