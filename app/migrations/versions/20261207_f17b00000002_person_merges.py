"""person merges: persons.merged_into_id and the person_merges record (both versions kept, to undo)

Revision ID: f17b00000002
Revises: f17a00000001
Create Date: 2026-12-07 23:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f17b00000002'
down_revision = 'f17a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_persons_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_persons_merged_into_id_persons'), 'persons',
                                    ['merged_into_id'], ['id'])
    op.create_table(
        'person_merges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survivor_id', sa.Integer(), nullable=False),
        sa.Column('merged_id', sa.Integer(), nullable=False),
        sa.Column('merged_by_id', sa.Integer(), nullable=False),
        sa.Column('merged_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('snapshot', sa.Text(), nullable=False),
        sa.Column('moved_json', sa.Text(), nullable=False),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('undone_by_id', sa.Integer(), nullable=True),
        sa.Column('undo_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['survivor_id'], ['persons.id'], name=op.f('fk_person_merges_survivor_id_persons')),
        sa.ForeignKeyConstraint(['merged_id'], ['persons.id'], name=op.f('fk_person_merges_merged_id_persons')),
        sa.ForeignKeyConstraint(['merged_by_id'], ['users.id'], name=op.f('fk_person_merges_merged_by_id_users')),
        sa.ForeignKeyConstraint(['undone_by_id'], ['users.id'], name=op.f('fk_person_merges_undone_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_person_merges')),
    )
    with op.batch_alter_table('person_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_merges_survivor_id'), ['survivor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_merges_merged_id'), ['merged_id'], unique=False)


def downgrade():
    with op.batch_alter_table('person_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_merges_merged_id'))
        batch_op.drop_index(batch_op.f('ix_person_merges_survivor_id'))
    op.drop_table('person_merges')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_persons_merged_into_id_persons'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_persons_merged_into_id'))
        batch_op.drop_column('merged_into_id')
