"""Tables of the task inbox beyond the workflow's projections (human_tasks, timers live in app/workflow)."""
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import EncryptedText
from ..extensions import db


class TaskDraft(db.Model):
    """What an officer typed into a task's form without completing it (encrypted: it is case data)."""

    __tablename__ = "task_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    data_json: Mapped[str] = mapped_column(EncryptedText)
    saved_at: Mapped[datetime] = mapped_column(default=clock.now)

    user = relationship("User", lazy="joined")
