"""named consent purposes (sharing with institutions, named exports) with who and when

Revision ID: e14a00000004
Revises: e14a00000003
Create Date: 2026-12-03 17:00:00

Existing consent is carried over for the sharing purpose only:
- cases.consent_to_share true -> compartir_instituciones given, source "migracion", at consent_given_at (or the
  case's opening); consent_given_by is a free-text name, not a user, so recorded_by_id stays empty;
- otherwise a supervisor's override (consent_override_at set) -> compartir_instituciones given, source
  "supervisor_override", by consent_override_by_id at consent_override_at.
Named exports (exportacion_nominal): nothing is recorded for existing cases. The old consent's scope was
"Remisión a instituciones socias para la atención del caso": it never covered named lists, so by least privilege
those cases export without the person's name until consent is recorded.
The per-case columns stay (referrals read them); the downgrade drops the table only.
"""
import sqlalchemy as sa
from alembic import op

revision = 'e14a00000004'
down_revision = 'e14a00000003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_consents_case_id_cases")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_case_consents_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_consents")),
    )
    op.create_index("ix_case_consents_case_purpose", "case_consents", ["case_id", "purpose"], unique=True)
    bind = op.get_bind()
    bind.execute(sa.text(
        "INSERT INTO case_consents (case_id, purpose, given, recorded_by_id, recorded_at, source) "
        "SELECT id, 'compartir_instituciones', :yes, NULL, COALESCE(consent_given_at, opened_at), 'migracion' "
        "FROM cases WHERE consent_to_share = :yes"), {"yes": True})
    bind.execute(sa.text(
        "INSERT INTO case_consents (case_id, purpose, given, recorded_by_id, recorded_at, source) "
        "SELECT id, 'compartir_instituciones', :yes, consent_override_by_id, consent_override_at, "
        "'supervisor_override' FROM cases WHERE consent_to_share = :no AND consent_override_at IS NOT NULL"),
        {"yes": True, "no": False})


def downgrade():
    op.drop_index("ix_case_consents_case_purpose", table_name="case_consents")
    op.drop_table("case_consents")
