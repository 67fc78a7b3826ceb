"""Workflow tables: process versions (spec stored once), instances (state only), and projections."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import EncryptedText
from ..extensions import db


class ProcessVersion(db.Model):
    """One immutable version of a process diagram: its BPMN, parsed spec and form snapshots."""

    __tablename__ = "process_versions"
    __table_args__ = (
        UniqueConstraint("process_key", "version"),
        UniqueConstraint("process_key", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(200))
    # the three large columns are read only when needed (the engine caches the parsed spec per version)
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    forms_json: Mapped[str] = mapped_column(Text, deferred=True)  # {filename: schema} as they were at deploy
    decisions_json: Mapped[str] = mapped_column(Text, deferred=True, default="{}",
                                                server_default="{}")  # {filename: DMN XML} its tasks call
    serializer_version: Mapped[str] = mapped_column(String(10))
    is_startable: Mapped[bool] = mapped_column(default=True)
    deployed_at: Mapped[datetime] = mapped_column(default=clock.now)
    comment: Mapped[str | None] = mapped_column(String(500))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: deployed from files

    author = relationship("User", lazy="select")

    @property
    def cache_key(self) -> tuple:
        return (self.process_key, self.content_hash)

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


class WorkflowInstance(db.Model):
    """A running (or finished) process; its serialized state excludes the spec."""

    __tablename__ = "workflow_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    state_json: Mapped[str] = mapped_column(EncryptedText, default="", deferred=True)  # form data: encrypted;
    # deferred: pages that show a task or a case never decrypt the state, only the engine loop reads it
    serializer_version: Mapped[str] = mapped_column(String(10))
    lock_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    completed_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)

    process_version = relationship(ProcessVersion, lazy="joined")

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(db.Model):
    """Projection of one user task, rebuilt on every save; the inbox reads only this table (and joins the
    case and person of the page's rows). category_code and priority are copied from the case so that
    queues filter and sort on this table's indexes alone."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id"),
        Index("ix_human_tasks_queue", "office_id", "role", "priority", "due_at",
              sqlite_where=text("completed_at IS NULL AND assignee_id IS NULL"),
              postgresql_where=text("completed_at IS NULL AND assignee_id IS NULL")),
        Index("ix_human_tasks_mine", "assignee_id", "priority", "due_at",
              sqlite_where=text("completed_at IS NULL"), postgresql_where=text("completed_at IS NULL")),
        Index("ix_human_tasks_open_office", "office_id", "due_at",
              sqlite_where=text("completed_at IS NULL"), postgresql_where=text("completed_at IS NULL")),
        Index("ix_human_tasks_open_due", "due_at",
              sqlite_where=text("completed_at IS NULL"), postgresql_where=text("completed_at IS NULL")),
        # Offered tasks by role (central users are offered tasks of every office) and overdue offered tasks:
        # the navigation counts on every page read this index alone.
        Index("ix_human_tasks_offered_due", "role", "office_id", "due_at",
              sqlite_where=text("completed_at IS NULL AND assignee_id IS NULL"),
              postgresql_where=text("completed_at IS NULL AND assignee_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instances.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    task_spec: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(20))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    form_file: Mapped[str | None] = mapped_column(String(200))
    category_code: Mapped[str | None] = mapped_column(String(10))
    priority: Mapped[int] = mapped_column(default=0)  # from the case's risk: 0 none, 1 low ... 4 critical
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))  # completed | cancelled
    # Optimistic lock of the row: of two concurrent claims, assignments or completions of one task, the second
    # fails (StaleDataError -> Conflict) instead of silently overwriting the first.
    row_version: Mapped[int] = mapped_column(default=0, server_default="0")

    __mapper_args__ = {"version_id_col": row_version}

    instance = relationship(WorkflowInstance, lazy="select")
    completed_by = relationship("User", foreign_keys=[completed_by_id], lazy="select")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="select")

    @property
    def is_open(self) -> bool:
        return self.completed_at is None

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and clock.as_utc(self.due_at) < clock.now()


# The inbox's default order (priority first) read in index order, so that a page sorts the rows of one
# priority level, not the whole queue: every open task (central users), and one office's open tasks.
Index("ix_human_tasks_open_priority", HumanTask.priority.desc(), HumanTask.due_at,
      sqlite_where=text("completed_at IS NULL"), postgresql_where=text("completed_at IS NULL"))
Index("ix_human_tasks_open_office_priority", HumanTask.office_id, HumanTask.priority.desc(), HumanTask.due_at,
      sqlite_where=text("completed_at IS NULL"), postgresql_where=text("completed_at IS NULL"))


class Timer(db.Model):
    """Projection of one armed BPMN timer; the scheduler selects due rows by due_at only."""

    __tablename__ = "timers"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100), default="")  # the timer event in the diagram
    name: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(60))
    due_at: Mapped[datetime] = mapped_column(index=True)
