"""The case file: the person protected, the case, its numbering and its timeline."""
import json
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..extensions import db

SEXES = {"F": _l("Mujer"), "M": _l("Hombre"), "X": _l("No especificado")}
RISK_LEVELS = {"bajo": _l("Bajo"), "medio": _l("Medio"), "alto": _l("Alto"), "critico": _l("Crítico")}
STATUSES = {
    "registrado": _l("Registrado"),
    "en_evaluacion": _l("En evaluación"),
    "en_remision": _l("En remisión"),
    "en_atencion": _l("En atención"),
    "en_seguimiento": _l("En seguimiento"),
    "cierre_propuesto": _l("Cierre propuesto"),
    "cerrado": _l("Cerrado"),
}
STATUS_ORDER = list(STATUSES)


class Person(db.Model):
    """A national the consular network protects; one row per person, several cases over time."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    given_names: Mapped[str] = mapped_column(String(120))
    first_surname: Mapped[str] = mapped_column(String(80))
    second_surname: Mapped[str | None] = mapped_column(String(80))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date | None]
    estimated_age: Mapped[int | None]
    dni: Mapped[str | None] = mapped_column(String(13), unique=True)
    origin_municipality_code: Mapped[str | None] = mapped_column(ForeignKey("municipalities.code"))
    phone: Mapped[str | None] = mapped_column(String(40))
    current_country: Mapped[str | None] = mapped_column(String(2))
    current_city: Mapped[str | None] = mapped_column(String(120))
    vulnerability_json: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    origin_municipality = relationship("Municipality", lazy="joined")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.first_surname, self.second_surname) if p)

    @property
    def dni_display(self) -> str | None:
        d = self.dni
        return f"{d[:4]}-{d[4:8]}-{d[8:]}" if d and len(d) == 13 else d

    @property
    def vulnerabilities(self) -> list[str]:
        return json.loads(self.vulnerability_json or "[]")

    @property
    def sex_label(self) -> str:
        return str(SEXES.get(self.sex, self.sex))


class Case(db.Model):
    """A protection case; its status follows the workflow, its data lives here."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_office_status", "office_id", "status"),
        Index("ix_cases_office_opened", "office_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("case_categories.code"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="registrado", index=True)
    risk_level: Mapped[str | None] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(Text)
    needs_json: Mapped[str] = mapped_column(Text, default="[]")
    event_country: Mapped[str | None] = mapped_column(String(2))
    event_city: Mapped[str | None] = mapped_column(String(120))
    opened_at: Mapped[datetime] = mapped_column(default=clock.now)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closure_reason: Mapped[str | None] = mapped_column(String(40))
    closure_summary: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    person = relationship(Person, lazy="joined")
    office = relationship("Office", lazy="joined")
    category = relationship("CaseCategory", lazy="joined")
    assigned_officer = relationship("User", foreign_keys=[assigned_officer_id], lazy="select")

    @property
    def status_label(self) -> str:
        return str(STATUSES.get(self.status, self.status))

    @property
    def risk_label(self) -> str:
        return str(RISK_LEVELS.get(self.risk_level, "—")) if self.risk_level else "—"

    @property
    def needs(self) -> list[str]:
        return json.loads(self.needs_json or "[]")


class CaseCounter(db.Model):
    """Last case number issued per office and year (TAP-2026-00042)."""

    __tablename__ = "case_counters"

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class CaseEvent(db.Model):
    """One entry of a case's timeline: a completed step (with what was entered) or a domain event."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_time", "case_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_instances.id"))
    human_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(default=clock.now)
    details_json: Mapped[str] = mapped_column(Text, default="[]")

    actor = relationship("User", lazy="joined")

    @property
    def details(self) -> list[list[str]]:
        return json.loads(self.details_json or "[]")
