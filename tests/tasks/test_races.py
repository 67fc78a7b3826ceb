"""Two people acting on one task at the same moment: the second never silently overwrites the first."""
import pytest

from app.core import clock
from app.core.errors import Conflict
from app.extensions import db
from app.tasks import assignment
from app.workflow import services as workflow
from app.workflow.models import HumanTask
from tests.conftest import flashes
from tests.helpers import EVALUACION_SIN_REMISION, register_case, single_open_task, start_case


def _meanwhile(task_id, **values):
    """Another request commits a change of the task row between our read and our write."""
    with db.engine.begin() as other:
        other.execute(db.update(HumanTask).where(HumanTask.id == task_id)
                      .values(row_version=HumanTask.row_version + 1, **values))


def test_a_claim_that_lost_the_race_is_a_conflict_not_an_overwrite(app, login, users):
    officer = login("oficial.tap")
    intake = start_case(officer)
    officer.post(f"/tareas/{intake.id}/devolver")
    db.session.expire_all()
    task = db.session.get(HumanTask, intake.id)
    assert task.assignee_id is None
    _meanwhile(task.id, assignee_id=users["oficial2.tap"].id)  # a colleague claimed it a moment ago
    assignment.claim(users["oficial.tap"], task, clock.now())  # we still see it unassigned
    with pytest.raises(Conflict):
        workflow.flush_or_conflict()
    db.session.rollback()
    assert db.session.get(HumanTask, task.id).assignee_id == users["oficial2.tap"].id


def test_the_claim_page_explains_the_race(app, login, users, monkeypatch):
    officer = login("oficial.tap")
    intake = start_case(officer)
    officer.post(f"/tareas/{intake.id}/devolver")
    original = assignment.claim

    def claim_after_a_colleague(user, task, now):
        _meanwhile(task.id, assignee_id=users["oficial2.tap"].id)
        return original(user, task, now)

    monkeypatch.setattr(assignment, "claim", claim_after_a_colleague)
    page = officer.post(f"/tareas/{intake.id}/tomar", follow_redirects=True)
    assert page.status_code in (200, 409)
    assert any("modificó este caso al mismo tiempo" in f for f in flashes(page.get_data(as_text=True)))
    db.session.expire_all()
    assert db.session.get(HumanTask, intake.id).assignee_id == users["oficial2.tap"].id


def test_completing_a_task_someone_just_claimed_is_refused(app, login, users):
    officer = login("oficial.tap")
    instance = register_case(officer)
    task = single_open_task(instance_id=instance.id)
    original = workflow._project_human_tasks

    def project_after_a_claim(instance, wf, ready, completing, now):
        _meanwhile(task.id, assignee_id=users["consul.tap"].id)
        return original(instance, wf, ready, completing, now)

    import unittest.mock as mock

    with mock.patch.object(workflow, "_project_human_tasks", project_after_a_claim):
        response = officer.post(f"/tareas/{task.id}", data=EVALUACION_SIN_REMISION)
    assert response.status_code == 409
    assert "al mismo tiempo" in response.get_data(as_text=True)
    db.session.expire_all()
    fresh = db.session.get(HumanTask, task.id)
    assert fresh.completed_at is None and fresh.assignee_id == users["consul.tap"].id
