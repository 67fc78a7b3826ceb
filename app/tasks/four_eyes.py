"""Four eyes: whoever completed the step an approval task approves may not approve it.

An approval task names the step it approves with the diagram property `approvalOf` (Task_aprobacion approves
Task_propuesta; the FOSMIH approval approves the funeral home's quotation). In an office whose
`four_eyes_approvals` is on (the default), the user who completed the latest such step is refused when they
claim, open, save a draft of or submit the approval; the task stays offered to the office for another supervisor
(or a central supervisor), and a supervisor cannot assign it to them.
"""
from flask_babel import gettext as _

from ..core.errors import NotAllowed
from ..extensions import db
from ..reference.models import Office
from ..workflow.engine import get_engine
from ..workflow.models import HumanTask, ProcessVersion, WorkflowInstance


class ApprovalByProposer(NotAllowed):
    """The user would approve what they proposed themselves."""


def approval_info(human_task: HumanTask):
    """The task's definition in its own process version (None for a task no longer in the diagram)."""
    version: ProcessVersion = human_task.instance.process_version
    return get_engine().user_task(version.cache_key, lambda: version.spec_json, human_task.task_spec)


def approved_step(human_task: HumanTask, info=None) -> HumanTask | None:
    """The completed step this approval task approves: the latest completion of its `approvalOf` task in the same
    process instance (after a rejection the step is done again, and the new proposer is the one that counts)."""
    info = info if info is not None else approval_info(human_task)
    if info is None or not info.approval_of:
        return None
    return db.session.scalar(
        db.select(HumanTask).where(HumanTask.instance_id == human_task.instance_id,
                                   HumanTask.task_spec == info.approval_of, HumanTask.outcome == "completed",
                                   HumanTask.completed_at.is_not(None))
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(1))


def applies_in(office_id) -> bool:
    return bool(db.session.scalar(db.select(Office.four_eyes_approvals).where(Office.id == office_id)))


def excluded_step(human_task: HumanTask) -> HumanTask | None:
    """The proposal whose completer may not work this open task under the office's rule (None: anyone may)."""
    if human_task.completed_at is not None:
        return None
    info = approval_info(human_task)
    if info is None or not info.approval_of or not applies_in(human_task.office_id):
        return None
    step = approved_step(human_task, info)
    return step if step is not None and step.completed_by_id is not None else None


def refusal(user, human_task: HumanTask, step=False) -> str | None:
    """Why `user` may not approve this task (they completed the step it approves), or None. `step`: the task's
    excluded_step when the caller already has it."""
    if user is None:
        return None
    step = excluded_step(human_task) if step is False else step
    return _message(step.title) if step is not None and step.completed_by_id == user.id else None


def _message(step_title) -> str:
    return _("Usted completó «%(step)s» en este caso y la oficina aplica la regla de cuatro ojos: quien propone no "
             "aprueba. Otro supervisor de la oficina o un supervisor central debe completar esta tarea. "
             "No se cambió nada.", step=step_title)


def check(user, human_task: HumanTask) -> None:
    message = refusal(user, human_task)
    if message:
        raise ApprovalByProposer(message)


def release_from_proposers(instance_id: int, now) -> list[HumanTask]:
    """Open approval tasks of an instance that went straight to the person who proposed (the case's officer is a
    supervisor who completed the proposal) go back to the office queue; returns them."""
    from ..auth.models import User
    from .assignment import unassign

    released = []
    for task in db.session.scalars(db.select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.completed_at.is_(None),
            HumanTask.assignee_id.is_not(None))):
        assignee = db.session.get(User, task.assignee_id)
        if refusal(assignee, task):
            unassign(task, now, _("Tarea «%(t)s» ofrecida a la oficina: quien la propuso no puede aprobarla",
                                  t=task.title))
            released.append(task)
    return released


def blocked_among(user, tasks) -> set[int]:
    """Ids of the listed open tasks that `user` may not approve because they proposed what they approve.

    For an inbox page: two statements whatever the page size (the tasks' versions where the office applies the
    rule, then the proposals of their instances), never one per row."""
    ids = [task.id for task in tasks if task.completed_at is None]
    if not ids:
        return set()
    rows = db.session.execute(
        db.select(HumanTask.id, HumanTask.instance_id, HumanTask.task_spec, ProcessVersion.id,
                  ProcessVersion.process_key, ProcessVersion.content_hash)
        .join(WorkflowInstance, WorkflowInstance.id == HumanTask.instance_id)
        .join(ProcessVersion, ProcessVersion.id == WorkflowInstance.process_version_id)
        .join(Office, Office.id == HumanTask.office_id)
        .where(HumanTask.id.in_(ids), Office.four_eyes_approvals.is_(True))).all()
    engine = get_engine()
    wanted = {}  # task id -> (instance id, approved task spec)
    for task_id, instance_id, task_spec, version_id, key, content_hash in rows:
        info = engine.user_task((key, content_hash), _spec_loader(version_id), task_spec)
        if info is not None and info.approval_of:
            wanted[task_id] = (instance_id, info.approval_of)
    if not wanted:
        return set()
    latest = {}  # (instance id, task spec) -> who completed it last
    for instance_id, task_spec, completed_by in db.session.execute(
            db.select(HumanTask.instance_id, HumanTask.task_spec, HumanTask.completed_by_id)
            .where(HumanTask.instance_id.in_({i for i, _s in wanted.values()}),
                   HumanTask.task_spec.in_({s for _i, s in wanted.values()}),
                   HumanTask.outcome == "completed", HumanTask.completed_at.is_not(None))
            .order_by(HumanTask.completed_at, HumanTask.id)):
        latest[(instance_id, task_spec)] = completed_by
    return {task_id for task_id, key in wanted.items() if latest.get(key) == user.id}


def _spec_loader(version_id):
    """The spec of a version, read only when the engine's cache does not hold it yet."""
    return lambda: db.session.get(ProcessVersion, version_id).spec_json
