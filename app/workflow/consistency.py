"""Consistency check of the engine's projections: the open human_tasks rows of an instance must be exactly the
READY user tasks of its stored workflow state, and its timer rows exactly the armed timers (same task ids, same
due times). Read-only; `flask siproc check` runs it with the statistics check (app/stats/facts.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..core import clock
from ..extensions import db
from .engine import EngineError, get_engine
from .models import HumanTask, Timer, WorkflowInstance
from .services import load_workflow

BATCH = 200


@dataclass
class Difference:
    kind: str  # human_task, timer, case_fact, state
    instance_id: int | None
    detail: str

    def __str__(self) -> str:
        where = f"instancia {self.instance_id}" if self.instance_id is not None else "estadísticas"
        return f"[{self.kind}] {where}: {self.detail}"


def check_instances(instance_ids=None) -> list[Difference]:
    """Compare the human_tasks and timers projections of these instances (default: all) with their state."""
    engine = get_engine()
    differences: list[Difference] = []
    query = sa.select(WorkflowInstance.id).order_by(WorkflowInstance.id)
    if instance_ids is not None:
        query = query.where(WorkflowInstance.id.in_(list(instance_ids)))
    ids = list(db.session.scalars(query))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        open_tasks: dict[int, set[str]] = {i: set() for i in chunk}
        for instance_id, task_id in db.session.execute(
                sa.select(HumanTask.instance_id, HumanTask.task_id)
                .where(HumanTask.instance_id.in_(chunk), HumanTask.completed_at.is_(None))):
            open_tasks[instance_id].add(task_id)
        timers: dict[int, dict[str, object]] = {i: {} for i in chunk}
        for instance_id, task_id, due_at in db.session.execute(
                sa.select(Timer.instance_id, Timer.task_id, Timer.due_at).where(Timer.instance_id.in_(chunk))):
            timers[instance_id][task_id] = clock.as_utc(due_at)
        loaded = list(db.session.scalars(sa.select(WorkflowInstance).where(WorkflowInstance.id.in_(chunk))))
        for instance in loaded:
            try:
                workflow = load_workflow(instance)
            except EngineError as exc:
                differences.append(Difference("state", instance.id, f"el estado no se puede leer: {exc}"))
                continue
            ready = {task.id for task in engine.ready_user_tasks(workflow)}
            stored = open_tasks[instance.id]
            for task_id in sorted(ready - stored):
                differences.append(Difference("human_task", instance.id, f"falta la tarea pendiente {task_id}"))
            for task_id in sorted(stored - ready):
                differences.append(Difference("human_task", instance.id,
                                              f"tarea {task_id} abierta en la bandeja pero no pendiente en el estado"))
            armed = {t.task_id: clock.as_utc(t.due_at) for t in engine.waiting_timers(workflow)}
            differences += _timer_differences(instance.id, armed, timers[instance.id])
        for instance in loaded:  # keep memory flat over large tables
            db.session.expunge(instance)
    return differences


def _timer_differences(instance_id, armed: dict, stored: dict) -> list[Difference]:
    found = []
    for task_id in sorted(set(armed) | set(stored)):
        want, have = armed.get(task_id), stored.get(task_id)
        if want is None:
            found.append(Difference("timer", instance_id, f"temporizador {task_id} sobrante"))
        elif have is None:
            found.append(Difference("timer", instance_id, f"falta el temporizador {task_id}"))
        elif abs((want - have).total_seconds()) >= 1:
            found.append(Difference("timer", instance_id,
                                    f"temporizador {task_id}: vence {have}, el estado dice {want}"))
    return found


