"""The connectors SIPROC provides to service tasks (chosen in the modeler's panel, see app/workflow/actions.py).

Each acts on the case of the workflow instance that runs it, and only on it: the case is never a parameter, it
comes from the engine run (actions.run_context, set by app/workflow/services). Roles are always the roles of the
case's own office. Notices and e-mails carry only the text the diagram wrote between quotes, with {numero_caso}
and {oficina}: no case data is computed into them (the lint refuses it), as for every SIPROC notice.
"""
import hashlib

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..auth.services import office_users
from ..core import clock
from ..core.text import strip_controls
from ..extensions import db
from ..workflow.actions import Param, ServiceError, fill_template, run_context, service_operation
from . import referrals
from .models import Case
from .services import record_event
from .signals import tell

MAX_NOTE = 2000


def _case_of_run() -> tuple[Case, User | None]:
    """The instance's own case and the user whose action runs the engine (None: the scheduler)."""
    context = run_context()
    case = db.session.get(Case, context.case_id) if context is not None and context.case_id else None
    if case is None:
        raise ServiceError(_("este conector actúa sobre el caso, y el caso aún no está registrado: colóquelo "
                             "después de la tarea que registra el caso"))
    user = db.session.get(User, context.user_id) if context.user_id else None
    return case, user


def _text(case, template) -> str:
    return strip_controls(fill_template(template, {"numero_caso": case.number,
                                                   "oficina": case.office.name if case.office else ""})).strip()


def _tell_role(case, role, title, body, only_with_email=False) -> dict:
    now = clock.now()
    title, body = _text(case, title)[:200], _text(case, body or "")
    users = [u for u in office_users(case.office_id, role) if u.email or not only_with_email]
    digest = hashlib.sha256(f"{title}\n{body}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
    for user in users:
        tell(user, kind="recordatorio", title=title, body=body or title, link=f"/casos/{case.id}", now=now,
             case_id=case.id, dedup_key=f"conector:{case.id}:{digest}:{user.id}:{now:%Y%m%d%H%M%S%f}")
    return {"avisados": len(users), "con_correo": sum(1 for u in users if u.email)}


@service_operation("siproc/aviso_rol", _l("Aviso a un rol de la oficina del caso"), params=[
    Param("rol", _l("Rol que recibe el aviso"), "role"),
    Param("titulo", _l("Título del aviso"), "template"),
    Param("mensaje", _l("Mensaje"), "template", required=False),
], description=_l("Un aviso (campana de SIPROC) a cada persona activa del rol en la oficina del caso; quien tiene "
                  "correo lo recibe también por correo, como todos los avisos."))
def notify_role(params: dict, _task_data: dict) -> dict:
    case, _user = _case_of_run()
    return _tell_role(case, params["rol"], params["titulo"], params.get("mensaje"))


@service_operation("siproc/correo_rol", _l("Correo a un rol de la oficina del caso"), params=[
    Param("rol", _l("Rol que recibe el correo"), "role"),
    Param("asunto", _l("Asunto"), "template"),
    Param("mensaje", _l("Mensaje"), "template", required=False),
], description=_l("Un correo a cada persona activa del rol en la oficina del caso que tiene correo registrado, "
                  "por la cola de correo de SIPROC (lo envía el programador de tareas); sin datos personales."))
def mail_role(params: dict, _task_data: dict) -> dict:
    case, _user = _case_of_run()
    result = _tell_role(case, params["rol"], params["asunto"], params.get("mensaje"), only_with_email=True)
    return {"correos": result["con_correo"]}


@service_operation("siproc/remitir", _l("Remisión del caso a una institución"), params=[
    Param("institucion", _l("Institución (código del catálogo)"), "text",
          help=_l("Código de una institución activa del catálogo, p. ej. \"DIF-NL\".")),
    Param("servicio", _l("Servicio solicitado"), "text"),
    Param("plazo_dias", _l("Plazo de respuesta (días)"), "number", required=False,
          help=_l("Vacío: el plazo de la institución.")),
], description=_l("Crea la remisión con su oficio y su plazo, como la pantalla de remisiones: exige el "
                  "consentimiento de la persona y una institución activa; el resultado trae referral_id."))
def refer(params: dict, _task_data: dict) -> dict:
    case, user = _case_of_run()
    institution = referrals.institution_for(params["institucion"].strip())
    days = params.get("plazo_dias")
    if days is not None and (type(days) is not int or not 1 <= days <= 365):
        raise ServiceError(_("el plazo de respuesta debe ser un número entero de días entre 1 y 365"))
    context = run_context()
    referral = referrals.send(case, institution, params["servicio"], user=user, now=clock.now(), days=days,
                              instance_id=context.instance_id)
    return {"referral_id": referral.id, "institucion": institution.code}


@service_operation("siproc/nota_caso", _l("Nota en la historia del caso"), params=[
    Param("titulo", _l("Título"), "template"),
    Param("texto", _l("Texto de la nota"), "text", help=_l("Puede calcularse con los datos del caso; queda en la "
                                                           "historia del caso, con acceso restringido.")),
], description=_l("Registra una entrada en la historia del caso, a nombre de quien completó la tarea (o del "
                  "sistema), auditada como cualquier nota."))
def note(params: dict, _task_data: dict) -> dict:
    case, user = _case_of_run()
    text = strip_controls(params["texto"]).strip()
    if not text:
        raise ServiceError(_("el texto de la nota está vacío"))
    if len(text) > MAX_NOTE:
        raise ServiceError(_("la nota supera %(n)d caracteres", n=MAX_NOTE))
    context = run_context()
    event = record_event(case.id, "note_added", _text(case, params["titulo"]) or _("Nota del proceso"),
                         user.id if user else None, clock.now(), details=[[_("Nota"), text]],
                         instance_id=context.instance_id)
    db.session.flush()
    return {"evento": event.id}
