"""Drafts: a task's form data kept without completing the task, shown again when it is reopened."""
import json

from flask_babel import gettext as _

from ..core.errors import DomainError
from ..extensions import db
from .models import TaskDraft

MAX_DRAFT_BYTES = 200_000


def save_draft(user, task, formdata, now) -> TaskDraft:
    """Keep the raw form values (lists for multiple choices); nothing is validated or sent to the workflow."""
    if task.completed_at is not None:
        raise DomainError(_("Esta tarea ya fue completada. No se guardó el borrador."))
    values = {key: formdata.getlist(key) for key in formdata if key not in ("csrf_token",)}
    text = json.dumps(values, ensure_ascii=False)
    if len(text.encode("utf-8")) > MAX_DRAFT_BYTES:
        raise DomainError(_("El borrador es demasiado grande."))
    draft = db.session.scalar(db.select(TaskDraft).where(TaskDraft.human_task_id == task.id))
    if draft is None:
        draft = TaskDraft(human_task_id=task.id, user_id=user.id, data_json=text, saved_at=now)
        db.session.add(draft)
    else:
        draft.user_id, draft.data_json, draft.saved_at = user.id, text, now
    return draft


def draft_of(task) -> TaskDraft | None:
    return db.session.scalar(db.select(TaskDraft).where(TaskDraft.human_task_id == task.id))


def draft_formdata(draft):
    """The saved values as a MultiDict, to fill the form as if it had just been typed."""
    from werkzeug.datastructures import MultiDict

    values = json.loads(draft.data_json)
    return MultiDict([(key, value) for key, items in values.items() for value in items])


def discard_draft(task):
    db.session.execute(db.delete(TaskDraft).where(TaskDraft.human_task_id == task.id))
