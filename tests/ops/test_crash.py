"""Crash safety: a process killed with SIGKILL in the middle of a task completion, or of a timer sweep, leaves no
half-written case, no lost timer and no duplicate reminder once work resumes.

The victim is a real separate process on the same database (SQLite file or PostgreSQL clone). It is stopped at
the worst moment — its changes flushed to the database inside the open transaction, not yet committed — by a
listener that writes a marker file and sleeps; the test then kills it with SIGKILL (no cleanup code runs).
"""
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

from app.cases.models import Case, CaseEvent, Referral
from app.core import clock
from app.extensions import db
from app.notifications.models import Notification
from app.stats.facts import differences
from app.workflow.consistency import check_instances
from app.workflow.models import HumanTask, Timer, WorkflowInstance
from tests.helpers import EVALUACION_REMITIR, register_case, single_open_task
from tests.scheduler.test_sweep import at_follow_up

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import os, sys, time
from datetime import timedelta
from sqlalchemy import event
from sqlalchemy.orm import Session
from tests.conftest import PASSWORD, make_app
from app.core import clock
from app.extensions import db

database, instance_path, marker = sys.argv[1], sys.argv[2], sys.argv[3]
app = make_app(database, instance_path)

def stop_here():
    with open(marker, "w") as fh:
        fh.write(str(os.getpid()))
    time.sleep(120)  # the test kills us here
"""

COMPLETE_TASK = PRELUDE + """
from app.workflow.models import HumanTask
task_id = int(sys.argv[4])

@event.listens_for(Session, "after_flush")
def _pause(session, _ctx):
    if any(isinstance(o, HumanTask) and o.completed_at is not None for o in session.dirty):
        stop_here()

with app.app_context():
    client = app.test_client()
    assert client.post("/login", data={"username": "oficial.tap", "password": PASSWORD}).status_code == 302
    client.post(f"/tareas/{task_id}", data=dict(arg.split("=", 1) for arg in sys.argv[5:]))
"""

SWEEP = PRELUDE + """
from app.notifications.models import Notification
from app.scheduler.sweep import run_sweep
clock.travel(timedelta(days=7, minutes=5))
state = {"first_done": False}

def after_instance(_instance_id):
    state["first_done"] = True

@event.listens_for(Session, "after_flush")
def _pause(session, _ctx):
    if state["first_done"] and any(isinstance(o, Notification) for o in session.new):
        stop_here()

with app.app_context():
    run_sweep(holder="victim", after_instance=after_instance)
"""


def _kill_when_paused(script: str, args: list[str], tmp_path: Path) -> None:
    marker = tmp_path / "paused"
    program = tmp_path / "victim.py"
    program.write_text(textwrap.dedent(script))
    process = subprocess.Popen([sys.executable, str(program), *args[:2], str(marker), *args[2:]], cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not marker.exists():
        if process.poll() is not None:
            output = process.stdout.read().decode()
            process.stdout.close()
            raise AssertionError("the victim ended before the pause point:\n" + output)
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            process.stdout.close()
            raise AssertionError("the victim never reached the pause point")
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    process.stdout.close()


def _database(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]


def _form(data: dict) -> list[str]:
    args = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            args.append(f"{key}={'y' if item is True else item}")
    return args


def _snapshot(instance_id):
    db.session.expire_all()
    instance = db.session.get(WorkflowInstance, instance_id)
    return {
        "lock": instance.lock_version, "state": instance.state_json, "updated": instance.updated_at,
        "open": sorted((t.id, t.task_spec) for t in db.session.scalars(
            db.select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.completed_at.is_(None)))),
        "tasks": db.session.scalar(db.select(db.func.count()).select_from(HumanTask)),
        "case": db.session.execute(db.select(Case.status, Case.risk_level).where(Case.id == instance.case_id)).one(),
        "events": db.session.scalar(db.select(db.func.count()).select_from(CaseEvent)),
        "referrals": db.session.scalar(db.select(db.func.count()).select_from(Referral)),
        "timers": sorted(db.session.execute(db.select(Timer.task_id, Timer.due_at)).all()),
    }


def test_a_worker_killed_mid_completion_leaves_the_case_as_it_was(app, login, tmp_path):
    officer = login("oficial.tap")
    instance = register_case(officer)
    task = single_open_task(instance_id=instance.id)
    db.session.commit()
    before = _snapshot(instance.id)

    _kill_when_paused(COMPLETE_TASK, [_database(app), str(tmp_path), str(task.id), *_form(EVALUACION_REMITIR)],
                      tmp_path)

    assert _snapshot(instance.id) == before  # nothing of the half-done completion is visible
    assert check_instances() == [] and differences() == []
    # Work resumes: the same officer completes the same task, once.
    response = officer.post(f"/tareas/{task.id}", data=EVALUACION_REMITIR)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).completed_at is not None
    assert single_open_task(instance_id=instance.id).task_spec == "Task_remision"
    assert check_instances() == []


def test_a_scheduler_killed_mid_sweep_loses_no_timer_and_sends_no_reminder_twice(app, login, tmp_path):
    first = at_follow_up(login)
    second = at_follow_up(login, dni="0801199012345", nombres="Otra", primer_apellido="Persona",
                          fecha_nacimiento="1970-01-01")
    db.session.commit()
    armed = sorted(db.session.scalars(db.select(Timer.instance_id)))
    assert armed == sorted([first.id, second.id])

    _kill_when_paused(SWEEP, [_database(app), str(tmp_path)], tmp_path)

    db.session.expire_all()
    reminders = db.session.scalars(db.select(Notification).where(Notification.kind == "recordatorio")).all()
    assert len(reminders) == 1  # the first instance's sweep committed; the second's was cut off
    assert check_instances() == []  # its timer is still armed: not lost, not half-fired
    # The restarted scheduler (after the dead one's lease ran out) fires what is left, once.
    from app.scheduler.sweep import run_sweep

    clock.travel(timedelta(days=7, minutes=5) + timedelta(seconds=app.config["SWEEP_LEASE_SECONDS"] + 1))
    assert run_sweep(holder="restarted").fired == 1
    assert run_sweep(holder="restarted").fired == 0
    db.session.expire_all()
    reminders = db.session.scalars(db.select(Notification).where(Notification.kind == "recordatorio")).all()
    assert sorted(n.case_id for n in reminders) == sorted([first.case_id, second.case_id])  # one per case
    assert check_instances() == []
