"""Scheduler bookkeeping: the sweep lease, sweep runs, and timers whose instance failed."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..extensions import db


class SchedulerLease(db.Model):
    """One row per job name; whoever holds an unexpired lease runs the job (one sweep per database)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    expires_at: Mapped[datetime | None]


class SweepRun(db.Model):
    __tablename__ = "sweep_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    duration_ms: Mapped[float] = mapped_column(default=0.0)
    fired: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    notices: Mapped[int] = mapped_column(default=0)
    emails: Mapped[int] = mapped_column(default=0)


class TimerFailure(db.Model):
    """An instance whose due timers could not run; retried with back-off, shown to administrators."""

    __tablename__ = "timer_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instances.id"), unique=True)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=1)
    first_failed_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_failed_at: Mapped[datetime] = mapped_column(default=clock.now)
    next_retry_at: Mapped[datetime] = mapped_column(index=True)

    instance = relationship("WorkflowInstance", lazy="joined")
