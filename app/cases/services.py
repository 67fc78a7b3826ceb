"""Case services: open a case with its number, record timeline events, follow the workflow's status."""
import json
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from ..audit import services as audit
from ..auth.models import User
from ..core import clock
from ..core.errors import DomainError
from ..extensions import db
from ..reference.models import CaseCategory, LegalArea, Office
from ..reference.places import subdivision_country
from ..workflow import services as workflow
from ..workflow.models import HumanTask
from .models import (
    CONSENT_NAMED_EXPORT,
    CONSENT_PURPOSES,
    CONSENT_SHARING,
    STATUS_ORDER,
    Case,
    CaseConsent,
    CaseCounter,
    CaseEvent,
    Person,
)

DEFAULT_TIMEZONE = "America/Tegucigalpa"  # as the statistics (app/stats/facts.py) for an office without one


def case_year(office: Office, moment) -> int:
    """The year of a case number: the office's local calendar year at that moment, the year the statistics count
    the case in (a Madrid case opened at 00:30 on 1 January local time belongs to the new year)."""
    return clock.as_utc(moment).astimezone(ZoneInfo(office.timezone or DEFAULT_TIMEZONE)).year


def next_case_number(office: Office, year: int) -> str:
    """Issue the next number of an office's year: CODE-YEAR-00001."""
    counter = db.session.get(CaseCounter, (office.id, year), with_for_update=True)
    if counter is None:
        counter = CaseCounter(office_id=office.id, year=year, last_number=0)
        db.session.add(counter)
    counter.last_number += 1
    db.session.flush()
    return f"{office.code}-{year}-{counter.last_number:05d}"


def open_case(office: Office, person: Person, data: dict, user, now) -> Case:
    """Open a case for a person from the intake data; refuses unknown categories or places."""
    category = db.session.get(CaseCategory, data["categoria"])
    if category is None or not category.is_active:
        raise DomainError(_("La categoría del caso no existe."), {"categoria": _("Categoría desconocida.")})
    secondary = [c for c in data.get("categorias_secundarias") or [] if c != category.code]
    secondary_rows = db.session.scalars(db.select(CaseCategory).where(CaseCategory.code.in_(secondary))).all()
    if len(secondary_rows) != len(set(secondary)):
        raise DomainError(_("Una categoría secundaria no existe."))
    legal_area = data.get("area_legal")
    if legal_area and db.session.get(LegalArea, legal_area) is None:
        raise DomainError(_("El área legal no existe."), {"area_legal": _("Área legal desconocida.")})
    state = data.get("estado_evento")
    if state and subdivision_country(state) != data.get("pais_evento"):
        message = _("El estado o provincia no pertenece al país del evento.")
        raise DomainError(message, {"estado_evento": message})
    case = Case(
        number=next_case_number(office, case_year(office, now)),
        office_id=office.id,
        person_id=person.id,
        category_code=category.code,
        secondary_categories=list(secondary_rows),
        legal_area_code=legal_area,
        status="registrado",
        summary=data["relato"],
        event_country=data.get("pais_evento"),
        event_state=state,
        event_city=data.get("ciudad_evento"),
        opened_at=now,
        opened_by_id=user.id,
        assigned_officer_id=user.id,
        updated_at=now,
        age_at_opening=person.age_on(now.date()),
    )
    if data.get("consentimiento_compartir"):
        record_consent(case, data.get("consentimiento_otorgado_por") or _("La persona"), now,
                       data.get("consentimiento_alcance"))
    db.session.add(case)
    db.session.flush()
    # the registration form asks both purposes; an unticked box is recorded as "not given"
    set_consent(case, CONSENT_SHARING, bool(data.get("consentimiento_compartir")), user.id, now, "registro")
    set_consent(case, CONSENT_NAMED_EXPORT, bool(data.get("consentimiento_exportacion")), user.id, now, "registro")
    audit.record("case_opened", case_id=case.id, object_type="case", object_id=case.id,
                 details={"número": case.number, "categoría": case.category_code}, actor=user)
    return case


def record_consent(case: Case, given_by: str, now, scope: str | None = None, recorded_by_id: int | None = None,
                   source: str = "remision"):
    """Consent to share the case with partner institutions: who gave it, when, for what.

    The case's own fields (what referrals check) and the named purpose `compartir_instituciones` are kept
    together; a case not yet flushed gets its purpose row from open_case."""
    case.consent_to_share = True
    case.consent_given_by = given_by[:200]
    case.consent_given_at = now
    case.consent_scope = scope or _("Remisión a instituciones socias para la atención del caso")
    if case.id is not None:
        set_consent(case, CONSENT_SHARING, True, recorded_by_id, now, source)


def set_consent(case: Case, purpose: str, given: bool, recorded_by_id: int | None, now, source: str) -> CaseConsent:
    """Record the person's answer for one named purpose (one row per case and purpose: the latest answer)."""
    if purpose not in CONSENT_PURPOSES:
        raise ValueError(f"unknown consent purpose {purpose!r}")
    row = db.session.scalar(db.select(CaseConsent).where(CaseConsent.case_id == case.id,
                                                         CaseConsent.purpose == purpose))
    if row is None:
        row = CaseConsent(case_id=case.id, purpose=purpose)
        db.session.add(row)
    row.given, row.recorded_by_id, row.recorded_at, row.source = bool(given), recorded_by_id, now, source
    return row


def has_consent(case_id: int, purpose: str) -> bool:
    """Whether the person gave consent for this purpose on this case (no row: no consent)."""
    return bool(db.session.scalar(db.select(CaseConsent.given).where(CaseConsent.case_id == case_id,
                                                                     CaseConsent.purpose == purpose)))


AUDITED_EVENTS = {
    "task_completed": "task_completed", "note_added": "note_added", "document_added": "document_uploaded",
    "referral_updated": "referral_updated", "person_edited": "person_edited",
    "transfer_requested": "transfer_requested", "transfer_decided": "transfer_decided",
    "consent_override": "consent_override", "referral_sent": "referral_sent",
}


def record_event(case_id, kind, title, actor_id, now, details=None, instance_id=None, human_task_id=None):
    """A timeline entry of the case; changes are also written to the audit trail (title only, no data)."""
    event = CaseEvent(case_id=case_id, kind=kind, title=title[:200], actor_id=actor_id, occurred_at=now,
                      details_json=json.dumps(details or [], ensure_ascii=False, default=str),
                      instance_id=instance_id, human_task_id=human_task_id)
    db.session.add(event)
    if kind in AUDITED_EVENTS:
        audit.record(AUDITED_EVENTS[kind], case_id=case_id, object_type="human_task" if human_task_id else None,
                     object_id=human_task_id, details={"evento": title[:200]},
                     actor=db.session.get(User, actor_id) if actor_id is not None else None)
    return event


PRIORITY_BY_RISK = {"bajo": 1, "medio": 2, "alto": 3, "critico": 4}


def follow_workflow(instance, ready, completed, waiting_statuses=(), **_other):
    """Signal handler after every engine run: case status, and the case's open tasks' queue fields.

    The status is the stage of the most advanced pending step, or of a catch event the instance waits at with a
    caseStatus property («cerrado» while a closed case waits for a reopening). Open tasks carry the case's category
    and a priority from its risk level; a new task goes straight to the case's officer when the
    officer's role is the task's role (otherwise it is offered to the office).
    """
    if instance.case_id is None:
        return
    case = db.session.get(Case, instance.case_id)
    if completed:
        case.status = "cerrado"
        case.closed_at = case.closed_at or instance.updated_at
    else:
        stages = [t.info.case_status for t in ready if t.info.case_status in STATUS_ORDER]
        stages += [status for status in waiting_statuses if status in STATUS_ORDER]
        if stages:
            case.status = max(stages, key=STATUS_ORDER.index)
            if case.status == "cerrado":
                case.closed_at = case.closed_at or instance.updated_at
    case.updated_at = instance.updated_at
    officer = case.assigned_officer
    for task in db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                              HumanTask.completed_at.is_(None))):
        task.category_code = case.category_code
        task.priority = PRIORITY_BY_RISK.get(case.risk_level, 0)
        is_new = clock.as_utc(task.created_at) == clock.as_utc(instance.updated_at)  # created by this run
        if is_new and task.assignee_id is None and officer is not None and officer.is_active \
                and officer.role == task.role and officer.office_id == task.office_id:
            task.assignee_id = officer.id


def cases_in_scope(user):
    query = db.select(Case).order_by(Case.opened_at.desc(), Case.id.desc())
    if not user.is_central:
        query = query.where(Case.office_id == user.office_id)
    return query


def start_case(user, versions, process_key=None) -> HumanTask | None:
    """'Nuevo caso': start the chosen (or only) process in the user's office; returns its first task."""
    chosen = next((v for v in versions if v.process_key == process_key), None) if process_key else None
    if chosen is None:
        if process_key or len(versions) != 1:
            raise DomainError(_("Elija el proceso con el que se abrirá el caso."))
        chosen = versions[0]
    instance = workflow.start_instance(chosen, user.office_id, user.id)
    first = db.session.scalar(
        db.select(HumanTask)
        .where(HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None))
        .order_by(HumanTask.id)
        .limit(1)
    )
    if first is not None and first.role == user.role and first.assignee_id is None:
        # Whoever starts a registration keeps it: it waits in "Mis tareas", not in the office queue.
        first.assignee_id, first.claimed_at = user.id, clock.now()
    return first
