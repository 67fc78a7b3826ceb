"""`flask siproc check`: the projections agree with their sources after real work, and every kind of drift
an operator could meet is reported."""
from datetime import timedelta

from app.extensions import db
from app.stats.facts import CaseFact, differences
from app.workflow.consistency import check_instances
from app.workflow.models import HumanTask, Timer
from tests.helpers import EVALUACION_REMITIR, register_case, single_open_task, submit


def _worked(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    return instance


def test_real_work_leaves_no_difference(app, login):
    _worked(login)
    assert check_instances() == [] and differences() == []
    result = app.test_cli_runner().invoke(args=["siproc", "check"])
    assert result.exit_code == 0 and "0 diferencia(s)" in result.output


def test_every_kind_of_drift_is_reported(app, login):
    instance = _worked(login)
    task = single_open_task(instance_id=instance.id)
    task.completed_at = task.created_at  # the inbox lost a pending task
    stray = HumanTask(instance_id=instance.id, task_id="00000000-0000-4000-8000-000000000000", task_spec="X",
                      title="Fantasma", lane="Oficial consular", role="oficial", office_id=task.office_id,
                      created_at=task.created_at)
    db.session.add(stray)
    fact = db.session.get(CaseFact, task.case_id)
    fact.sex = "X" if fact.sex != "X" else "F"
    db.session.flush()
    db.session.execute(db.update(CaseFact).where(CaseFact.case_id == task.case_id).values(department_code="99"))
    db.session.commit()
    found = [str(d) for d in check_instances()]
    assert any(f"falta la tarea pendiente {task.task_id}" in line for line in found)
    assert any("Fantasma" in line or "00000000-0000-4000-8000-000000000000" in line for line in found)
    drift = [line for line in differences() if line.startswith(f"[case_fact] caso {task.case_id}: difiere en ")]
    assert len(drift) == 1, differences()
    assert set(drift[0].split("difiere en ", 1)[1].split(", ")) == {"sex", "department_code"}  # both drifts
    result = app.test_cli_runner().invoke(args=["siproc", "check"])
    assert result.exit_code == 1
    assert drift[0] in result.output and f"falta la tarea pendiente {task.task_id}" in result.output


def test_timer_rows_that_the_state_does_not_hold_are_reported(app, login):
    instance = _worked(login)
    task = single_open_task(instance_id=instance.id)
    db.session.add(Timer(instance_id=instance.id, task_id="11111111-1111-4111-8111-111111111111", name="Falso",
                         event_type="TimerEventDefinition", due_at=task.created_at + timedelta(days=7)))
    db.session.commit()
    assert [str(d) for d in check_instances()] == [
        f"[timer] instancia {instance.id}: temporizador 11111111-1111-4111-8111-111111111111 sobrante"]
