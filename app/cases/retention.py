"""Retention: closed cases are anonymised N years after closure, keeping only statistical fields.

Kept: sex, age at opening (age band), department of origin, vulnerability markers, category, office,
country and state of the event, dates, statuses, referral institutions and statuses, assistance types
and amounts. Removed: names, identity numbers, phones, addresses, narratives, notes, documents, form
data kept in the workflow, and the free text of referrals, assistance and follow-ups.
"""
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask_babel import gettext as _

from ..audit import services as audit
from ..extensions import db
from ..workflow.models import WorkflowInstance
from .models import Assistance, Attachment, Case, CaseEvent, CaseNote, FollowUp, Person, Referral

REDACTED = "[anonimizado]"


@dataclass
class RetentionPlan:
    years: int | None
    cutoff: object
    cases: list[Case]


def plan(now, years) -> RetentionPlan:
    """The closed cases due for anonymisation (closed before now - years), oldest first."""
    if not years:
        return RetentionPlan(None, None, [])
    cutoff = now - timedelta(days=round(365.25 * years))
    cases = db.session.scalars(db.select(Case).where(Case.closed_at.is_not(None), Case.closed_at <= cutoff,
                                                     Case.anonymised_at.is_(None))
                               .order_by(Case.closed_at, Case.id)).all()
    return RetentionPlan(years, cutoff, cases)


def apply(now, years, uploads_dir, actor=None) -> int:
    """Anonymise every due case (and persons with no case left unanonymised); audited. Flushes."""
    due = plan(now, years).cases
    for case in due:
        anonymise_case(case, now, uploads_dir)
    persons = {case.person for case in due}
    for person in persons:
        remaining = db.session.scalar(db.select(db.func.count(Case.id)).where(
            Case.person_id == person.id, Case.anonymised_at.is_(None)))
        if remaining == 0:
            anonymise_person(person, now)
    db.session.flush()
    if due:
        audit.record("retention_applied", actor=actor, details={
            "casos": len(due), "personas": sum(1 for p in persons if p.anonymised_at), "años": years,
            "números": ", ".join(c.number for c in due[:200])})
    return len(due)


def anonymise_case(case: Case, now, uploads_dir):
    case.summary = REDACTED
    case.closure_summary = REDACTED if case.closure_summary else None
    case.event_city = None
    case.consent_given_by = REDACTED if case.consent_given_by else None
    case.consent_override_reason = REDACTED if case.consent_override_reason else None
    case.anonymised_at = now
    for note in _rows(CaseNote, case):
        note.text = REDACTED
    for event in _rows(CaseEvent, case):
        event.details_json = "[]"
        if event.kind == "document_added":
            event.title = _("Documento añadido")
    for referral in _rows(Referral, case):
        referral.service_requested = REDACTED
        referral.outcome = REDACTED if referral.outcome else None
        referral.rejection_reason = REDACTED if referral.rejection_reason else None
        referral.contact = None
    for assistance in _rows(Assistance, case):
        assistance.description = REDACTED
    for follow_up in _rows(FollowUp, case):
        follow_up.outcome = REDACTED
    for attachment in _rows(Attachment, case):
        _delete_file(attachment, uploads_dir)
        attachment.filename, attachment.description, attachment.deleted_at = _("[documento eliminado]"), None, now
    for instance in db.session.scalars(db.select(WorkflowInstance).where(WorkflowInstance.case_id == case.id)):
        instance.state_json = ""  # form data kept by the workflow goes too; a closed case never runs again


def anonymise_person(person: Person, now):
    person.given_names, person.first_surname, person.second_surname = _("Persona anonimizada"), "—", None
    person.dni = person.passport_number = None
    person.gender_identity = person.birth_date = person.estimated_age = None
    person.birth_date_estimated = False
    person.origin_municipality_code = None  # the department stays, for statistics
    person.current_city = person.address_abroad = None
    person.family_contact_name = person.family_contact_relationship = person.family_contact_phone = None
    person.phones = []
    person.search_text, person.first_surname_key, person.second_surname_key = "", "", ""
    person.anonymised_at = now


def _rows(model, case):
    return db.session.scalars(db.select(model).where(model.case_id == case.id)).all()


def _delete_file(attachment, uploads_dir):
    """Remove the file unless a document of a case not yet anonymised has the same content."""
    still_used = db.session.scalar(db.select(db.func.count(Attachment.id)).join(Case).where(
        Attachment.sha256 == attachment.sha256, Attachment.id != attachment.id, Case.anonymised_at.is_(None)))
    path = Path(uploads_dir) / attachment.sha256[:2] / attachment.sha256
    if not still_used and path.exists():
        path.unlink()
