"""modeler: process drafts, form documents, version authors, timer element ids

Revision ID: 7eb15843e1d9
Revises: 7744232caa9e
Create Date: 2026-11-29 08:39:10.424424

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7eb15843e1d9'
down_revision = '7744232caa9e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_documents',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_form_documents_updated_by_id_users')),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_form_documents'))
    )
    op.create_table('process_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('bpmn_xml', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_process_drafts_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_drafts')),
    sa.UniqueConstraint('process_key', name=op.f('uq_process_drafts_process_key'))
    )
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_process_versions_author_id_users'), 'users', ['author_id'], ['id'])

    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bpmn_id', sa.String(length=100), nullable=False, server_default=''))



def downgrade():
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_column('bpmn_id')

    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_process_versions_author_id_users'), type_='foreignkey')
        batch_op.drop_column('author_id')

    op.drop_table('process_drafts')
    op.drop_table('form_documents')
