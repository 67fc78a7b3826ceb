"""server-side sessions (revoked at logout, password change, deactivation) and login throttling by user and address

Revision ID: e14a00000001
Revises: c1d2e3f4a5b6
Create Date: 2026-12-03 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e14a00000001'
down_revision = 'c1d2e3f4a5b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_user_sessions_public_id")),
    )
    with op.batch_alter_table("user_sessions") as batch:
        batch.create_index("ix_user_sessions_user_revoked", ["user_id", "revoked_at"])


def downgrade():
    with op.batch_alter_table("user_sessions") as batch:
        batch.drop_index("ix_user_sessions_user_revoked")
    op.drop_table("user_sessions")
