"""keyed, anchored audit chain

Cut-over from the first release's plain SHA-256 chain to HMAC-SHA256 under the audit key (kept outside the
database, app/audit/keys.py). No column changes: the upgrade appends one marker row, action
"audit_chain_keyed". Rows with a lower id (the first release's, sealed or not yet sealed) keep being sealed and
verified with plain SHA-256; the marker and every later row are sealed with the key. The marker is unsealed here
and is sealed (with the key, and anchored) by the first seal after the upgrade: run `flask siproc audit seal`.

Downgrade leaves the marker and the keyed rows in place (the table is append-only); code of the first release
would then report the keyed rows as modified.

Revision ID: e14a00000002
Revises: e14a00000001
Create Date: 2026-12-03 17:00:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = 'e14a00000002'
down_revision = 'e14a00000001'
branch_labels = None
depends_on = None

MARKER = "audit_chain_keyed"


def upgrade():
    bind = op.get_bind()
    if bind.scalar(sa.text("SELECT COUNT(*) FROM audit_events WHERE action = :a"), {"a": MARKER}):
        return  # upgraded before (downgrade keeps the marker)
    audit_events = sa.table("audit_events", sa.column("occurred_at", sa.DateTime(timezone=True)),
                            sa.column("action", sa.String(40)), sa.column("actor_name", sa.String(80)),
                            sa.column("details_json", sa.Text))
    op.bulk_insert(audit_events, [{"occurred_at": datetime.now(UTC), "action": MARKER, "actor_name": "migración",
                                   "details_json": '{"esquema": "hmac-sha256"}'}])


def downgrade():
    pass  # the marker stays: audit rows are never deleted
