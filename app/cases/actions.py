"""Domain actions bound to the protection process's forms: they write the case file."""
import json

from flask_babel import gettext as _

from ..core.actions import ActionContext, domain_action
from ..core.errors import DomainError
from ..extensions import db
from ..reference.models import Office
from .models import Case
from .services import find_or_create_person, open_case


@domain_action("cases.register")
def register_case(ctx: ActionContext, data: dict) -> dict:
    """Intake: create or link the person, open the case with its number, link the workflow to it."""
    if ctx.instance.case_id is not None:
        raise DomainError(_("Este proceso ya tiene un caso registrado."))
    office = db.session.get(Office, ctx.instance.office_id)
    person = find_or_create_person(data)
    case = open_case(office, person, data, ctx.user, ctx.now)
    ctx.instance.case_id = case.id
    return {"case_id": case.id, "case_number": case.number, "categoria": case.category_code}


@domain_action("cases.assess")
def assess_case(ctx: ActionContext, data: dict) -> dict:
    """Assessment: the risk level and needs become part of the case."""
    case = _case_of(ctx)
    case.risk_level = data["nivel_riesgo"]
    case.needs_json = json.dumps(data.get("necesidades") or [])
    return {"nivel_riesgo": case.risk_level}


@domain_action("cases.propose_closure")
def propose_closure(ctx: ActionContext, data: dict) -> dict:
    case = _case_of(ctx)
    case.closure_reason = data["motivo_cierre"]
    case.closure_summary = data["resumen_cierre"]
    return {}


@domain_action("cases.decide_closure")
def decide_closure(ctx: ActionContext, data: dict) -> dict:
    """Supervisor's decision: approval closes the case; rejection keeps it open for more assistance."""
    case = _case_of(ctx)
    if data["decision_cierre"] == "aprobar":
        case.closed_at = ctx.now
    else:
        case.closed_at = None
    return {}


def _case_of(ctx) -> Case:
    if ctx.instance.case_id is None:
        raise DomainError(_("El caso todavía no está registrado."))
    return db.session.get(Case, ctx.instance.case_id)
