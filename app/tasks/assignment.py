"""Claiming and releasing tasks; supervisors assigning tasks and cases to the officers of their office."""
from flask_babel import gettext as _

from ..auth import policy, roles
from ..cases.assignment import officer_of_office
from ..cases.services import record_event
from ..core.errors import DomainError, NotAllowed
from ..workflow.models import HumanTask
from . import four_eyes


def claim(user, task: HumanTask, now):
    """Take an offered task; a task claimed by someone else stays theirs."""
    _check_open(task)
    if task.role != user.role or task.office_id != user.office_id and not user.is_central:
        raise NotAllowed(_("Esta tarea no corresponde a su rol u oficina."))
    four_eyes.check(user, task)
    if task.assignee_id == user.id:
        return task
    if task.assignee_id is not None:
        raise DomainError(_("Esta tarea ya la tomó %(who)s. No se cambió nada.", who=task.assignee.full_name))
    task.assignee_id, task.claimed_at = user.id, now
    _event(task, _("Tarea «%(t)s» tomada por %(u)s", t=task.title, u=user.full_name), user, now)
    return task


def release(user, task: HumanTask, now):
    """Give a task back to the office queue (its assignee, or a supervisor of the office)."""
    _check_open(task)
    if task.assignee_id is None:
        raise DomainError(_("La tarea no está asignada a nadie."))
    if task.assignee_id != user.id and not policy.supervises_office(user, task.office_id):
        raise NotAllowed(_("Solo quien tomó la tarea o un supervisor puede devolverla."))
    task.assignee_id, task.claimed_at = None, None
    _event(task, _("Tarea «%(t)s» devuelta a la oficina", t=task.title), user, now)
    return task


def unassign(task: HumanTask, now, title) -> None:
    """The system gives a task back to the office queue (no user acted), with a timeline entry saying why."""
    task.assignee_id, task.claimed_at = None, None
    if task.case_id is not None:
        record_event(task.case_id, "task_assignment", title, None, now, human_task_id=task.id)


def assign_task(supervisor, task: HumanTask, officer_id, now):
    """A supervisor gives (or moves) a task to an active user of the office whose role fits the task."""
    _check_open(task)
    if not policy.supervises_office(supervisor, task.office_id):
        raise NotAllowed(_("Solo un supervisor de la oficina asigna tareas."))
    officer = officer_of_office(officer_id, task.office_id)
    if officer.role != task.role and officer.role != roles.SUPERVISOR.code:
        raise DomainError(_("%(u)s no tiene el rol de esta tarea.", u=officer.full_name), {"usuario": _("Rol.")})
    if four_eyes.refusal(officer, task):
        raise DomainError(_("%(u)s completó lo que esta tarea aprueba: la oficina aplica la regla de cuatro ojos y "
                            "debe aprobarlo otra persona. No se cambió nada.", u=officer.full_name),
                          {"usuario": _("Cuatro ojos.")})
    task.assignee_id, task.claimed_at = officer.id, now
    _event(task, _("Tarea «%(t)s» asignada a %(u)s", t=task.title, u=officer.full_name), supervisor, now)
    return task


def _check_open(task):
    if task.completed_at is not None:
        raise DomainError(_("Esta tarea ya fue completada. No se cambió nada."))


def _event(task, title, user, now):
    if task.case_id is not None:
        record_event(task.case_id, "task_assignment", title, user.id, now, human_task_id=task.id)
