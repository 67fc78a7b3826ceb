"""Notifications: reminders and deadline notices for one user, shown by the bell and sent by e-mail."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..extensions import db

KINDS = {
    "recordatorio": "Recordatorio",
    "vencida": "Tarea vencida",
    "escalamiento": "Escalamiento",
    "emergencia": "Acceso de emergencia",
    "vinculo_solicitado": "Solicitud de vínculo",
    "vinculo_resuelto": "Vínculo resuelto",
    "persona_editada": "Persona modificada por otra oficina",
}


class Notification(db.Model):
    """One notice for one user. dedup_key (kind, task, user, day) makes each rule fire once per day."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),
        Index("ix_notifications_task_kind_day", "human_task_id", "kind", "created_on"),
        Index("ix_notifications_email_pending", "email_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    human_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_on: Mapped[date]
    read_at: Mapped[datetime | None]
    email_status: Mapped[str] = mapped_column(String(12), default="pendiente")  # pendiente enviado sin_correo error
    emailed_at: Mapped[datetime | None]
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)

    user = relationship("User", lazy="select")

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)
