"""Create notifications (once per task, rule, user and day), count and read them."""
from flask_babel import gettext as _

from ..auth.models import User
from ..auth.services import office_users
from ..cases.models import Case
from ..core import clock
from ..extensions import db
from ..workflow.models import HumanTask
from .models import Notification


def notify(user, kind, task: HumanTask, reason: str, now) -> Notification | None:
    """A notice for a user about a task; None when this rule already told this user today."""
    day = now.date()
    key = f"{kind}:{task.id}:{user.id}:{day.isoformat()}"
    if db.session.scalar(db.select(Notification.id).where(Notification.dedup_key == key)) is not None:
        return None
    case = db.session.get(Case, task.case_id) if task.case_id else None
    number = case.number if case else _("(caso sin registrar)")
    titles = {"recordatorio": _("Recordatorio: %(t)s · %(n)s", t=task.title, n=number),
              "vencida": _("Tarea vencida: %(t)s · %(n)s", t=task.title, n=number),
              "escalamiento": _("Escalamiento: %(t)s · %(n)s", t=task.title, n=number)}
    notice = Notification(user_id=user.id, kind=kind, title=titles[kind][:200], body=reason, link=f"/tareas/{task.id}",
                          case_id=task.case_id, human_task_id=task.id, created_at=now, created_on=day,
                          email_status="pendiente" if user.email else "sin_correo", dedup_key=key)
    db.session.add(notice)
    return notice


def responsible_users(task: HumanTask) -> list[User]:
    """Who must act on a task: its assignee, else the case's officer, else the users of its role in its office."""
    if task.assignee_id:
        user = db.session.get(User, task.assignee_id)
        if user is not None and user.is_active:
            return [user]
    case = db.session.get(Case, task.case_id) if task.case_id else None
    if case is not None and case.assigned_officer is not None and case.assigned_officer.is_active and \
            case.assigned_officer.office_id == task.office_id:
        return [case.assigned_officer]
    return office_users(task.office_id, task.role)


def store_notice(_sender, *, user, kind, title, body, link, now, dedup_key, case_id=None) -> Notification | None:
    """A notice another domain asked for (app/cases/signals.py); None when this key was already told."""
    if db.session.scalar(db.select(Notification.id).where(Notification.dedup_key == dedup_key)) is not None:
        return None
    notice = Notification(user_id=user.id, kind=kind, title=title, body=body, link=link, case_id=case_id,
                          created_at=now, created_on=now.date(), email_status="pendiente" if user.email else
                          "sin_correo", dedup_key=dedup_key)
    db.session.add(notice)
    return notice


def unread_count(user) -> int:
    return db.session.scalar(db.select(db.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def notices_for(user):
    return db.select(Notification).where(Notification.user_id == user.id).order_by(
        Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())


def read_notice(user, notice_id, now):
    """Mark one unread notice of the user as read and return it; None when it is not theirs or already read."""
    if notice_id is None or not mark_read(user, notice_id, now):
        return None
    return db.session.get(Notification, notice_id)


def mark_read(user, notice_id=None, now=None):
    """Mark one notice (or all) of this user as read; another user's notice is not found."""
    query = db.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notice_id is not None:
        query = query.where(Notification.id == notice_id)
    return db.session.execute(query.values(read_at=now or clock.now())).rowcount
