"""The rules that turn time into notices: fired reminder timers, overdue tasks, escalations."""
from datetime import timedelta

from flask_babel import gettext as _

from ..auth.services import supervisors_of
from ..extensions import db
from ..workflow.models import HumanTask
from .models import Notification
from .services import notify, responsible_users

BATCH = 1000


def on_instance_advanced(instance, fired_timers=(), **_kw):
    """Signal handler: a reminder timer that fired (e.g. 7 days without follow-up) reminds whoever must act."""
    if not fired_timers or instance.case_id is None:
        return
    now = instance.updated_at
    for timer in fired_timers:
        task = _open_task(instance.id, timer.attached_to)
        if task is None:
            continue
        reason = _("%(t)s: «%(n)s».", t=timer.name or _("Temporizador cumplido"), n=task.title)
        for user in responsible_users(task):
            notify(user, "recordatorio", task, reason, now)


def apply_deadline_rules(now, escalation_days) -> int:
    """Tasks past their deadline notify who must act; after `escalation_days` the office's supervisors too."""
    created = 0
    today = now.date()
    for task in _overdue_without_notice(now, "vencida", today):
        reason = _("La tarea «%(t)s» venció el %(d)s.", t=task.title, d=task.due_at.strftime("%d/%m/%Y"))
        created += sum(1 for user in responsible_users(task) if notify(user, "vencida", task, reason, now))
    limit = now - timedelta(days=escalation_days)
    for task in _overdue_without_notice(limit, "escalamiento", today):
        reason = _("La tarea «%(t)s» lleva más de %(n)d días vencida.", t=task.title, n=escalation_days)
        created += sum(1 for user in supervisors_of(task.office_id)
                       if notify(user, "escalamiento", task, reason, now))
    return created


def _overdue_without_notice(before, kind, today):
    """Open tasks due before a moment that got no notice of this kind today (indexed queries only)."""
    noticed = db.select(Notification.id).where(Notification.human_task_id == HumanTask.id,
                                               Notification.kind == kind, Notification.created_on == today)
    return db.session.scalars(db.select(HumanTask).where(
        HumanTask.completed_at.is_(None), HumanTask.due_at < before, ~noticed.exists())
        .order_by(HumanTask.due_at).limit(BATCH)).all()


def _open_task(instance_id, bpmn_id):
    if not bpmn_id:
        return None
    return db.session.scalar(db.select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.task_spec == bpmn_id, HumanTask.completed_at.is_(None)))
