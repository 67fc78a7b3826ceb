"""requests to link a person registered by another office, confirmed by that office

Revision ID: e14a00000003
Revises: e14a00000002
Create Date: 2026-12-03 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e14a00000003'
down_revision = 'e14a00000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('person_link_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('human_task_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_person_link_requests_case_id_cases')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_person_link_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['human_task_id'], ['human_tasks.id'],
                            name=op.f('fk_person_link_requests_human_task_id_human_tasks')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_person_link_requests_office_id_offices')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_person_link_requests_person_id_persons')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                            name=op.f('fk_person_link_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_link_requests'))
    )
    with op.batch_alter_table('person_link_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_link_requests_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_link_requests_human_task_id'), ['human_task_id'], unique=False)
        batch_op.create_index('ix_person_link_requests_person_status', ['person_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('person_link_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_person_link_requests_person_status')
        batch_op.drop_index(batch_op.f('ix_person_link_requests_human_task_id'))
        batch_op.drop_index(batch_op.f('ix_person_link_requests_case_id'))
    op.drop_table('person_link_requests')
