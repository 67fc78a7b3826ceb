"""Where a case is in its process (the case page's diagram) and how many open cases wait at each step
(the supervisors' process view): the right elements, the case's own version, each office's own cases."""
import json
import re

import pytest

from app.extensions import db
from app.workflow.models import WorkflowInstance
from tests.helpers import EVALUACION_REMITIR, register_case, single_open_task, submit

CONFIG = re.compile(r'<script type="application/json" id="viewer-config">(.*?)</script>', re.S)


def viewer_config(html):
    return json.loads(CONFIG.search(html).group(1))


@pytest.fixture
def det_case(login):
    """A detention case: registered and evaluated, now inside the «Privación de libertad» subprocess."""
    officer = login("oficial.tap")
    instance = register_case(officer, categoria="DET")
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    return db.session.get(WorkflowInstance, instance.id).case_id


def test_case_page_marks_done_and_pending_steps_and_subprocess_steps_on_their_call_activity(login, det_case):
    html = login("oficial.tap").get(f"/casos/{det_case}").get_data(as_text=True)
    config = viewer_config(html)
    assert config["xml_url"] == f"/casos/{det_case}/diagrama.bpmn"
    assert config["current"] == ["Call_privacion_libertad"]
    assert config["completed"] == ["Task_registro", "Task_evaluacion"]
    assert config["version"] == "Protección consular v1"
    assert 'data-testid="case-diagram"' in html and "bpmn-navigated-viewer.production.min.js" in html


def test_case_diagram_is_the_version_the_case_runs_on(login, det_case):
    gestor = login("gestor")
    xml = gestor.get("/procesos/proteccion_consular/borrador.bpmn").get_data(as_text=True)
    response = gestor.post("/procesos/proteccion_consular/publicar",
                           json={"xml": xml.replace('name="Registro del caso"', 'name="Registro v2"')})
    assert response.get_json()["version"] == 2
    diagram = login("oficial.tap").get(f"/casos/{det_case}/diagrama.bpmn")
    assert diagram.mimetype == "application/xml"
    assert 'name="Registro del caso"' in diagram.get_data(as_text=True)


def test_process_view_counts_only_the_supervisors_office(login, det_case):
    other = login("oficial.hou")
    register_case(other, dni="0801199012345", nombres="Otra")
    tap = viewer_config(login("consul.tap").get("/procesos/proteccion_consular/vista").get_data(as_text=True))
    hou = viewer_config(login("consul.hou").get("/procesos/proteccion_consular/vista").get_data(as_text=True))
    central = viewer_config(login("analista").get("/procesos/proteccion_consular/vista").get_data(as_text=True))
    assert tap["counts"] == {"Call_privacion_libertad": 1}
    assert hou["counts"] == {"Task_evaluacion": 1}
    assert central["counts"] == {"Call_privacion_libertad": 1, "Task_evaluacion": 1}
    assert tap["steps"] == [{"name": "Privación de libertad", "element": "Call_privacion_libertad", "count": 1}]


def test_supervisors_reach_the_view_from_the_menu_and_officers_do_not(login):
    supervisor = login("consul.tap")
    assert 'href="/procesos/vistas"' in supervisor.get("/tareas/").get_data(as_text=True)
    response = supervisor.get("/procesos/vistas")  # one startable process: straight to its view
    assert response.headers["Location"] == "/procesos/proteccion_consular/vista"
    officer = login("oficial.tap")
    assert 'href="/procesos/vistas"' not in officer.get("/tareas/").get_data(as_text=True)
    assert officer.get("/procesos/vistas").status_code == 403
    assert officer.get("/procesos/proteccion_consular/vista").status_code == 403
