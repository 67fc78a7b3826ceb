"""The engine loop: start, complete, projections equal stored state, timers, locking, runtime sandbox."""
import json
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.core import clock
from app.core.errors import DomainError
from app.extensions import db
from app.scheduler.sweep import run_sweep
from app.workflow import services
from app.workflow.deploy import deploy_files
from app.workflow.engine import get_engine
from app.workflow.models import HumanTask, Timer, WorkflowInstance
from tests.helpers import (
    ATENCION,
    EVALUACION_SIN_REMISION,
    register_case,
    single_open_task,
    submit,
)

from .diagrams import FORMS, mini


def test_start_projects_the_first_user_task(app, users):
    officer = users["oficial.tap"]
    instance = services.start_instance(services.latest_version("proteccion_consular"), officer.office_id, officer.id)
    task = single_open_task(instance_id=instance.id)
    assert (task.title, task.role, task.lane, task.office_id) == (
        "Registro del caso", "oficial", "Oficial consular", officer.office_id)
    assert task.form_file == "registro_caso.json"
    assert clock.as_utc(task.due_at) - clock.as_utc(task.created_at) == timedelta(hours=8)


def assert_projection_matches_state(instance_id):
    """Every projection row equals what the stored workflow state says."""
    db.session.rollback()
    instance = db.session.get(WorkflowInstance, instance_id)
    workflow = services.load_workflow(instance)
    engine = get_engine()
    ready = {t.id: t.info.bpmn_id for t in engine.ready_user_tasks(workflow)}
    rows = db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                         HumanTask.completed_at.is_(None))).all()
    assert {r.task_id: r.task_spec for r in rows} == ready
    timers = {(t.task_id, clock.as_utc(t.due_at)) for t in db.session.scalars(
        db.select(Timer).where(Timer.instance_id == instance_id))}
    assert timers == {(t.task_id, t.due_at) for t in engine.waiting_timers(workflow)}
    return workflow


def test_projections_equal_stored_state_along_the_process(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    assert_projection_matches_state(instance.id)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_SIN_REMISION)
    assert_projection_matches_state(instance.id)
    submit(officer, single_open_task(instance_id=instance.id), ATENCION)
    workflow = assert_projection_matches_state(instance.id)
    assert "Task_atencion" in get_engine().completed_bpmn_ids(workflow)


def test_timer_row_appears_when_follow_up_is_armed_and_fires_once_a_week(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    assert db.session.scalar(db.select(db.func.count(Timer.id))) == 0
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_SIN_REMISION)
    submit(officer, single_open_task(instance_id=instance.id), ATENCION)
    timer = db.session.scalar(db.select(Timer).where(Timer.instance_id == instance.id))
    assert timer is not None and timer.event_type == "CycleTimerEventDefinition"  # "R/P7D": every week
    first_due = clock.as_utc(timer.due_at)
    assert abs(first_due - (clock.now() + timedelta(days=7))) < timedelta(minutes=1)

    clock.travel(timedelta(days=6, hours=23))
    assert run_sweep().fired == 0
    assert db.session.scalar(db.select(db.func.count(Timer.id))) == 1

    clock.travel(timedelta(hours=2))
    assert run_sweep().fired == 1
    db.session.rollback()
    rearmed = db.session.scalar(db.select(Timer).where(Timer.instance_id == instance.id))
    assert abs(clock.as_utc(rearmed.due_at) - first_due - timedelta(days=7)) < timedelta(seconds=1)
    follow_up = single_open_task(instance_id=instance.id)
    assert follow_up.title == "Seguimiento"  # non-interrupting: the task stays open
    assert_projection_matches_state(instance.id)
    assert run_sweep().fired == 0  # not again before next week


def test_second_of_two_concurrent_completions_gets_a_conflict(app, users):
    deploy_files({"mini.bpmn": mini()}, FORMS)
    officer = users["oficial.tap"]
    instance = services.start_instance(services.latest_version("mini"), officer.office_id, officer.id)
    db.session.commit()
    task_id = single_open_task(instance_id=instance.id).id

    first, second = db.session, Session(db.engine)  # two workers
    task_a = first.get(HumanTask, task_id)
    task_b = second.get(HumanTask, task_id)
    assert task_b.instance.process_version is not None  # loaded before the first commit
    services.complete_user_task(task_a, {"valor": 3}, officer.id)
    first.commit()

    with pytest.raises(DomainError) as refused:  # a Conflict, or "no longer pending" when it read the new state
        _complete_in(second, task_b, officer.id)
    assert "mismo tiempo" in refused.value.message or "ya no está pendiente" in refused.value.message
    second.rollback()
    second.close()
    db.session.rollback()
    assert db.session.get(WorkflowInstance, instance.id).status == "completed"


def _complete_in(session, task, actor_id):
    """complete_user_task against another session (a second worker)."""
    from unittest import mock

    with mock.patch.object(db, "session", session):
        services.complete_user_task(task, {"valor": 50}, actor_id)
        services.flush_or_conflict()


def test_script_and_condition_run_in_the_restricted_evaluator(app, users):
    deploy_files({"mini.bpmn": mini()}, FORMS)
    officer = users["oficial.tap"]
    instance = services.start_instance(services.latest_version("mini"), officer.office_id, officer.id)
    services.complete_user_task(single_open_task(instance_id=instance.id), {"valor": 7}, officer.id)
    workflow = services.load_workflow(instance)
    assert "End_big" in get_engine().completed_bpmn_ids(workflow)


@pytest.mark.parametrize("script", [
    "__import__('os').system('id')",
    "x = ().__class__.__bases__[0].__subclasses__()",
    "x = open('/etc/passwd').read()",
])
def test_escapes_are_refused_at_run_time_too(app, users, script):
    """A diagram that got past deploy (parsed without lint) still cannot escape when it runs."""
    engine = get_engine()
    parsed = engine.parse({"mini.bpmn": mini(script=script.replace("'", "&apos;"))})[0]
    workflow = engine.new_workflow(("mini-escape", script), parsed.spec_json)
    engine.advance(workflow)
    task = engine.ready_user_tasks(workflow)[0]
    with pytest.raises(Exception) as refused:
        engine.complete_user_task(workflow, task.id, {"valor": 1})
        engine.advance(workflow)
    assert "no está permitid" in str(refused.value)


def test_engine_error_in_a_submit_saves_nothing(app, users):
    deploy_files({"mini.bpmn": mini(script="doble = valor / 0")}, FORMS)
    officer = users["oficial.tap"]
    instance = services.start_instance(services.latest_version("mini"), officer.office_id, officer.id)
    db.session.commit()
    before = instance.state_json
    with pytest.raises(DomainError) as refused:
        services.complete_user_task(single_open_task(instance_id=instance.id), {"valor": 1}, officer.id)
    assert "Calcular" in refused.value.message
    db.session.rollback()
    assert db.session.get(WorkflowInstance, instance.id).state_json == before
    assert json.loads(before)["tasks"]
