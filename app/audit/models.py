"""The audit trail: append-only rows, sealed into a keyed hash chain so any edit or deletion shows."""
import hashlib
import hmac
import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core import clock
from ..extensions import db

GENESIS = "0" * 64
# The row the migration to the keyed chain inserted: rows before it were sealed with plain SHA-256 (first
# release), this row and every later one with HMAC-SHA256 under the audit key (app/audit/keys.py).
KEYED_MARKER = "audit_chain_keyed"


class AuditEvent(db.Model):
    """One audited action. Rows are inserted by requests and sealed (prev_hash, hash) right after."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_actor_time", "actor_id", "occurred_at"),
        Index("ix_audit_events_case_time", "case_id", "occurred_at"),
        Index("ix_audit_events_action_time", "action", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str | None] = mapped_column(String(80))  # the username typed, even when unknown
    action: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    details_json: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    @property
    def details(self) -> dict:
        return json.loads(self.details_json or "{}")

    def content(self) -> str:
        """The canonical text the hash covers: every field but the hashes themselves."""
        stamp = clock.as_utc(self.occurred_at).isoformat(timespec="microseconds")
        return json.dumps([self.id, stamp, self.actor_id, self.actor_name, self.action, self.case_id,
                           self.object_type, self.object_id, self.ip_address, self.details_json],
                          ensure_ascii=False, separators=(",", ":"))

    def compute_hash(self, prev_hash: str, key: bytes | None) -> str:
        """HMAC-SHA256 of the previous hash and this row under the audit key; key None: the legacy plain SHA-256
        of rows sealed before the cut-over (see KEYED_MARKER)."""
        message = (prev_hash + "\n" + self.content()).encode("utf-8")
        if key is None:
            return hashlib.sha256(message).hexdigest()
        return hmac.new(key, message, hashlib.sha256).hexdigest()
