"""case reopening and category changes: the case_reopenings and case_category_changes records

A reopened case keeps its number; each reopening keeps its reason and the closure it undid (statistics count
reopenings by reopened_on, the office's local day). Each change of category keeps its reason.

Revision ID: f17c00000003
Revises: f17b00000002
Create Date: 2026-12-07 23:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f17c00000003'
down_revision = 'f17b00000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_reopenings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('reopened_by_id', sa.Integer(), nullable=False),
        sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reopened_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('previous_closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('previous_closure_reason', sa.String(length=40), nullable=True),
        sa.Column('previous_closure_summary', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_reopenings_case_id_cases')),
        sa.ForeignKeyConstraint(['reopened_by_id'], ['users.id'],
                                name=op.f('fk_case_reopenings_reopened_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_reopenings')),
    )
    with op.batch_alter_table('case_reopenings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_reopenings_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_reopenings_reopened_on'), ['reopened_on'], unique=False)
    op.create_table(
        'case_category_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('from_code', sa.String(length=10), nullable=True),
        sa.Column('to_code', sa.String(length=10), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_category_changes_case_id_cases')),
        sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'],
                                name=op.f('fk_case_category_changes_changed_by_id_users')),
        sa.ForeignKeyConstraint(['from_code'], ['case_categories.code'],
                                name=op.f('fk_case_category_changes_from_code_case_categories')),
        sa.ForeignKeyConstraint(['to_code'], ['case_categories.code'],
                                name=op.f('fk_case_category_changes_to_code_case_categories')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_category_changes')),
    )
    with op.batch_alter_table('case_category_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_category_changes_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_category_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_category_changes_case_id'))
    op.drop_table('case_category_changes')
    with op.batch_alter_table('case_reopenings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_reopenings_reopened_on'))
        batch_op.drop_index(batch_op.f('ix_case_reopenings_case_id'))
    op.drop_table('case_reopenings')
