"""A hostile process owner's diagram, end to end: refused at publish through every entry point, and where
code can only misbehave at run time (data-dependent loops), the request or scheduler job that meets it ends
within its budget with a Spanish message, saves nothing, and other users keep being served."""
import threading
import time
from datetime import timedelta

import pytest

from app.core import clock
from app.extensions import db
from app.scheduler.models import TimerFailure
from app.scheduler.sweep import run_sweep
from app.workflow import deploy as deploy_module
from app.workflow import services as workflow
from app.workflow.deploy import deploy_files
from app.workflow.engine import DiagramError
from app.workflow.models import HumanTask, ProcessVersion, WorkflowInstance
from tests.conftest import flashes
from tests.helpers import start_case
from tests.workflow.diagrams import FORMS, boundary_timer_diagram, mini

KEY = "proteccion_consular"
DYNAMIC_LOOP = "x = 1\nwhile x &gt; 0:\n    x += 1"  # no constant tells it never ends: only the budget can


def versions(key):
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion)
                             .where(ProcessVersion.process_key == key))


def script_first(script, key="bucle"):
    """Start -> script -> user task -> end: the script runs when «Nuevo caso» starts the process."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D_{key}" targetNamespace="x">
  <bpmn:process id="{key}" name="Proceso {key}" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L" name="Oficial consular">
      <bpmn:flowNodeRef>S</bpmn:flowNodeRef><bpmn:flowNodeRef>X</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>T</bpmn:flowNodeRef><bpmn:flowNodeRef>E</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="X" name="Preparar"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="T" name="Revisar"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="mini.json" /></spiffworkflow:properties>
      </bpmn:extensionElements><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="X" /><bpmn:sequenceFlow id="F2" sourceRef="X" targetRef="T" />
    <bpmn:sequenceFlow id="F3" sourceRef="T" targetRef="E" />
  </bpmn:process>
</bpmn:definitions>""".encode()


@pytest.fixture
def gestor(login):
    return login("gestor")


def publish(client, xml, key=KEY):
    response = client.post(f"/procesos/{key}/publicar", json={"xml": xml, "comment": "prueba"})
    return response.status_code, response.get_json()


CONDITION_ATTACKS = [
    ("power tower", "((((9**64)**64)**64)**64)**64 &gt; 0", "potencia supera"),
    ("string repeat", "len('a'*10**10) &gt; 0", "bytes"),
    ("list repeat", "len([0]*10**9) &gt; 0", "bytes"),
    ("ljust", "len('x'.ljust(10**10)) &gt; 0", "bytes"),
    ("range", "len(list(range(10**9))) &gt; 0", "bytes"),
    ("pow", "pow(9, 9**9) &gt; 0", "la función «pow» no está permitida"),
    ("format walk", "'{0.__class__}'.format(categoria) == ''", "«format» no está permitido"),
    ("helper globals", "hoy.__globals__ == 1", "«__globals__» no está permitido"),
    ("generator frame", "(x for x in []).gi_frame == 1", "«gi_frame» no está permitido"),
    ("lambda default", "(lambda f=hoy: f)() == 1", "«lambda» no está permitida"),
]


@pytest.mark.parametrize("label,condition,expected", CONDITION_ATTACKS, ids=[c[0] for c in CONDITION_ATTACKS])
def test_hostile_gateway_conditions_are_refused_at_publish_naming_the_flow(gestor, label, condition, expected):
    xml = gestor.get(f"/procesos/{KEY}/borrador.bpmn").get_data(as_text=True)
    before = versions(KEY)
    status, body = publish(gestor, xml.replace('categoria == "DET"', condition, 1))
    assert status == 422
    assert any(expected in p["message"] and p["element"] == "Flow_categoria_privacion_libertad"
               for p in body["problems"]), body["problems"]
    assert versions(KEY) == before


SCRIPT_ATTACKS = [
    ("match class pattern", "match hoy:\n    case str(format=f):\n        x = f", "«match» no está permitida"),
    ("match attribute read", "match categoria:\n    case object(__class__=c):\n        x = c", "«match»"),
    ("endless loop", "while True:\n    pass", "no termina nunca"),
    ("endless loop with 1", "while 1:\n    x = 1", "no termina nunca"),
    ("class walk", "x = ().__class__.__bases__[0].__subclasses__()", "«__class__» no está permitido"),
    ("def", "def f():\n    return 1\nx = f()", "«def» no está permitida"),
    ("import", "import os", "«import» no está permitida"),
    ("huge string", "x = 'a' * 10**10", "bytes"),
    ("huge list", "x = [0] * 10**9", "bytes"),
    ("huge power", "x = 10**10**10", "potencia supera"),
]


@pytest.mark.parametrize("label,script,expected", SCRIPT_ATTACKS, ids=[c[0] for c in SCRIPT_ATTACKS])
def test_hostile_scripts_are_refused_at_publish_naming_the_script_task(app, label, script, expected):
    with pytest.raises(DiagramError) as refused:
        deploy_files({"mini.bpmn": mini(script=script.replace(">", "&gt;"))}, FORMS)
    assert any(e == "Script_b" and expected in m for _f, e, m in refused.value.problems), refused.value.problems
    assert versions("mini") == 0


SPIFFARENA_OPERATOR = b"""<bpmn:extensionElements>
  <spiffworkflow:serviceTaskOperator id="http/GetRequestV2" resultVariable="respuesta">
    <spiffworkflow:parameters>
      <spiffworkflow:parameter id="url" type="str" value="&quot;http://127.0.0.1:9/&quot;" />
    </spiffworkflow:parameters>
  </spiffworkflow:serviceTaskOperator>
</bpmn:extensionElements>"""  # as SpiffArena writes a connector call


@pytest.mark.parametrize("tag,expected", [
    ("serviceTask", "tareas de servicio"), ("businessRuleTask", "reglas de negocio"),
    ("sendTask", "envío de mensajes"), ("receiveTask", "recepción de mensajes"),
])
def test_constructs_siproc_cannot_run_are_refused_at_publish(app, tag, expected):
    xml = mini().replace(b"bpmn:scriptTask", f"bpmn:{tag}".encode()).replace(
        b"<bpmn:script>doble = valor * 2</bpmn:script>", b"")
    if tag == "serviceTask":
        xml = xml.replace(b'name="Calcular">', b'name="Calcular">' + SPIFFARENA_OPERATOR)
    with pytest.raises(DiagramError) as refused:
        deploy_files({"mini.bpmn": xml}, FORMS)
    assert any(e == "Script_b" and expected in m for _f, e, m in refused.value.problems), refused.value.problems


def test_message_events_are_refused_at_publish(app):
    xml = mini().replace(b'<bpmn:endEvent id="End_big">',
                         b'<bpmn:endEvent id="End_big"><bpmn:messageEventDefinition id="M1" />')
    with pytest.raises(DiagramError) as refused:
        deploy_files({"mini.bpmn": xml}, FORMS)
    assert any("evento «message»" in m for _f, _e, m in refused.value.problems), refused.value.problems


def test_template_code_in_instructions_is_refused_at_publish(gestor):
    xml = gestor.get(f"/procesos/{KEY}/borrador.bpmn").get_data(as_text=True)
    marker = "<spiffworkflow:instructionsForEndUser>"
    assert marker in xml
    status, body = publish(gestor, xml.replace(marker, marker + "{{ 7**(4*10**6) &gt; 1 }} ", 1))
    assert status == 422
    assert any("instrucciones" in p["message"] and "no es un nombre de campo" in p["message"]
               for p in body["problems"]), body["problems"]


def test_a_service_task_that_slipped_past_publication_is_a_clear_refusal_not_a_500(app, login, monkeypatch):
    """A version stored before this check existed: starting a case on it explains, and stores nothing."""
    monkeypatch.setattr(deploy_module, "lint_diagram", lambda *a, **k: [])
    xml = script_first("x = 1", key="servicio").replace(b"bpmn:scriptTask", b"bpmn:serviceTask").replace(
        b"<bpmn:script>x = 1</bpmn:script>", b"")
    xml = xml.replace(b'name="Preparar">', b'name="Preparar">' + SPIFFARENA_OPERATOR)
    deploy_files({"servicio.bpmn": xml}, FORMS)
    db.session.commit()
    officer = login("oficial.tap")
    before = db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance))
    response = officer.post("/casos/nuevo", data={"proceso": "servicio"}, follow_redirects=True)
    assert response.status_code == 400
    assert "tareas de servicio no se pueden ejecutar" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance)) == before


def test_a_runaway_script_at_case_start_ends_within_budget_saves_nothing_and_others_are_served(app, login):
    deploy_files({"bucle.bpmn": script_first(DYNAMIC_LOOP)}, FORMS)
    db.session.commit()
    attacker, colleague = login("oficial.tap"), login("oficial.hou")
    counts = (db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance)),
              db.session.scalar(db.select(db.func.count()).select_from(HumanTask)))
    outcome = {}

    def run_poisoned():
        started = time.perf_counter()
        response = attacker.post("/casos/nuevo", data={"proceso": "bucle"})
        outcome.update(status=response.status_code, body=response.get_data(as_text=True),
                       seconds=time.perf_counter() - started)

    thread = threading.Thread(target=run_poisoned)
    thread.start()
    served = []
    while thread.is_alive() or not served:
        started = time.perf_counter()
        status = colleague.get("/tareas/").status_code
        served.append((status, time.perf_counter() - started))
    thread.join(10)
    assert outcome["status"] == 400 and "superó su tiempo máximo" in outcome["body"], outcome
    assert "Preparar" in outcome["body"]  # the element that failed is named
    assert outcome["seconds"] < 3
    assert all(status == 200 and seconds < 1 for status, seconds in served), served
    db.session.expire_all()
    assert (db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance)),
            db.session.scalar(db.select(db.func.count()).select_from(HumanTask))) == counts
    # and the database is not left locked: the colleague can write at once
    assert start_case(colleague) is not None


def test_a_runaway_script_after_a_user_task_refuses_the_submission_and_keeps_the_task(app, login):
    deploy_files({"mini.bpmn": mini(script=DYNAMIC_LOOP)}, FORMS)
    db.session.commit()
    officer = login("oficial.tap")
    instance = workflow.start_instance(workflow.latest_version("mini"), officer_office(officer), None)
    db.session.commit()
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))
    state_before = instance.state_json
    response = officer.post(f"/tareas/{task.id}", data={"valor": "3"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code in (200, 400, 422), response.status_code
    assert any("superó su tiempo máximo" in f and "Calcular" in f for f in flashes(body)), flashes(body)
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).completed_at is None
    assert db.session.get(WorkflowInstance, instance.id).state_json == state_before


def officer_office(client):
    from app.auth.models import User

    return db.session.scalar(db.select(User.office_id).where(User.username == "oficial.tap"))


def poisoned_timer_diagram(key, script):
    """A user task with an hourly boundary timer whose path runs `script`."""
    return boundary_timer_diagram(key, script, timer_name="Cada hora", script_name=f"Calcular {key}",
                                  timer='<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R/PT1H"</bpmn:timeCycle>')


def test_one_poisoned_instance_never_stops_the_scheduler_even_after_a_restart(app, users):
    """Both timers fall due at the same moment; the poisoned one is first in line (older), and fails within its
    budget; the healthy one fires in the same sweep, and again in the next sweep after a restart."""
    deploy_files({"veneno.bpmn": poisoned_timer_diagram("veneno", DYNAMIC_LOOP),
                  "sano.bpmn": poisoned_timer_diagram("sano", "contador = 1")}, FORMS)
    officer = users["oficial.tap"]
    poisoned = workflow.start_instance(workflow.latest_version("veneno"), officer.office_id, officer.id)
    db.session.commit()
    healthy = workflow.start_instance(workflow.latest_version("sano"), officer.office_id, officer.id)
    db.session.commit()
    poisoned_id, healthy_id = poisoned.id, healthy.id

    clock.travel(timedelta(hours=1, minutes=1))
    started = time.perf_counter()
    result = run_sweep()
    assert time.perf_counter() - started < 5
    assert (result.fired, result.failed) == (1, 1), result
    failure = db.session.scalar(db.select(TimerFailure))
    assert failure.instance_id == poisoned_id and "superó su tiempo máximo" in failure.error
    assert "Calcular veneno" in failure.error
    db.session.expire_all()
    assert "contador" in db.session.get(WorkflowInstance, healthy_id).state_json

    # a restart: a new process holds nothing of the old one but the database; the poisoned timer is still due
    db.session.remove()
    clock.travel(timedelta(hours=1))
    result = run_sweep(holder="restarted-scheduler")
    assert result.fired == 1, result  # the healthy case's next hourly timer fired on time
    db.session.expire_all()
    failure = db.session.scalar(db.select(TimerFailure))
    assert failure.instance_id == poisoned_id and failure.attempts == 2
