"""Domain actions bound to the protection process's forms: they write the case file.

Each returns the workflow variables the diagram needs (ids and routing values), never a copy
of the case.
"""
import json
import logging
from datetime import date

from flask import current_app
from flask_babel import gettext as _

from ..core import clock
from ..core.errors import DomainError
from ..extensions import db
from ..reference.models import Office
from ..workflow.actions import ActionContext, domain_action
from ..workflow.engine import check_timer_literal
from . import link_requests, referrals
from .course import add_repatriation, local_today
from .models import Assistance, Case, FollowUp, Referral
from .persons import PersonResult, person_for_intake
from .records import require_open
from .services import open_case, record_consent, record_event

log = logging.getLogger(__name__)


@domain_action("cases.register")
def register_case(ctx: ActionContext, data: dict) -> dict:
    """Intake: link or create the person, open the case with its number, link the workflow to it."""
    if ctx.instance.case_id is not None:
        raise DomainError(_("Este proceso ya tiene un caso registrado."))
    office = db.session.get(Office, ctx.instance.office_id)
    approved = link_requests.approved_person(ctx.human_task) if ctx.human_task is not None else None
    if approved is not None:  # another office already approved linking this intake to its person
        found = PersonResult(approved, False, "solicitud")
    else:
        found = person_for_intake(data, ctx.extras.get("persona"), office.country, ctx.user)
    case = open_case(office, found.person, data, ctx.user, ctx.now)
    ctx.instance.case_id = case.id
    ctx.warnings.extend(found.warnings)
    if ctx.human_task is not None:
        link_requests.attach_case(ctx.human_task, case)
    if found.linked_by:
        how = {"dni": _("por DNI"), "solicitud": _("por solicitud aprobada por la otra oficina")}.get(
            found.linked_by, _("por decisión del oficial"))
        record_event(case.id, "person_linked", _("Persona ya registrada, vinculada %(how)s", how=how),
                     ctx.user.id, ctx.now, instance_id=ctx.instance.id)
        ctx.warnings.append(_("La persona ya estaba registrada (%(name)s); el caso quedó vinculado a ella.",
                              name=found.person.full_name))
    return {"case_id": case.id, "case_number": case.number, "categoria": case.category_code,
            "registrado_en": ctx.now.isoformat(), "proxima_fecha": None, **reminder_variables(office)}


@domain_action("cases.assess")
def assess_case(ctx: ActionContext, data: dict) -> dict:
    """Assessment: the risk level and needs become part of the case."""
    case = case_of(ctx)
    case.risk_level = data["nivel_riesgo"]
    case.needs_json = json.dumps(data.get("necesidades") or [])
    return {"nivel_riesgo": case.risk_level}


@domain_action("referrals.send")
def send_referral(ctx: ActionContext, data: dict) -> dict:
    """One referral per institution chosen (rows of `remisiones`, or the single `institucion` of older forms), each
    with its own deadline, letter and link; consent to share must be on the case (recorded here if given now).

    Returns `remisiones`, the items the diagram's multi-instance referral subprocess runs over (one per referral:
    its id, institution and deadline), and `referral_id` of the first for diagrams written for one referral.
    """
    case = case_of(ctx)
    rows = data.get("remisiones")
    if rows is None:
        rows = [{"institucion": data.get("institucion"), "servicio_solicitado": data.get("servicio_solicitado"),
                 "plazo_dias": data.get("plazo_dias")}]
    if not rows:
        message = _("Elija al menos una institución.")
        raise DomainError(message, {"remisiones": message})
    codes = [row.get("institucion") for row in rows]
    if len(set(codes)) != len(codes):
        message = _("Cada institución aparece una sola vez: escriba en su fila todo lo que se le solicita.")
        raise DomainError(message, {"remisiones": message})
    if data.get("consentimiento") and not case.consent_to_share:
        record_consent(case, data.get("consentimiento_otorgado_por") or _("La persona"), ctx.now,
                       recorded_by_id=ctx.user.id)
    sent_on = _date(data.get("fecha_envio")) or ctx.now.date()
    sent = []
    for row in rows:
        institution = referrals.institution_for(row.get("institucion"))
        sent.append(referrals.send(case, institution, row.get("servicio_solicitado"), user=ctx.user, now=ctx.now,
                                   sent_on=sent_on, days=row.get("plazo_dias"),
                                   contact=data.get("contacto_institucion"), instance_id=ctx.instance.id))
    items = [{"referral_id": r.id, "institucion": r.institution_code,
              "plazo": clock.as_utc(r.deadline_at).isoformat()} for r in sent]
    return {"remisiones": items, "referral_id": sent[0].id}


@domain_action("referrals.record_response")
def record_referral_response(ctx: ActionContext, data: dict) -> dict:
    """The institution's answer as the officer heard it (phone, e-mail): accepted, or rejected with its reason."""
    case = case_of(ctx)
    referral = _referral_for(case, ctx.task_data)
    text = data.get("motivo_rechazo") if data["respuesta"] == "rechazada" else data.get("resultado")
    referrals.move(referral, data["respuesta"], channel="tarea", now=ctx.now, user=ctx.user, text=text,
                   on_date=_date(data.get("fecha_respuesta")), end_task=False)
    return {"respuesta": referral.status}


@domain_action("cases.record_assistance")
def record_assistance(ctx: ActionContext, data: dict) -> dict:
    case = case_of(ctx)
    assistance = Assistance(
        case_id=case.id, kind=data["tipo_asistencia"], given_on=_date(data["fecha_atencion"]),
        provider=data.get("proveedor"), amount_minor=_minor(data.get("monto")), currency=data.get("moneda"),
        funding_source=data.get("fuente_financiamiento"), description=data["descripcion"],
        created_by_id=ctx.user.id, created_at=ctx.now)
    db.session.add(assistance)
    db.session.flush()
    return {"assistance_id": assistance.id}


@domain_action("cases.record_follow_up")
def record_follow_up(ctx: ActionContext, data: dict) -> dict:
    """A follow-up; its «próxima fecha» (not before today in the office's zone) drives the next reminder."""
    case = case_of(ctx)
    next_on = _date(data.get("proxima_fecha"))
    office = db.session.get(Office, case.office_id)
    if next_on is not None and next_on < local_today(office, ctx.now):
        message = _("La próxima fecha de seguimiento ya pasó: escriba hoy o una fecha futura.")
        raise DomainError(message, {"proxima_fecha": message})
    follow_up = FollowUp(case_id=case.id, done_on=_date(data["fecha_seguimiento"]), method=data["metodo"],
                         outcome=data["resultado_seguimiento"], next_on=next_on,
                         created_by_id=ctx.user.id, created_at=ctx.now)
    db.session.add(follow_up)
    return {"proxima_fecha": next_on.isoformat() if next_on else None, **reminder_variables(office)}


@domain_action("cases.propose_closure")
def propose_closure(ctx: ActionContext, data: dict) -> dict:
    """The closure proposal; a follow-up date typed before it no longer drives a reminder."""
    case = case_of(ctx)
    case.closure_reason = data["motivo_cierre"]
    case.closure_summary = data["resumen_cierre"]
    return {"proxima_fecha": None}


def reminder_variables(office) -> dict:
    """What the follow-up reminder timer's expression reads: the office's zone and the configured default."""
    default = str(current_app.config.get("FOLLOW_UP_REMINDER_DEFAULT") or "P7D").strip().upper()
    if not default.startswith("P") or check_timer_literal("timeDuration", default):
        log.warning("FOLLOW_UP_REMINDER_DEFAULT %r is not an ISO 8601 duration; using P7D", default)
        default = "P7D"
    return {"zona_oficina": office.timezone or "America/Tegucigalpa", "recordatorio_defecto": default}


@domain_action("cases.decide_closure")
def decide_closure(ctx: ActionContext, data: dict) -> dict:
    """Supervisor's decision: approval closes the case; rejection keeps it open for more assistance."""
    case = case_of(ctx)
    case.closed_at = ctx.now if data["decision_cierre"] == "aprobar" else None
    return {}


@domain_action("cases.record_search_result")
def record_search_result(ctx: ActionContext, data: dict) -> dict:
    """The search's outcome. Found deceased: repatriation of remains joins the same case as a secondary category and
    the diagram goes on to its steps, whose hand-over form starts with the person's family contact (x-siproc-prefill,
    read from the case file when the form is shown, so no copy of it goes into the workflow state)."""
    case = case_of(ctx)
    if data.get("resultado_busqueda") == "localizada_fallecida":
        add_repatriation(case, ctx.user, ctx.now, instance_id=ctx.instance.id)
        ctx.warnings.append(_("La persona fue localizada fallecida: el caso sigue con la repatriación de restos."))
    return {}


def case_of(ctx) -> Case:
    if ctx.instance.case_id is None:
        raise DomainError(_("El caso todavía no está registrado."))
    case = db.session.get(Case, ctx.instance.case_id)
    require_open(case)  # a closed case's referrals, assistance and follow-ups are read-only
    return case


def _referral_for(case, task_data) -> Referral:
    """The referral this answer task is about: the subprocess item's id, else (older diagrams) referral_id, else
    the case's latest referral still waiting for an answer."""
    item = task_data.get("remision") if isinstance(task_data.get("remision"), dict) else {}
    referral_id = item.get("referral_id") or task_data.get("referral_id")
    referral = db.session.get(Referral, referral_id) if isinstance(referral_id, int) else None
    if referral is None or referral.case_id != case.id:
        referral = db.session.scalar(
            db.select(Referral).where(Referral.case_id == case.id, Referral.status.in_(("enviada", "sin_respuesta")))
            .order_by(Referral.id.desc()).limit(1))
    if referral is None:
        raise DomainError(_("El caso no tiene ninguna remisión pendiente de respuesta."))
    return referral


def _date(value):
    return date.fromisoformat(value) if value else None


def _minor(amount):
    return None if amount is None else int(round(float(amount) * 100))
