"""Timer sweep benchmark: 100,000 instances waiting on timers; the sweep with 0 due and with 1,000 due.

Goals: the 0-due sweep under 20 ms; the 1,000-due sweep within 1.5 x (1,000 x the per-instance engine
loop cost measured in the same run). One real case is driven to its follow-up step through the forms;
its stored state (encrypted, as in production) is cloned for the instances the sweep must run, and the
others get timer rows far in the future (the sweep must never load them).
"""
import statistics
import time
from datetime import timedelta

import sqlalchemy as sa

from app.cases.models import Case
from app.core import clock, crypto
from app.extensions import db
from app.workflow.models import HumanTask, Timer, WorkflowInstance

from .report import Section, percentile, table, verdict
from .seed import PASSWORD, insert_rows, next_id, raw_table

WAITING, DUE, LOOP_SAMPLES, EMPTY_SWEEPS = 100_000, 1_000, 50, 30
GOAL_EMPTY_MS, GOAL_RATIO = 20.0, 1.5


def run(workspace) -> Section:
    path = workspace.folder / "timers.db"
    from .seed import copy_database

    copy_database(workspace.template(), path)
    app = workspace.app(path)
    section = Section("Timer sweep (scheduler)")
    with app.app_context():
        started = time.perf_counter()
        model = _case_at_follow_up(app)
        _clone(model, due=DUE + LOOP_SAMPLES, waiting=WAITING - DUE - LOOP_SAMPLES)
        db.session.commit()
        seeded = time.perf_counter() - started
        workspace.log(f"  seeded {WAITING:,} waiting instances in {seeded:.1f} s")
        from app.scheduler.sweep import run_sweep

        empty = []
        for _ in range(EMPTY_SWEEPS + 3):
            begun = time.perf_counter()
            result = run_sweep()
            empty.append((time.perf_counter() - begun) * 1000)
            assert result.fired == 0, result
        empty = empty[3:]
        clock.travel(timedelta(days=7, hours=1))
        loop_ms = _engine_loop_cost(LOOP_SAMPLES)
        begun = time.perf_counter()
        result = run_sweep(limit=DUE)
        due_ms = (time.perf_counter() - begun) * 1000
        clock.reset()
        counts = {"instances": db.session.scalar(sa.select(sa.func.count()).select_from(WorkflowInstance)),
                  "timer rows": db.session.scalar(sa.select(sa.func.count()).select_from(Timer))}
    expected = DUE * loop_ms
    ratio = due_ms / expected
    empty_p95 = percentile(empty, 95)
    section.misses = int(empty_p95 > GOAL_EMPTY_MS) + int(ratio > GOAL_RATIO)
    section.add(f"data: {counts['instances']:,} instances, {counts['timer rows']:,} timer rows; "
                f"{DUE:,} due in the second sweep (fired {result.fired}, failed {result.failed}, "
                f"notices {result.notices}); seeded in {seeded:.1f} s")
    section.add(table(["figure", "value", "goal", "result"], [
        ["sweep, 0 due: median ms", f"{statistics.median(empty):.2f}", "", ""],
        ["sweep, 0 due: p95 ms", f"{empty_p95:.2f}", f"<= {GOAL_EMPTY_MS:.0f}", verdict(empty_p95 <= GOAL_EMPTY_MS)],
        ["engine loop per instance (load, fire, project, save, commit): median ms", f"{loop_ms:.2f}", "", ""],
        [f"sweep, {DUE:,} due: ms", f"{due_ms:.0f}", "", ""],
        [f"  / ({DUE:,} x engine loop)", f"{ratio:.2f}", f"<= {GOAL_RATIO}", verdict(ratio <= GOAL_RATIO)],
    ]))
    return section


def _case_at_follow_up(app):
    """One case registered, assessed and assisted through the real forms: its follow-up timer is armed."""
    from app.auth.services import create_user
    from app.reference.models import Office
    from app.tasks.services import submit_values
    from app.workflow import services as workflow

    office = db.session.scalar(sa.select(Office).where(Office.code == "TAP"))
    officer = create_user("bench.timers", "Oficial de pruebas", PASSWORD, "oficial", office)
    version = workflow.latest_version("proteccion_consular")
    with app.test_request_context():
        instance = workflow.start_instance(version, office.id, officer.id)
        steps = [
            {"categoria": "RET", "nombres": "Persona", "primer_apellido": "Ficticia", "sexo": "M",
             "pais_ubicacion": "MX", "relato": "Caso de prueba para medir el planificador."},
            {"necesidades": ["documentacion"], "nivel_riesgo": "medio", "requiere_remision": False},
            {"tipo_asistencia": "documentacion", "fecha_atencion": "2026-11-20", "descripcion": "Salvoconducto."},
        ]
        for values in steps:
            task = db.session.scalar(sa.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                                HumanTask.completed_at.is_(None)))
            submit_values(officer, task, values)
    db.session.commit()
    return instance.id


def _rows(model, column, value):
    """Rows as stored (ciphertext kept as is, dates as datetimes) to copy with insert_rows."""
    table = raw_table(model)
    return [dict(row) for row in db.session.execute(sa.select(table).where(table.c[column] == value)).mappings()]


def _clone(instance_id, due, waiting):
    """`due` copies of the real instance (same state, own case and tasks) and `waiting` far-future timers."""
    instance = _rows(WorkflowInstance, "id", instance_id)[0]
    case = _rows(Case, "id", instance["case_id"])[0]
    tasks = _rows(HumanTask, "instance_id", instance_id)
    timer = _rows(Timer, "instance_id", instance_id)[0]
    first_instance, first_case = next_id(WorkflowInstance), next_id(Case)
    first_task, first_timer = next_id(HumanTask), next_id(Timer)
    placeholder = crypto.encrypt("{}")
    instances, cases, human_tasks, timers = [], [], [], []
    for n in range(due + waiting):
        iid = first_instance + n
        is_due = n < due
        row = {**instance, "id": iid, "state_json": instance["state_json"] if is_due else placeholder,
               "case_id": first_case + n, "lock_version": 1}
        instances.append(row)
        cases.append({**case, "id": first_case + n, "number": f"TAP-2025-{n:06d}"})
        if is_due:
            for k, task in enumerate(tasks):
                human_tasks.append({**task, "id": first_task + n * len(tasks) + k, "instance_id": iid,
                                    "case_id": first_case + n})
        due_at = timer["due_at"] if is_due else clock.now() + timedelta(days=30 + n % 300)
        timers.append({**timer, "id": first_timer + n, "instance_id": iid, "due_at": due_at})
    insert_rows(Case, cases)
    insert_rows(WorkflowInstance, instances)
    insert_rows(HumanTask, human_tasks)
    insert_rows(Timer, timers)


def _engine_loop_cost(samples) -> float:
    """Median ms of the one engine loop on due instances not counted in the sweep (each committed)."""
    from app.workflow import services as workflow

    due_ids = db.session.scalars(sa.select(Timer.instance_id).where(Timer.due_at <= clock.now())
                                 .order_by(Timer.instance_id.desc()).limit(samples)).all()
    times = []
    for instance_id in due_ids:
        begun = time.perf_counter()
        workflow.run_instance(db.session.get(WorkflowInstance, instance_id))
        db.session.commit()
        times.append((time.perf_counter() - begun) * 1000)
        db.session.expire_all()
    return statistics.median(times)
