"""Changing a case's course: reopening a closed case, changing its category, and the search that ends with the
person found deceased (which adds repatriation of remains to the same case).

Reopening goes through the diagram: a closed case's instance waits at the catch event «Caso cerrado · reapertura»
(signal `caso_reabierto`, caseStatus «cerrado»); reopen() delivers that signal through the one engine loop and the
case goes back to «Seguimiento» with the same number. Only the last closure counts as the case's closure
(Case.closed_at is cleared here and set again when the next closure is approved), so the days to close are
measured to the last closure and a reopened case is counted once among the closed cases.
"""
from datetime import date
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import services as audit
from ..auth import policy
from ..core.errors import DomainError, NotAllowed
from ..core.text import strip_controls
from ..extensions import db
from ..formschema.compiler import form_prefill
from ..reference.models import CaseCategory, Office
from ..workflow import lint
from ..workflow import services as workflow
from ..workflow.models import HumanTask, WorkflowInstance
from .models import CaseCategoryChange, CaseReopening
from .records import is_closed, require_open
from .services import record_event

REOPEN_SIGNAL = "caso_reabierto"
REPATRIATION_CATEGORY = "REP"
MAX_REASON_LENGTH = 2000

lint.app_signal(REOPEN_SIGNAL, "cuando un supervisor reabre un caso cerrado")
# the family contact recorded with the person starts the repatriation's hand-over form (forms/rep_entrega.json)
form_prefill("contacto_familiar_nombre", lambda case: case.person.family_contact_name)
form_prefill("contacto_familiar_telefono", lambda case: case.person.family_contact_phone)
audit.ACTIONS.setdefault("case_reopened", "Caso reabierto")
audit.ACTIONS.setdefault("case_category_changed", "Categoría del caso cambiada")


def local_today(office, now) -> date:
    """Today's date in the office's time zone."""
    return now.astimezone(ZoneInfo(office.timezone or "America/Tegucigalpa")).date()


def _reason(text, field="motivo") -> str:
    reason = strip_controls(text or "").strip()
    if len(reason) < 5:
        message = _("Explique el motivo (al menos 5 caracteres).")
        raise DomainError(message, {field: message})
    if len(reason) > MAX_REASON_LENGTH:
        message = _("El motivo supera %(n)d caracteres.", n=MAX_REASON_LENGTH)
        raise DomainError(message, {field: message})
    return reason


def _require_supervisor(user, case):
    if not policy.supervises_office(user, case.office_id):
        raise NotAllowed(_("Solo un supervisor de la oficina del caso puede cambiar su curso."))


def instance_of(case) -> WorkflowInstance | None:
    return db.session.scalar(db.select(WorkflowInstance).where(WorkflowInstance.case_id == case.id)
                             .order_by(WorkflowInstance.id.desc()).limit(1))


def can_be_reopened(case) -> bool:
    """Closed, and its process waits for a reopening (loads the instance: for one case's page only)."""
    instance = instance_of(case) if is_closed(case) and case.anonymised_at is None else None
    return instance is not None and bool(instance.state_json) and REOPEN_SIGNAL in workflow.waiting_signals(instance)


def reopen(case, user, reason, now) -> CaseReopening:
    """A supervisor of the case's office reopens a closed case with a reason; it goes back to follow-up."""
    _require_supervisor(user, case)
    if not is_closed(case):
        raise DomainError(_("El caso no está cerrado: solo se puede reabrir un caso cerrado."))
    if case.anonymised_at is not None:
        raise DomainError(_("Un caso anonimizado por la política de retención no se puede reabrir."))
    reason = _reason(reason)
    instance = instance_of(case)
    if instance is None or not instance.state_json or REOPEN_SIGNAL not in workflow.waiting_signals(instance):
        raise DomainError(_("Este caso se cerró con una versión del proceso que no prevé la reapertura. Abra un "
                            "caso nuevo para la persona y mencione en él el número %(number)s.", number=case.number))
    office = db.session.get(Office, case.office_id)
    reopening = CaseReopening(case_id=case.id, reopened_by_id=user.id, reopened_at=now,
                              reopened_on=local_today(office, now), reason=reason,
                              previous_closed_at=case.closed_at, previous_closure_reason=case.closure_reason,
                              previous_closure_summary=case.closure_summary)
    db.session.add(reopening)
    db.session.flush()
    workflow.deliver_message(instance, REOPEN_SIGNAL, {"proxima_fecha": None, "reapertura_id": reopening.id})
    if is_closed(case):  # the diagram did not lead the case back to an open step
        raise DomainError(_("El proceso no devolvió el caso a seguimiento; no se reabrió."))
    case.closed_at, case.closure_reason, case.closure_summary = None, None, None
    case.updated_at = now
    record_event(case.id, "case_reopened", _("Caso reabierto"), user.id, now,
                 details=[[_("Motivo"), reason]], instance_id=instance.id)
    audit.record("case_reopened", case_id=case.id, object_type="case_reopening", object_id=reopening.id,
                 details={"número": case.number}, actor=user)
    return reopening


def active_categories() -> list[CaseCategory]:
    return list(db.session.scalars(db.select(CaseCategory).where(CaseCategory.is_active)
                                   .order_by(CaseCategory.name)))


def change_category(case, user, code, reason, now) -> CaseCategoryChange:
    """A supervisor of the case's office changes its main category with a reason; statistics and the inbox
    follow. The process already under way is not re-routed: steps taken stay, the next ones are the diagram's."""
    _require_supervisor(user, case)
    require_open(case)
    category = db.session.get(CaseCategory, code) if code else None
    if category is None or not category.is_active:
        message = _("Elija una categoría existente.")
        raise DomainError(message, {"categoria": message})
    if category.code == case.category_code:
        message = _("El caso ya tiene esa categoría.")
        raise DomainError(message, {"categoria": message})
    reason = _reason(reason)
    previous = case.category
    change = CaseCategoryChange(case_id=case.id, changed_by_id=user.id, changed_at=now, from_code=previous.code,
                                to_code=category.code, kind="principal", reason=reason)
    db.session.add(change)
    case.category_code = category.code
    case.category = category
    case.secondary_categories = [c for c in case.secondary_categories if c.code != category.code]
    case.updated_at = now
    _refresh_task_categories(case)
    record_event(case.id, "category_changed",
                 _("Categoría cambiada: %(old)s → %(new)s", old=previous.name, new=category.name), user.id, now,
                 details=[[_("Motivo"), reason]])
    db.session.flush()
    audit.record("case_category_changed", case_id=case.id, object_type="case_category_change", object_id=change.id,
                 details={"de": previous.code, "a": category.code}, actor=user)
    return change


DECEASED_REASON = _l("La búsqueda terminó con la persona localizada fallecida: se añade la repatriación de restos.")


def add_repatriation(case, user, now, instance_id=None) -> CaseCategoryChange | None:
    """The search ended «localizada fallecida»: repatriation of remains joins the case as a secondary category (the
    main one stays the search the case was opened and counted for). None when the case already has it."""
    codes = {case.category_code, *(c.code for c in case.secondary_categories)}
    category = db.session.get(CaseCategory, REPATRIATION_CATEGORY)
    if category is None or REPATRIATION_CATEGORY in codes:
        return None
    change = CaseCategoryChange(case_id=case.id, changed_by_id=user.id if user else None, changed_at=now,
                                from_code=None, to_code=category.code, kind="secundaria", reason=str(DECEASED_REASON))
    db.session.add(change)
    case.secondary_categories = [*case.secondary_categories, category]
    record_event(case.id, "category_changed", _("Repatriación de restos añadida al caso"),
                 user.id if user else None, now, details=[[_("Motivo"), str(DECEASED_REASON)]],
                 instance_id=instance_id)
    db.session.flush()
    audit.record("case_category_changed", case_id=case.id, object_type="case_category_change", object_id=change.id,
                 details={"secundaria": category.code}, actor=user)
    return change


def _refresh_task_categories(case):
    """The inbox's category column of the case's open tasks (the projection follow_workflow also keeps)."""
    db.session.execute(db.update(HumanTask).where(HumanTask.case_id == case.id, HumanTask.completed_at.is_(None))
                       .values(category_code=case.category_code))
