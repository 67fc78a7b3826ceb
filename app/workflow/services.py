"""The one engine loop, used by web submits, the scheduler and admin repairs.

load (spec from the per-version cache) -> action -> refresh_timers() -> do_engine_steps()
-> project human_task and timer rows -> save state; all inside the caller's transaction.
Services flush; the request or command commits once.
"""
import logging
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from ..auth.roles import role_for_lane
from ..core import clock
from ..core.errors import Conflict, DomainError
from ..extensions import db
from .actions import running
from .engine import SERIALIZER_VERSION, EngineError, get_engine, parse_duration
from .models import HumanTask, ProcessVersion, Timer, WorkflowInstance
from .signals import instance_advanced

log = logging.getLogger(__name__)


def latest_version(process_key: str) -> ProcessVersion | None:
    return db.session.scalar(
        db.select(ProcessVersion)
        .where(ProcessVersion.process_key == process_key)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )


def startable_versions() -> list[ProcessVersion]:
    """The latest version of every process that can start a case."""
    newest = (
        db.select(ProcessVersion.process_key, db.func.max(ProcessVersion.version).label("version"))
        .group_by(ProcessVersion.process_key)
        .subquery()
    )
    return list(db.session.scalars(
        db.select(ProcessVersion)
        .join(newest, (ProcessVersion.process_key == newest.c.process_key)
              & (ProcessVersion.version == newest.c.version))
        .where(ProcessVersion.is_startable)
        .order_by(ProcessVersion.name)
    ))


def user_task_titles() -> list[tuple[str, str]]:
    """(bpmn id, name) of every user task of the latest startable processes and what they call."""
    engine, titles = get_engine(), {}
    for version in startable_versions():
        for info in engine.user_tasks(version.cache_key, lambda v=version: v.spec_json):
            titles.setdefault(info.bpmn_id, info.name)
    return sorted(titles.items(), key=lambda item: item[1])


def start_instance(version: ProcessVersion, office_id: int, started_by_id: int | None) -> WorkflowInstance:
    """Create an instance of a process version and run it up to its first wait.

    The diagram's code runs before the instance row is written, so no database write lock is held while it
    runs; code that fails or breaks its budget leaves nothing behind.
    """
    workflow = get_engine().new_workflow(version.cache_key, lambda: version.spec_json)
    with running(office_id=office_id, user_id=started_by_id):  # no instance (nor case) yet
        fired = _advance(workflow)
    instance = WorkflowInstance(
        process_version=version,
        process_version_id=version.id,
        office_id=office_id,
        started_by_id=started_by_id,
        serializer_version=SERIALIZER_VERSION,
        status="running",
    )
    db.session.add(instance)
    db.session.flush()
    _advance_and_save(instance, workflow, completing=None, fired=fired)
    return instance


def load_workflow(instance: WorkflowInstance):
    version = instance.process_version
    return get_engine().load(version.cache_key, lambda: version.spec_json, instance.state_json,
                             instance.serializer_version)


def task_data(human_task: HumanTask) -> dict:
    """A copy of the data the human task sees, for the few forms that take their options from it (SpiffArena's
    options_from_task_data_var); the workflow state is deserialized only for those."""
    return get_engine().task_data(_load_or_fail(human_task.instance), human_task.task_id) or {}


def complete_user_task(human_task: HumanTask, data: dict, actor_id: int, before=None) -> WorkflowInstance:
    """Run one user task with form data, advance the workflow and project; flushes, never commits.

    before(task_data) -> dict, if given, runs first with a copy of the data the task sees (a domain
    action); what it returns is added to the data given to the workflow.
    """
    instance = human_task.instance
    workflow = _load_or_fail(instance)
    if before is not None:
        data = {**data, **(before(get_engine().task_data(workflow, human_task.task_id)) or {})}
    with running(instance, user_id=actor_id):  # connectors and get_current_user() see who completes it
        try:
            get_engine().complete_user_task(workflow, human_task.task_id, data)
        except EngineError as exc:
            raise DomainError(_("No se pudo completar la tarea: %(error)s", error=str(exc))) from exc
        _advance_and_save(instance, workflow, completing=(human_task.task_id, actor_id))
    return instance


def deliver_message(instance: WorkflowInstance, name: str, payload: dict | None = None) -> WorkflowInstance:
    """Deliver a named event (a BPMN signal) to the catch event the instance waits at, then the one loop:
    advance, project, save. Refuses with a Spanish message when the instance does not wait for it."""
    workflow = _load_or_fail(instance)
    with running(instance):
        try:
            get_engine().deliver_signal(workflow, name, payload)
        except EngineError as exc:
            raise DomainError(_("El proceso de este caso no puede recibir este evento: %(error)s",
                                error=str(exc))) from exc
        _advance_and_save(instance, workflow, completing=None)
    return instance


def waiting_signals(instance: WorkflowInstance) -> list[str]:
    """The signals the instance waits for now (loads the instance: for one case's page, never for lists)."""
    if instance.status == "completed":
        return []
    return get_engine().waiting_signals(_load_or_fail(instance))


def run_instance(instance: WorkflowInstance) -> WorkflowInstance:
    """Advance an instance without user input (due timers, repairs)."""
    workflow = _load_or_fail(instance)
    with running(instance):  # no user: get_current_user() is None in scheduler runs
        _advance_and_save(instance, workflow, completing=None)
    return instance


def due_instance_ids(now: datetime, limit: int = 500) -> list[int]:
    """Instances with a timer due at or before now, by the indexed due_at column only."""
    return list(db.session.scalars(
        db.select(Timer.instance_id).where(Timer.due_at <= now).group_by(Timer.instance_id)
        .order_by(db.func.min(Timer.due_at)).limit(limit)
    ))


def flush_or_conflict():
    """Flush, turning a lost optimistic-lock race into a clear Conflict."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict(_("Otra persona modificó este caso al mismo tiempo. Vuelva a abrir la tarea "
                         "para ver su estado actual.")) from exc


def _load_or_fail(instance):
    try:
        return load_workflow(instance)
    except EngineError as exc:
        raise DomainError(_("No se pudo cargar el proceso: %(error)s", error=str(exc))) from exc


def _advance(workflow):
    try:
        return get_engine().advance(workflow)
    except EngineError as exc:
        raise DomainError(_("El proceso no pudo avanzar: %(error)s", error=str(exc))) from exc


def _advance_and_save(instance: WorkflowInstance, workflow, completing, fired=None):
    engine = get_engine()
    if fired is None:
        fired = _advance(workflow)
    ready = engine.ready_user_tasks(workflow)
    now = clock.now()
    _project_human_tasks(instance, workflow, ready, completing, now)
    _project_timers(instance, workflow)
    finished = engine.is_completed(workflow)
    instance.state_json = engine.dump(workflow)
    instance.updated_at = now
    if finished and instance.status != "completed":
        instance.status = "completed"
        instance.completed_at = now
    instance_advanced.send(instance, ready=ready, completed=finished, fired_timers=fired,
                           waiting_statuses=[] if finished else engine.waiting_statuses(workflow))
    flush_or_conflict()


def _project_human_tasks(instance, workflow, ready, completing, now):
    open_rows = {
        row.task_id: row
        for row in db.session.scalars(
            db.select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None))
        )
    }
    ready_ids = {task.id for task in ready}
    for task_id, row in open_rows.items():
        row.case_id = instance.case_id
        row.office_id = instance.office_id
        if task_id in ready_ids:
            continue
        row.completed_at = now
        if completing and completing[0] == task_id:
            row.completed_by_id, row.outcome = completing[1], "completed"
        else:
            row.outcome = "cancelled"
    for task in ready:
        if task.id in open_rows:
            continue
        db.session.add(HumanTask(
            instance_id=instance.id,
            case_id=instance.case_id,
            task_id=task.id,
            task_spec=task.info.bpmn_id,
            title=task.info.name[:200],
            lane=task.info.lane,
            role=role_for_lane(task.info.lane),
            office_id=instance.office_id,
            form_file=task.info.form,
            created_at=now,
            due_at=_due_at(workflow, task, now),
        ))


def _due_at(workflow, task, now):
    """Deadline from the task's 'deadline' property: an ISO duration, or an expression giving one."""
    deadline = (task.info.deadline or "").strip()
    if not deadline:
        return None
    try:
        value = deadline if deadline.upper().startswith("P") else get_engine().evaluate(workflow, task.id, deadline)
        if isinstance(value, str) and value.upper().startswith("P"):
            return now + parse_duration(value)
        moment = datetime.fromisoformat(str(value))  # an instant with its offset (09:00-06:00) is stored as UTC
        return moment.astimezone(UTC) if moment.tzinfo else clock.as_utc(moment)
    except Exception as exc:
        log.warning("deadline %r of task %s could not be computed: %s", deadline, task.info.bpmn_id, exc)
        return None


def _project_timers(instance, workflow):
    db.session.execute(db.delete(Timer).where(Timer.instance_id == instance.id))
    for timer in get_engine().waiting_timers(workflow):
        db.session.add(Timer(instance_id=instance.id, task_id=timer.task_id, bpmn_id=timer.bpmn_id[:100],
                             name=timer.name[:200], event_type=timer.event_type, due_at=timer.due_at))
