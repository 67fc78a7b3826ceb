"""referral lifecycle: deadlines, answers and their channel, institutions' links, the institutions' outbox,
focal points

Encrypted columns (answered_by, commitment, revocation_reason, referral_mails.token) are Text here; the app
encrypts them. Existing referrals keep their status; they have no deadline, channel or workflow task.
The downgrade folds the two new statuses back (en_atencion -> aceptada, sin_respuesta -> enviada) so they fit
the old column, and gives documents sent by an institution (no uploader) to the officer who opened the case.

Revision ID: f16a00000001
Revises: e14a00000005
Create Date: 2026-12-04 14:21:58.486482

"""
import sqlalchemy as sa
from alembic import op

revision = 'f16a00000001'
down_revision = 'e14a00000005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('referral_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('spent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_links_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_referral_links_token_hash'))
    )
    with op.batch_alter_table('referral_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_links_referral_id'), ['referral_id'], unique=False)

    op.create_table('referral_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('token', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_mails_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_mails'))
    )
    with op.batch_alter_table('referral_mails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_mails_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_mails_status'), ['status'], unique=False)

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.alter_column('uploaded_by_id',
               existing_type=sa.INTEGER(),
               nullable=True)

    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('focal_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('focal_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('focal_phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('response_days', sa.Integer(), nullable=True))

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('answered_via', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('answered_by', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('commitment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('outcome_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('revocation_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('instance_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('workflow_task_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('letter_attachment_id', sa.Integer(), nullable=True))
        batch_op.alter_column('status',
               existing_type=sa.VARCHAR(length=12),
               type_=sa.String(length=20),
               existing_nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_referrals_letter_attachment_id_attachments'), 'attachments', ['letter_attachment_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_referrals_instance_id_workflow_instances'), 'workflow_instances', ['instance_id'], ['id'])



def downgrade():
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE referrals SET status = 'aceptada' WHERE status = 'en_atencion'"))
    bind.execute(sa.text("UPDATE referrals SET status = 'enviada' WHERE status = 'sin_respuesta'"))
    bind.execute(sa.text(
        "UPDATE attachments SET uploaded_by_id = COALESCE((SELECT opened_by_id FROM cases WHERE cases.id = "
        "attachments.case_id), (SELECT MIN(id) FROM users)) WHERE uploaded_by_id IS NULL"))
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_referrals_instance_id_workflow_instances'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_referrals_letter_attachment_id_attachments'), type_='foreignkey')
        batch_op.alter_column('status',
               existing_type=sa.String(length=20),
               type_=sa.VARCHAR(length=12),
               existing_nullable=False)
        batch_op.drop_column('letter_attachment_id')
        batch_op.drop_column('workflow_task_id')
        batch_op.drop_column('instance_id')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('revocation_reason')
        batch_op.drop_column('outcome_on')
        batch_op.drop_column('commitment')
        batch_op.drop_column('answered_by')
        batch_op.drop_column('answered_via')
        batch_op.drop_column('responded_at')
        batch_op.drop_column('deadline_at')

    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_column('response_days')
        batch_op.drop_column('focal_phone')
        batch_op.drop_column('focal_email')
        batch_op.drop_column('focal_name')

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.alter_column('uploaded_by_id',
               existing_type=sa.INTEGER(),
               nullable=False)

    with op.batch_alter_table('referral_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_mails_status'))
        batch_op.drop_index(batch_op.f('ix_referral_mails_referral_id'))

    op.drop_table('referral_mails')
    with op.batch_alter_table('referral_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_links_referral_id'))

    op.drop_table('referral_links')
