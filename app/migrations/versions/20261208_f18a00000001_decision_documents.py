"""DMN decision documents and their snapshot in process versions (issue 18)

Revision ID: f18a00000001
Revises: f17d00000004
Create Date: 2026-12-08 03:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f18a00000001'
down_revision = 'f17d00000004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('decision_documents',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_decision_documents_updated_by_id_users')),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_decision_documents'))
    )
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decisions_json', sa.Text(), server_default='{}', nullable=False))


def downgrade():
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.drop_column('decisions_json')
    op.drop_table('decision_documents')
