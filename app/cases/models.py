"""The case file: the person protected, the case, its numbering and its timeline."""
import json
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..core import clock, crypto
from ..core.crypto import EncryptedText
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


person_vulnerabilities = Table(
    "person_vulnerabilities",
    db.metadata,
    Column("person_id", ForeignKey("persons.id"), primary_key=True),
    Column("marker_code", ForeignKey("vulnerability_markers.code"), primary_key=True),
)
case_secondary_categories = Table(
    "case_secondary_categories",
    db.metadata,
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
    Column("category_code", ForeignKey("case_categories.code"), primary_key=True),
)


class Person(db.Model):
    """A national the consular network protects; one row per person, several cases over time."""

    __tablename__ = "persons"
    __table_args__ = (  # duplicate detection's blocks (app/cases/persons.py duplicate_candidates)
        Index("ix_persons_match_given_first", "given_name_sound", "first_surname_sound", "birth_year"),
        Index("ix_persons_match_given_second", "given_name_sound", "second_surname_sound", "birth_year"),
        Index("ix_persons_birth_date", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    given_names: Mapped[str] = mapped_column(String(120))
    first_surname: Mapped[str] = mapped_column(String(80))
    second_surname: Mapped[str | None] = mapped_column(String(80))
    sex: Mapped[str] = mapped_column(String(1))
    gender_identity: Mapped[str | None] = mapped_column(String(60))
    birth_date: Mapped[date | None]
    birth_date_estimated: Mapped[bool] = mapped_column(default=False)
    estimated_age: Mapped[int | None]
    nationality: Mapped[str] = mapped_column(String(2), default="HN")
    dni: Mapped[str | None] = mapped_column(EncryptedText)
    dni_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # keyed hash: one person per DNI
    passport_number: Mapped[str | None] = mapped_column(EncryptedText)
    passport_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    origin_department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"), index=True)
    origin_municipality_code: Mapped[str | None] = mapped_column(ForeignKey("municipalities.code"), index=True)
    current_country: Mapped[str | None] = mapped_column(String(2))
    current_city: Mapped[str | None] = mapped_column(String(120))
    address_abroad: Mapped[str | None] = mapped_column(EncryptedText)
    family_contact_name: Mapped[str | None] = mapped_column(String(200))
    family_contact_relationship: Mapped[str | None] = mapped_column(String(60))
    family_contact_phone: Mapped[str | None] = mapped_column(String(40))
    search_text: Mapped[str] = mapped_column(Text, default="")  # accent-free, lower-case names
    first_surname_key: Mapped[str] = mapped_column(String(80), default="", index=True)
    second_surname_key: Mapped[str] = mapped_column(String(80), default="", index=True)
    # duplicate detection keys (app/cases/matching.py), set by persons.refresh_search_keys
    given_name_sound: Mapped[str | None] = mapped_column(String(16))
    first_surname_sound: Mapped[str | None] = mapped_column(String(16))
    second_surname_sound: Mapped[str | None] = mapped_column(String(16))
    birth_year: Mapped[int | None]  # from the birth date, or the registration year minus the estimated age
    family_phone_digits: Mapped[str | None] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    anonymised_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)  # see PersonMerge

    origin_municipality = relationship("Municipality", lazy="joined")
    origin_department = relationship("Department", lazy="joined")
    phones = relationship("PersonPhone", lazy="selectin", cascade="all, delete-orphan", order_by="PersonPhone.id")
    vulnerability_markers = relationship("VulnerabilityMarker", secondary=person_vulnerabilities, lazy="selectin")

    @validates("dni")
    def _hash_dni(self, _key, value):
        self.dni_hash = crypto.search_hash(value)
        return value

    @validates("passport_number")
    def _hash_passport(self, _key, value):
        self.passport_hash = crypto.search_hash(value)
        return value

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.first_surname, self.second_surname) if p)

    @property
    def dni_display(self) -> str | None:
        d = self.dni
        return f"{d[:4]}-{d[4:8]}-{d[8:]}" if d and len(d) == 13 else d

    @property
    def sex_label(self) -> str:
        return str(SEXES.get(self.sex, self.sex))

    def age_on(self, day: date) -> int | None:
        """Age in whole years on a day, from the birth date or the estimated age."""
        if self.birth_date:
            years = day.year - self.birth_date.year
            return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))
        return self.estimated_age


class PersonPhone(db.Model):
    """A phone number of a person; `digits` (E.164 without '+', when parseable) is what search matches."""

    __tablename__ = "person_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    digits: Mapped[str] = mapped_column(String(20), index=True)
    label: Mapped[str | None] = mapped_column(String(40))


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
    legal_area_code: Mapped[str | None] = mapped_column(ForeignKey("legal_areas.code"))
    status: Mapped[str] = mapped_column(String(20), default="registrado", index=True)
    risk_level: Mapped[str | None] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(EncryptedText)
    needs_json: Mapped[str] = mapped_column(Text, default="[]")
    event_country: Mapped[str | None] = mapped_column(String(2))
    event_state: Mapped[str | None] = mapped_column(String(10))  # ISO 3166-2, e.g. MX-CHP
    event_city: Mapped[str | None] = mapped_column(String(120))
    consent_to_share: Mapped[bool] = mapped_column(default=False)
    consent_given_by: Mapped[str | None] = mapped_column(String(200))
    consent_given_at: Mapped[datetime | None]
    consent_scope: Mapped[str | None] = mapped_column(Text)
    consent_override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consent_override_at: Mapped[datetime | None]
    consent_override_reason: Mapped[str | None] = mapped_column(Text)
    age_at_opening: Mapped[int | None]  # kept after anonymisation, for statistics by age band
    opened_at: Mapped[datetime] = mapped_column(default=clock.now)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closure_reason: Mapped[str | None] = mapped_column(String(40))
    closure_summary: Mapped[str | None] = mapped_column(EncryptedText)
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    anonymised_at: Mapped[datetime | None]

    person = relationship(Person, lazy="joined")
    office = relationship("Office", lazy="joined")
    category = relationship("CaseCategory", lazy="joined")
    legal_area = relationship("LegalArea", lazy="select")
    secondary_categories = relationship("CaseCategory", secondary=case_secondary_categories, lazy="select")
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

    @property
    def closure_reason_label(self) -> str:
        return label(CLOSURE_REASONS, self.closure_reason)


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
    details_json: Mapped[str] = mapped_column(EncryptedText, default="[]")

    actor = relationship("User", lazy="joined")

    @property
    def details(self) -> list[list[str]]:
        return json.loads(self.details_json or "[]")


ASSISTANCE_KINDS = {
    "orientacion_legal": _l("Orientación o asistencia legal"),
    "visita_consular": _l("Visita consular"),
    "documentacion": _l("Documentación"),
    "asistencia_economica": _l("Asistencia económica"),
    "repatriacion_restos": _l("Repatriación de restos"),
    "retorno": _l("Retorno o traslado"),
    "gestion_medica": _l("Gestión médica u hospitalaria"),
    "contacto_familiar": _l("Contacto con familiares"),
    "alojamiento": _l("Alojamiento o albergue"),
    "otra": _l("Otra"),
}
FOLLOW_UP_METHODS = {
    "llamada": _l("Llamada telefónica"), "visita": _l("Visita"), "mensajeria": _l("Mensajería"),
    "correo": _l("Correo electrónico"), "institucion": _l("Informe de la institución"),
}
CLOSURE_REASONS = {
    "resuelto": _l("Necesidad atendida / caso resuelto"), "retornado": _l("Persona retornada o repatriada"),
    "restos_entregados": _l("Restos entregados a la familia"), "localizado": _l("Persona localizada"),
    "desistimiento": _l("La persona desistió"), "sin_contacto": _l("Sin contacto con la persona"),
    "traslado": _l("Trasladado a otra oficina o institución"), "fallecimiento": _l("Fallecimiento"),
    "otro": _l("Otro"),
}


def label(mapping, code) -> str:
    """The Spanish label of a code, or the code itself when a form introduced a new one."""
    return str(mapping.get(code, code)) if code else "—"


REFERRAL_STATUSES = {
    "enviada": _l("Enviada"),
    "aceptada": _l("Aceptada"),
    "rechazada": _l("Rechazada"),
    "en_atencion": _l("En atención"),
    "atendida": _l("Atendida"),
    "revocada": _l("Revocada"),
    "sin_respuesta": _l("Sin respuesta"),
}
REFERRAL_CHANNELS = {
    "tarea": _l("en la tarea del proceso"),
    "caso": _l("en la página del caso"),
    "enlace": _l("por el enlace de la institución"),
    "api": _l("por la API"),
    "sistema": _l("por el sistema"),
}


class Referral(db.Model):
    """A referral of the case to a partner institution, and what came of it (lifecycle: app/cases/referrals.py)."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_sent_at", "sent_at", "institution_code", "status", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"), index=True)
    service_requested: Mapped[str] = mapped_column(EncryptedText)
    sent_at: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="enviada", index=True)
    rejection_reason: Mapped[str | None] = mapped_column(EncryptedText)
    response_at: Mapped[date | None]  # the day the institution answered (accepted or rejected)
    outcome: Mapped[str | None] = mapped_column(EncryptedText)
    contact: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    deadline_at: Mapped[datetime | None]  # the answer is due by then (reminder, overdue)
    responded_at: Mapped[datetime | None]  # when the answer reached SIPROC
    answered_via: Mapped[str | None] = mapped_column(String(10))  # REFERRAL_CHANNELS
    answered_by: Mapped[str | None] = mapped_column(EncryptedText)  # who answered at the institution (link)
    commitment: Mapped[str | None] = mapped_column(EncryptedText)  # what the institution said it will do
    outcome_on: Mapped[date | None]
    revocation_reason: Mapped[str | None] = mapped_column(EncryptedText)
    reminded_at: Mapped[datetime | None]
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_instances.id"))
    workflow_task_id: Mapped[str | None] = mapped_column(String(36))  # the open answer task of this referral
    letter_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))

    institution = relationship("Institution", lazy="joined")
    case = relationship("Case", lazy="select")
    letter = relationship("Attachment", lazy="select", foreign_keys=[letter_attachment_id])

    @property
    def status_label(self) -> str:
        return str(REFERRAL_STATUSES.get(self.status, self.status))

    @property
    def is_open(self) -> bool:
        return self.status in ("enviada", "aceptada", "en_atencion", "sin_respuesta")

    @property
    def awaits_answer(self) -> bool:
        return self.status in ("enviada", "sin_respuesta")

    def is_overdue(self, now) -> bool:
        return self.awaits_answer and self.deadline_at is not None and clock.as_utc(self.deadline_at) < now

    @property
    def channel_label(self) -> str:
        return str(REFERRAL_CHANNELS.get(self.answered_via or "", ""))


class ReferralLink(db.Model):
    """The institution's own link to one referral: a random token stored only as its SHA-256."""

    __tablename__ = "referral_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    spent_at: Mapped[datetime | None]  # the referral reached an end through it or otherwise
    last_used_at: Mapped[datetime | None]
    uses: Mapped[int] = mapped_column(default=0)

    referral = relationship(Referral, lazy="joined")


class ReferralMail(db.Model):
    """An e-mail to an institution's focal point, sent by the scheduler (the outbox).

    token holds the link's token (encrypted) only until the message is sent; then it is erased.
    """

    __tablename__ = "referral_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # envio | recordatorio
    to_address: Mapped[str] = mapped_column(String(254))
    token: Mapped[str | None] = mapped_column(EncryptedText)
    status: Mapped[str] = mapped_column(String(12), default="pendiente", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    referral = relationship(Referral, lazy="joined")


class Assistance(db.Model):
    """Assistance given: what, when, by whom, and what it cost from which fund (FOSMIH or other)."""

    __tablename__ = "assistances"
    __table_args__ = (Index("ix_assistances_given_on", "given_on", "kind", "funding_source", "currency",
                            "amount_minor", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    given_on: Mapped[date]
    provider: Mapped[str | None] = mapped_column(String(200))
    amount_minor: Mapped[int | None]  # in cents of the currency; every currency used has 2 decimals
    currency: Mapped[str | None] = mapped_column(String(3))
    funding_source: Mapped[str | None] = mapped_column(String(30), index=True)
    description: Mapped[str] = mapped_column(EncryptedText)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    @property
    def amount(self):
        return None if self.amount_minor is None else self.amount_minor / 100

    @property
    def kind_label(self) -> str:
        return label(ASSISTANCE_KINDS, self.kind)


class FollowUp(db.Model):
    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    done_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(EncryptedText)
    next_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    @property
    def method_label(self) -> str:
        return label(FOLLOW_UP_METHODS, self.method)


class CaseNote(db.Model):
    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    text: Mapped[str] = mapped_column(EncryptedText)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    author = relationship("User", lazy="joined")


class Attachment(db.Model):
    """A document of the case; the file lives under instance/uploads by its SHA-256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    description: Mapped[str | None] = mapped_column(String(300))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: sent by an institution
    uploaded_at: Mapped[datetime] = mapped_column(default=clock.now)
    deleted_at: Mapped[datetime | None]  # the file was removed (retention); the row stays for the record

    uploaded_by = relationship("User", lazy="joined")


TRANSFER_STATUSES = {
    "solicitado": _l("Solicitado"),
    "aceptado": _l("Aceptado"),
    "rechazado": _l("Rechazado"),
    "cancelado": _l("Cancelado"),
}


class CaseTransfer(db.Model):
    """A request to move a case to another office, decided by that office's supervisor."""

    __tablename__ = "case_transfers"
    __table_args__ = (Index("ix_case_transfers_to_status", "to_office_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    from_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    to_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="solicitado")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=clock.now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    case = relationship(Case, lazy="joined")
    from_office = relationship("Office", foreign_keys=[from_office_id], lazy="joined")
    to_office = relationship("Office", foreign_keys=[to_office_id], lazy="joined")
    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="joined")
    decided_by = relationship("User", foreign_keys=[decided_by_id], lazy="select")

    @property
    def status_label(self) -> str:
        return str(TRANSFER_STATUSES.get(self.status, self.status))


LINK_REQUEST_STATUSES = {"pendiente": _l("Pendiente"), "aprobada": _l("Aprobada"), "rechazada": _l("Rechazada")}


class PersonLinkRequest(db.Model):
    """An office asks to link its new case to a person registered by other offices; one of those decides."""

    __tablename__ = "person_link_requests"
    __table_args__ = (Index("ix_person_link_requests_person_status", "person_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    human_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pendiente")
    reason: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=clock.now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    person = relationship(Person, lazy="joined")
    office = relationship("Office", lazy="joined")
    case = relationship(Case, lazy="select")
    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="joined")
    decided_by = relationship("User", foreign_keys=[decided_by_id], lazy="select")

    @property
    def status_label(self) -> str:
        return str(LINK_REQUEST_STATUSES.get(self.status, self.status))


CONSENT_SHARING = "compartir_instituciones"  # referrals to partner institutions
CONSENT_NAMED_EXPORT = "exportacion_nominal"  # the person's name in case lists that leave the system
CONSENT_PURPOSES = {
    CONSENT_SHARING: _l("Compartir con instituciones socias para atender el caso"),
    CONSENT_NAMED_EXPORT: _l("Aparecer con su nombre en listas de casos exportadas"),
}
CONSENT_SOURCES = {
    "registro": _l("Registro del caso"),
    "remision": _l("Al remitir el caso"),
    "supervisor_override": _l("Autorización de la supervisión sin consentimiento"),
    "migracion": _l("Consentimiento anterior a los propósitos nombrados"),
}


class CaseConsent(db.Model):
    """The person's answer for one purpose of one case: given or refused, who recorded it, when and how.

    One row per (case, purpose), updated when the answer changes (every change is also audited). No row means
    no consent: a purpose is never assumed."""

    __tablename__ = "case_consents"
    __table_args__ = (Index("ix_case_consents_case_purpose", "case_id", "purpose", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    purpose: Mapped[str] = mapped_column(String(40))
    given: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)
    source: Mapped[str] = mapped_column(String(30))


class PersonMerge(db.Model):
    """Two records of one person merged into one (app/cases/merge.py), with both versions kept to undo it.

    `snapshot` (encrypted JSON) holds both persons as they were before, the field choices, and later the state
    an undo replaced; `moved_json` the ids of the cases, phones and link requests that moved to the survivor."""

    __tablename__ = "person_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    merged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[datetime] = mapped_column(default=clock.now)
    reason: Mapped[str] = mapped_column(EncryptedText)
    snapshot: Mapped[str] = mapped_column(EncryptedText)
    moved_json: Mapped[str] = mapped_column(Text, default="{}")
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    undo_reason: Mapped[str | None] = mapped_column(EncryptedText)

    merged_by = relationship("User", foreign_keys=[merged_by_id], lazy="joined")
    undone_by = relationship("User", foreign_keys=[undone_by_id], lazy="select")

    @property
    def moved(self) -> dict:
        return json.loads(self.moved_json or "{}")


class CaseReopening(db.Model):
    """A closed case reopened by a supervisor (app/cases/course.py): why, and the closure it undid.

    `reopened_on` is the office's local day (statistics count reopenings by it); the case keeps its number and
    only its last closure counts as its closure (Case.closed_at is cleared here and set again by the next one)."""

    __tablename__ = "case_reopenings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reopened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reopened_at: Mapped[datetime] = mapped_column(default=clock.now)
    reopened_on: Mapped[date] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(EncryptedText)
    previous_closed_at: Mapped[datetime | None]
    previous_closure_reason: Mapped[str | None] = mapped_column(String(40))
    previous_closure_summary: Mapped[str | None] = mapped_column(EncryptedText)

    reopened_by = relationship("User", lazy="joined")


class CaseCategoryChange(db.Model):
    """A change of a case's category (main or secondary), by a supervisor with a reason or by the process
    (a search that ends «localizada fallecida» adds repatriation of remains)."""

    __tablename__ = "case_category_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=clock.now)
    from_code: Mapped[str | None] = mapped_column(ForeignKey("case_categories.code"))
    to_code: Mapped[str] = mapped_column(ForeignKey("case_categories.code"))
    kind: Mapped[str] = mapped_column(String(20), default="principal")  # principal | secundaria
    reason: Mapped[str] = mapped_column(EncryptedText)

    changed_by = relationship("User", lazy="joined")
