"""Who is responsible for a case: a supervisor assigns one officer of the office; its open tasks follow."""
from flask_babel import gettext as _

from ..auth import policy, roles
from ..auth.models import User
from ..core.errors import DomainError, NotAllowed
from ..core.ids import parse_id
from ..extensions import db
from ..workflow.models import HumanTask
from .models import Case
from .services import record_event


def assign_case(supervisor, case: Case, officer_id, now):
    """A supervisor makes an officer responsible for a case; its open tasks of that role follow."""
    if not policy.supervises_office(supervisor, case.office_id):
        raise NotAllowed(_("Solo un supervisor de la oficina asigna casos."))
    if case.status == "cerrado":
        raise DomainError(_("El caso está cerrado."))
    officer = officer_of_office(officer_id, case.office_id)
    case.assigned_officer_id = officer.id
    moved = db.session.execute(
        db.update(HumanTask).where(HumanTask.case_id == case.id, HumanTask.completed_at.is_(None),
                                   HumanTask.role == officer.role)
        .values(assignee_id=officer.id, claimed_at=now, row_version=HumanTask.row_version + 1)).rowcount
    record_event(case.id, "case_assigned", _("Caso asignado a %(u)s (%(n)d tareas abiertas pasan a su bandeja)",
                                             u=officer.full_name, n=moved), supervisor.id, now)
    return case


def officers_of(office_id):
    """Active officers and supervisors of an office, for the assignment lists."""
    return db.session.scalars(db.select(User).where(
        User.office_id == office_id, User.is_active_user.is_(True),
        User.role.in_((roles.OFICIAL.code, roles.SUPERVISOR.code))).order_by(User.full_name)).all()


def officer_of_office(officer_id, office_id) -> User:
    officer = db.session.get(User, parse_id(officer_id)) if parse_id(officer_id) else None
    if officer is None or officer.office_id != office_id or not officer.is_active or \
            officer.role not in (roles.OFICIAL.code, roles.SUPERVISOR.code):
        raise DomainError(_("Elija un oficial activo de la oficina."), {"usuario": _("Elija un oficial.")})
    return officer
