"""Inbox queues, filters, sorting and counts, read from the human_tasks projection only."""
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from flask import g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_
from sqlalchemy.orm import joinedload, lazyload, load_only, raiseload

from ..auth import roles
from ..cases.models import RISK_LEVELS, Case, Person
from ..core import clock
from ..core.ids import parse_id
from ..core.pagination import Page, page_number
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


def _conditions(user, request: InboxRequest) -> list:
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
    return conditions


def _order(sort: str) -> tuple:
    return {
        "prioridad": (HumanTask.priority.desc(), HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id),
        "vence": (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id),
        "antiguedad": (HumanTask.created_at, HumanTask.id),
        "caso": (Case.number, HumanTask.id),
    }[sort]


def _with_case_and_person(query):
    """The case and person shown on each row: only the columns the page shows (no decryption of the case
    narrative or identity numbers), without the case's own eager loads of its person and their catalogues."""
    return (query.outerjoin(Case, HumanTask.case_id == Case.id)
            .outerjoin(Person, Case.person_id == Person.id)
            .options(joinedload(HumanTask.assignee), load_only(Case.number, Case.office_id),
                     lazyload(Case.person), raiseload(Case.category),
                     load_only(Person.given_names, Person.first_surname, Person.second_surname),
                     raiseload(Person.phones), raiseload(Person.vulnerability_markers),
                     raiseload(Person.origin_municipality), raiseload(Person.origin_department)))


def inbox_query(user, request: InboxRequest | None = None):
    """Open tasks of a view with filters and sort; joins the case and person of each row for display."""
    request = request or InboxRequest()
    return _with_case_and_person(db.select(HumanTask, Case, Person)).where(
        *_conditions(user, request)).order_by(*_order(request.sort))


def inbox_page(user, request: InboxRequest, size: int) -> Page:
    """One page of inbox_query in three statements whose cost follows the page, not the queue: the count
    reads human_tasks' partial indexes only (the case and person joins never add or remove a task); the
    page's task ids are sorted on human_tasks alone (the joins only when sorting by case number); then
    the rows of those ids get their case, person and assignee."""
    conditions, order = _conditions(user, request), _order(request.sort)
    total = db.session.scalar(db.select(func.count()).select_from(HumanTask).where(*conditions))
    number = page_number(request.page, total, size)
    ids_query = db.select(HumanTask.id).where(*conditions).order_by(*order).limit(size).offset((number - 1) * size)
    if request.sort == "caso":
        ids_query = ids_query.outerjoin(Case, HumanTask.case_id == Case.id)
    ids = db.session.scalars(ids_query).all()
    items = db.session.execute(_with_case_and_person(db.select(HumanTask, Case, Person))
                               .where(HumanTask.id.in_(ids)).order_by(*order)).all() if ids else []
    return Page(items, number, size, total)


def _due_condition(window):
    now = clock.now()
    if window == "vencidas":
        return HumanTask.due_at < now
    if window == "sin_plazo":
        return HumanTask.due_at.is_(None)
    end = datetime.combine(now.date(), time.max, UTC) if window == "hoy" else now + timedelta(days=7)
    return and_(HumanTask.due_at >= now, HumanTask.due_at <= end)


def counts(user) -> dict[str, int]:
    """Mine, offered and overdue counts in ONE statement (shown in the navigation on every page, and in the
    inbox's tabs: computed once per request). Each count is its own subquery so that it reads one partial
    index of human_tasks: an OR of 'mine' and 'offered' would scan every open task."""
    cached = g.get("_inbox_counts") if has_request_context() else None
    if cached is not None and cached[0] == user.id:
        return dict(cached[1])
    now = clock.now()

    def count(*conditions):
        return (db.select(func.count()).select_from(HumanTask)
                .where(HumanTask.completed_at.is_(None), *conditions).scalar_subquery())

    row = db.session.execute(db.select(
        count(_mine(user)), count(_offered(user)),
        count(_mine(user), HumanTask.due_at < now) + count(_offered(user), HumanTask.due_at < now))
    ).one()
    result = {"mias": row[0], "oficina": row[1], "vencidas": row[2]}
    if has_request_context():
        g._inbox_counts = (user.id, result)
    return dict(result)


def task_types() -> list[tuple[str, str]]:
    """(task spec, title) of the user tasks of the published processes, for the 'task type' filter."""
    return workflow.user_task_titles()
