"""four-eyes approvals per office

offices.four_eyes_approvals (default true): in an office where it is on, whoever completed the step an approval
task approves (the task's `approvalOf` property: the closure proposal, the FOSMIH quotation) may not approve it.
Every existing office gets the rule switched on.

Revision ID: f17d00000004
Revises: f17c00000003
Create Date: 2026-12-07 23:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f17d00000004'
down_revision = 'f17c00000003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('four_eyes_approvals', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.drop_column('four_eyes_approvals')
