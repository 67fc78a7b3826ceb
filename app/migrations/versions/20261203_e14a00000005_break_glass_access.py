"""time-boxed break-glass access to a case outside the user's scope

Revision ID: e14a00000005
Revises: e14a00000004
Create Date: 2026-12-03 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e14a00000005'
down_revision = 'e14a00000004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "emergency_accesses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("office_code", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_emergency_accesses_case_id_cases")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_emergency_accesses_user_id_users")),
        sa.ForeignKeyConstraint(["ended_by_id"], ["users.id"], name=op.f("fk_emergency_accesses_ended_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_accesses")),
    )
    with op.batch_alter_table("emergency_accesses") as batch:
        batch.create_index("ix_emergency_accesses_case_id", ["case_id"])
        batch.create_index("ix_emergency_accesses_user_case", ["user_id", "case_id", "expires_at"])


def downgrade():
    with op.batch_alter_table("emergency_accesses") as batch:
        batch.drop_index("ix_emergency_accesses_user_case")
        batch.drop_index("ix_emergency_accesses_case_id")
    op.drop_table("emergency_accesses")
