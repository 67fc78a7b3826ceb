"""Inbox queues, filters, sorting and counts, read from the human_tasks projection only."""
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_
from sqlalchemy.orm import joinedload, raiseload

from ..auth import roles
from ..cases.models import RISK_LEVELS, Case, Person
from ..core import clock
from ..core.ids import parse_id
from ..extensions import db
from ..reference.models import CaseCategory, Office
from ..workflow import services as workflow
from ..workflow.models import HumanTask

VIEWS = {
    "mias": _l("Mis tareas"),
    "oficina": _l("Mi oficina"),
    "vencidas": _l("Vencidas"),
    "todas": _l("Todas"),
}
DUE_WINDOWS = {"vencidas": _l("Vencidas"), "hoy": _l("Vencen hoy"), "semana": _l("Vencen en 7 días"),
               "sin_plazo": _l("Sin plazo")}
SORTS = {"prioridad": _l("Prioridad"), "vence": _l("Vencimiento"), "antiguedad": _l("Más antiguas"),
         "caso": _l("Número de caso")}
PRIORITY_BY_RISK = {"bajo": 1, "medio": 2, "alto": 3, "critico": 4}


@dataclass
class InboxRequest:
    """The view, filters, sort and page of an inbox URL; invalid values are listed, not obeyed."""

    view: str = "mias"
    category: str | None = None
    risk: str | None = None
    due: str | None = None
    task_spec: str | None = None
    office_id: int | None = None
    sort: str = "prioridad"
    page: str | None = None
    problems: list[str] = field(default_factory=list)

    def url_args(self, **changes) -> dict:
        args = {"vista": self.view, "categoria": self.category, "riesgo": self.risk, "vence": self.due,
                "tipo": self.task_spec, "oficina": self.office_id, "orden": self.sort}
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "")}


def views_for(user) -> list[str]:
    if user.role == roles.SUPERVISOR.code or user.is_central:
        return ["mias", "oficina", "vencidas", "todas"]
    return ["mias", "oficina", "vencidas"]


def parse_request(user, args) -> InboxRequest:
    """Read the URL; each invalid value becomes a Spanish problem and is ignored."""
    request = InboxRequest(page=args.get("pagina"))
    view = args.get("vista") or "mias"
    if view in views_for(user):
        request.view = view
    else:
        request.problems.append(_("Vista no válida: %(v)s", v=view))
    for key, attr, valid in (("riesgo", "risk", RISK_LEVELS), ("vence", "due", DUE_WINDOWS),
                             ("orden", "sort", SORTS)):
        value = args.get(key)
        if value:
            if value in valid:
                setattr(request, attr, value)
            else:
                request.problems.append(_("Valor no válido para «%(k)s»: %(v)s", k=key, v=value))
    category = args.get("categoria")
    if category:
        if db.session.get(CaseCategory, category) is not None:
            request.category = category
        else:
            request.problems.append(_("Categoría desconocida: %(v)s", v=category))
    task_spec = args.get("tipo")
    if task_spec:
        if len(task_spec) <= 100 and task_spec.replace("_", "").isalnum():
            request.task_spec = task_spec
        else:
            request.problems.append(_("Tipo de tarea no válido."))
    office = args.get("oficina")
    if office:
        if not user.is_central:
            request.problems.append(_("Solo los usuarios centrales filtran por oficina."))
        elif parse_id(office) and db.session.get(Office, parse_id(office)) is not None:
            request.office_id = parse_id(office)
        else:
            request.problems.append(_("Oficina desconocida: %(v)s", v=office))
    return request


def _mine(user):
    return HumanTask.assignee_id == user.id


def _offered(user):
    condition = and_(HumanTask.assignee_id.is_(None), HumanTask.role == user.role)
    return condition if user.is_central else and_(condition, HumanTask.office_id == user.office_id)


def _scope(user):
    """Every open task the user may see in the 'todas' view."""
    if user.is_central:
        return True
    return HumanTask.office_id == user.office_id


def _view_condition(user, view):
    now = clock.now()
    if view == "mias":
        return _mine(user)
    if view == "oficina":
        return _offered(user)
    if view == "todas":
        return _scope(user)
    # vencidas: what I must do (mine or offered to me) or, for supervisors and central users, all in scope
    base = _scope(user) if (user.role == roles.SUPERVISOR.code or user.is_central) else or_(_mine(user),
                                                                                            _offered(user))
    return and_(base, HumanTask.due_at < now)


def inbox_query(user, request: InboxRequest | None = None):
    """Open tasks of a view with filters and sort; joins the case and person of each row for display."""
    request = request or InboxRequest()
    conditions = [HumanTask.completed_at.is_(None), _view_condition(user, request.view)]
    if request.category:
        conditions.append(HumanTask.category_code == request.category)
    if request.risk:
        conditions.append(HumanTask.priority == PRIORITY_BY_RISK[request.risk])
    if request.task_spec:
        conditions.append(HumanTask.task_spec == request.task_spec)
    if request.office_id:
        conditions.append(HumanTask.office_id == request.office_id)
    if request.due:
        conditions.append(_due_condition(request.due))
    order = {
        "prioridad": (HumanTask.priority.desc(), HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id),
        "vence": (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id),
        "antiguedad": (HumanTask.created_at, HumanTask.id),
        "caso": (Case.number, HumanTask.id),
    }[request.sort]
    return (db.select(HumanTask, Case, Person)
            .outerjoin(Case, HumanTask.case_id == Case.id)
            .outerjoin(Person, Case.person_id == Person.id)
            .where(*conditions).order_by(*order)
            .options(joinedload(HumanTask.assignee), raiseload(Person.phones),
                     raiseload(Person.vulnerability_markers), raiseload(Person.origin_municipality),
                     raiseload(Person.origin_department), raiseload(Case.category)))


def _due_condition(window):
    now = clock.now()
    if window == "vencidas":
        return HumanTask.due_at < now
    if window == "sin_plazo":
        return HumanTask.due_at.is_(None)
    end = datetime.combine(now.date(), time.max, UTC) if window == "hoy" else now + timedelta(days=7)
    return and_(HumanTask.due_at >= now, HumanTask.due_at <= end)


def counts(user) -> dict[str, int]:
    """Mine, offered and overdue counts in ONE query (shown in the navigation on every page)."""
    now = clock.now()
    overdue = HumanTask.due_at < now
    mine, offered = _mine(user), _offered(user)
    row = db.session.execute(
        db.select(func.count(case((mine, 1))), func.count(case((offered, 1))),
                  func.count(case((and_(overdue, or_(mine, offered)), 1))))
        .where(HumanTask.completed_at.is_(None), or_(mine, offered))
    ).one()
    return {"mias": row[0], "oficina": row[1], "vencidas": row[2]}


def task_types() -> list[tuple[str, str]]:
    """(task spec, title) of the user tasks of the published processes, for the 'task type' filter."""
    return workflow.user_task_titles()
