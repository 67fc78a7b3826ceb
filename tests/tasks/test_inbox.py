"""The inbox officers live in: views and counts, claiming and assignment, drafts, filters, supervision."""
import re
from datetime import timedelta

import pytest

from app.cases.models import Case, CaseEvent
from app.core import clock
from app.extensions import db
from app.tasks.models import TaskDraft
from app.workflow.models import HumanTask
from tests.conftest import flashes
from tests.helpers import (
    EVALUACION_REMITIR,
    EVALUACION_SIN_REMISION,
    REGISTRO,
    case_of,
    register_case,
    single_open_task,
    start_case,
    submit,
)


def _ids(client, **args):
    html = client.get("/tareas/", query_string=args).get_data(as_text=True)
    db.session.expire_all()
    return {t.id for t in db.session.scalars(db.select(HumanTask).where(HumanTask.completed_at.is_(None)))
            if f'href="/tareas/{t.id}"' in html}


def test_new_steps_go_to_the_case_officer_and_an_intake_to_whoever_started_it(login, users):
    officer, colleague = login("oficial.tap"), login("oficial2.tap")
    instance = register_case(officer)
    task = single_open_task(instance_id=instance.id)
    assert task.assignee_id == users["oficial.tap"].id and task.category_code == "RET"
    assert task.id in _ids(officer, vista="mias") and task.id not in _ids(colleague, vista="oficina")
    intake = start_case(colleague)  # not registered yet: no case, but the one who started it keeps it
    assert intake.assignee_id == users["oficial2.tap"].id and intake.id in _ids(colleague, vista="mias")
    assert intake.id not in _ids(officer, vista="oficina")
    assert colleague.post(f"/tareas/{task.id}", data=EVALUACION_SIN_REMISION).status_code == 403


def test_priority_follows_the_risk_and_sorts_the_queue(login):
    officer = login("oficial.tap")
    low, high = register_case(officer), register_case(officer, dni="0801199012345", nombres="Otra")
    submit(officer, single_open_task(instance_id=low.id), EVALUACION_SIN_REMISION)
    submit(officer, single_open_task(instance_id=high.id), {**EVALUACION_REMITIR, "nivel_riesgo": "critico"})
    low_task, high_task = single_open_task(instance_id=low.id), single_open_task(instance_id=high.id)
    assert (low_task.priority, high_task.priority) == (1, 4)
    html = officer.get("/tareas/").get_data(as_text=True)
    assert html.index(f'href="/tareas/{high_task.id}"') < html.index(f'href="/tareas/{low_task.id}"')
    assert _ids(officer, riesgo="critico") == {high_task.id}


def test_claim_release_and_a_claim_of_a_task_someone_else_holds(login, users):
    officer, colleague, consul = login("oficial.tap"), login("oficial2.tap"), login("consul.tap")
    intake = start_case(officer)
    officer.post(f"/tareas/{intake.id}/devolver")  # given back: offered to the office
    db.session.expire_all()
    assert db.session.get(HumanTask, intake.id).assignee_id is None
    colleague.post(f"/tareas/{intake.id}/tomar")
    db.session.expire_all()
    assert db.session.get(HumanTask, intake.id).assignee_id == users["oficial2.tap"].id
    refused = officer.post(f"/tareas/{intake.id}/tomar", follow_redirects=True)
    assert any("ya la tomó" in f for f in flashes(refused.get_data(as_text=True)))
    assert officer.post(f"/tareas/{intake.id}", data=REGISTRO).status_code == 403  # not the assignee
    db.session.expire_all()
    assert db.session.get(HumanTask, intake.id).assignee_id == users["oficial2.tap"].id
    assert officer.post(f"/tareas/{intake.id}/devolver").status_code == 403
    consul.post(f"/tareas/{intake.id}/devolver")  # a supervisor may give it back
    db.session.expire_all()
    assert db.session.get(HumanTask, intake.id).assignee_id is None
    submit(consul, intake, REGISTRO)  # and a supervisor may complete any task of the office


def test_supervisor_assigns_tasks_and_cases_and_the_timeline_says_so(login, users):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer)
    case, task = case_of(instance), single_open_task(instance_id=instance.id)
    houston = users["oficial.hou"].id
    bad = consul.post(f"/tareas/{task.id}/asignar", data={"usuario": houston}, follow_redirects=True)
    assert any("Elija un oficial activo de la oficina." in f for f in flashes(bad.get_data(as_text=True)))
    consul.post(f"/tareas/{task.id}/asignar", data={"usuario": users["oficial2.tap"].id})
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id == users["oficial2.tap"].id
    consul.post(f"/casos/{case.id}/asignar", data={"usuario": users["oficial.tap"].id})
    db.session.expire_all()
    assert db.session.get(Case, case.id).assigned_officer_id == users["oficial.tap"].id
    assert db.session.get(HumanTask, task.id).assignee_id == users["oficial.tap"].id  # open tasks follow the case
    titles = db.session.scalars(db.select(CaseEvent.title).where(CaseEvent.case_id == case.id)).all()
    assert any("asignada a" in t for t in titles) and any("Caso asignado a" in t for t in titles)
    assert officer.post(f"/casos/{case.id}/asignar", data={"usuario": users["oficial2.tap"].id}).status_code == 403


def test_draft_is_kept_shown_again_and_discarded_on_completion(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    task = single_open_task(instance_id=instance.id)
    response = officer.post(f"/tareas/{task.id}/borrador", data={"observaciones": "Falta hablar con la madre",
                                                                  "necesidades": ["salud", "alojamiento"]})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).completed_at is None
    page = officer.get(f"/tareas/{task.id}").get_data(as_text=True)
    assert "Falta hablar con la madre" in page
    assert re.search(r'<input checked[^>]*value="salud"', page)
    assert not re.search(r'<input checked[^>]*value="otra"', page)
    assert 'data-testid="draft-note"' in page
    submit(officer, task, EVALUACION_SIN_REMISION)
    assert db.session.scalar(db.select(db.func.count(TaskDraft.id))) == 0
    assert login("oficial.hou").post(f"/tareas/{task.id}/borrador", data={"x": "y"}).status_code == 403


def test_overdue_tasks_are_counted_and_marked(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    task = single_open_task(instance_id=instance.id)
    assert officer.get("/tareas/").get_data(as_text=True).count('data-testid="overdue-count"') == 0
    clock.travel(timedelta(days=3))  # the assessment is due in 2 days
    officer = login("oficial.tap")  # three idle days ended the session
    html = officer.get("/tareas/", query_string={"vista": "vencidas"}).get_data(as_text=True)
    assert f'href="/tareas/{task.id}"' in html and "Vencida" in html
    assert re.search(r'data-testid="overdue-count"[^>]*>1<', html)


@pytest.mark.parametrize("args,message", [
    ({"vista": "todo"}, "Vista no válida"),
    ({"riesgo": "extremo"}, "Valor no válido"),
    ({"categoria": "XYZ"}, "Categoría desconocida"),
    ({"oficina": "3"}, "Solo los usuarios centrales"),
    ({"orden": "'; DROP TABLE"}, "Valor no válido"),
    ({"tipo": "<script>"}, "Tipo de tarea no válido"),
])
def test_invalid_filters_are_explained_and_ignored(login, args, message):
    response = login("oficial.tap").get("/tareas/", query_string=args)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_filters_and_sort_live_in_the_url_and_a_page_past_the_end_shows_the_last(login):
    officer = login("oficial.tap")
    register_case(officer)
    html = officer.get("/tareas/", query_string={"vista": "mias", "categoria": "RET", "orden": "vence",
                                                 "pagina": "999"}).get_data(as_text=True)
    assert "Evaluación de necesidades y riesgos" in html and "1 tarea" in html
    assert 'value="RET" selected' in html and 'value="vence" selected' in html
    assert "categoria=RET" in html  # the tabs keep the filters


def test_central_user_filters_by_office_and_supervisors_see_all_office_tasks(login, users):
    instance = register_case(login("oficial.tap"))
    houston = register_case(login("oficial.hou"), dni="0801199012345", nombres="Delmy", primer_apellido="Flores",
                            segundo_apellido="")
    tap_task, hou_task = single_open_task(instance_id=instance.id), single_open_task(instance_id=houston.id)
    assert {tap_task.id, hou_task.id} <= _ids(login("analista"), vista="todas")
    tap_office = users["oficial.tap"].office_id
    assert _ids(login("analista"), vista="todas", oficina=tap_office) == {tap_task.id}
    assert _ids(login("consul.tap"), vista="todas") == {tap_task.id}
    assert login("oficial.tap").get("/tareas/", query_string={"vista": "todas"}).status_code == 400


def test_supervision_view(login, users):
    officer = login("oficial.tap")
    instance = register_case(officer)
    start_case(officer)
    page = login("consul.tap").get("/tareas/supervision")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and users["oficial.tap"].full_name in html
    assert "Evaluación de necesidades y riesgos" in html and "Registro del caso" in html
    assert case_of(instance).number in html
    assert login("oficial.tap").get("/tareas/supervision").status_code == 403
    central = login("analista").get("/tareas/supervision", query_string={"oficina": users["oficial.tap"].office_id})
    assert central.status_code == 200 and users["oficial.tap"].full_name in central.get_data(as_text=True)
