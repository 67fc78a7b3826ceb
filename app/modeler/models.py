"""Process owners' working copies: diagram drafts and the form documents diagrams use."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..extensions import db


class ProcessDraft(db.Model):
    """The editable copy of one process diagram; publishing turns it into an immutable version."""

    __tablename__ = "process_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    updated_by = relationship("User", lazy="joined")


UI_SUFFIXES = ("_ui.json", "-uischema.json")  # UI schemas by convention: ours and SpiffArena's


class FormDocument(db.Model):
    """A form's JSON Schema (or its UI schema, *_ui.json) as the process owners maintain it.

    Seeded from forms/ (missing files only); a published process version keeps its own snapshot.
    """

    __tablename__ = "form_documents"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    updated_by = relationship("User", lazy="joined")

    @property
    def is_ui(self) -> bool:
        return self.name.endswith(UI_SUFFIXES)  # by name; services.is_ui_name also knows the tasks' pairing


class DecisionDocument(db.Model):
    """A DMN decision table (name like `riesgo.dmn`) as the process owners maintain it.

    Seeded from workflows/dmn (missing files only); a published process version keeps its own snapshot of the
    decisions its business rule tasks call (ProcessVersion.decisions_json).
    """

    __tablename__ = "decision_documents"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    updated_by = relationship("User", lazy="joined")
