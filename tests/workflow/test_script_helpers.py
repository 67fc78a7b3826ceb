"""SpiffArena's script helpers inside the diagram language: get_current_user(), get_process_initiator_user(),
get_current_date(), get_localtime(), get_toplevel_process_info(). The current user is whoever's action makes the
process run (None for the scheduler), shown without contact data; dates follow the application clock and the
time zone of the case's office."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import clock
from app.extensions import db
from app.reference.models import Office
from app.workflow import services as workflow
from app.workflow.actions import running
from app.workflow.deploy import deploy_files
from app.workflow.engine import get_engine
from app.workflow.evaluator import DiagramCodeError, RestrictedEnvironment, check_source
from app.workflow.models import HumanTask, ProcessVersion, WorkflowInstance
from tests.helpers import REGISTRO, submit
from tests.workflow.diagrams import boundary_timer_diagram
from tests.workflow.test_connectors import FORMS

SCRIPT = ("quien = get_current_user()\\n"
          "inicio = get_process_initiator_user()\\n"
          "fecha_oficina = get_current_date()\\n"
          "local = get_localtime()\\n"
          "proceso = get_toplevel_process_info()")


def evaluate(source, data=None):
    return RestrictedEnvironment().evaluate(source, data or {})


def travel_to(moment: datetime):
    clock.reset()
    clock.travel(moment - clock.now())


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.reset()


class FakeInstance:
    def __init__(self, office_id, started_by_id=None, case_id=None):
        self.id, self.office_id, self.started_by_id, self.case_id = 7, office_id, started_by_id, case_id
        self.process_version = None


def test_the_checker_accepts_the_helpers_and_does_not_fold_them_as_constants():
    """Their value depends on who runs the code and when: at publish they are not evaluated (no «siempre falla»)."""
    for source in ('get_current_user()["username"]', "get_current_date()[:4]", 'get_localtime(timezone="UTC")',
                   'get_localtime("2026-01-01T10:00:00", "America/Mexico_City")',
                   'get_process_initiator_user()["role"]', 'get_toplevel_process_info()["process_instance_id"]'):
        assert check_source(source) == [], source
    assert check_source('get_localtime(zona="UTC")') != []  # only SpiffArena's argument names
    assert check_source("get_current_user(1)") != []


def test_without_a_run_there_is_no_user_and_dates_are_utc(app):
    assert evaluate("get_current_user()") is None
    assert evaluate("get_process_initiator_user()") is None
    assert evaluate("get_toplevel_process_info()") is None
    travel_to(datetime(2026, 4, 1, 3, 0, tzinfo=UTC))
    assert evaluate("get_current_date()") == "2026-04-01"


def test_the_current_user_is_who_acts_without_contact_data(app, users):
    officer = users["oficial.tap"]
    officer.email = "oficial@example.org"
    db.session.commit()
    with running(FakeInstance(officer.office_id, started_by_id=users["oficial2.tap"].id), user_id=officer.id):
        me = evaluate("get_current_user()")
        starter = evaluate("get_process_initiator_user()")
    assert me == {"username": "oficial.tap", "full_name": officer.full_name, "role": "oficial", "office": "TAP"}
    assert "email" not in me and "oficial@example.org" not in str(me)
    assert starter["username"] == "oficial2.tap"


def test_dates_follow_the_clock_and_the_office_time_zone(app, users):
    tap = db.session.scalar(db.select(Office).where(Office.code == "TAP"))
    # 03:00 UTC on 1 April is still 31 March in the office's zone
    travel_to(datetime(2026, 4, 1, 3, 0, tzinfo=UTC))
    with running(FakeInstance(tap.id)):
        assert evaluate("get_current_date()") == \
            datetime(2026, 4, 1, 3, 0, tzinfo=UTC).astimezone(ZoneInfo(tap.timezone)).date().isoformat()
        local = evaluate("get_localtime()")
        assert abs(datetime.fromisoformat(local) - datetime(2026, 4, 1, 3, 0, tzinfo=UTC)) < timedelta(seconds=5)
        assert datetime.fromisoformat(local).utcoffset() == ZoneInfo(tap.timezone).utcoffset(
            datetime(2026, 4, 1, 3, 0))
        assert evaluate('get_localtime("2026-04-01T03:00:00+00:00", "UTC")') == "2026-04-01T03:00:00+00:00"
        assert evaluate('get_localtime(datetime="2026-04-01T03:00:00", timezone="America/Tegucigalpa")') == \
            "2026-03-31T21:00:00-06:00"
    assert evaluate("hoy()") == "2026-04-01"  # hoy() stays the UTC date


@pytest.mark.parametrize("source,expected", [
    ('get_localtime("ayer")', "no es una fecha y hora"),
    ('get_localtime(5)', "espera una fecha y hora"),
    ('get_localtime(None, "Marte/Olympus")', "no existe"),
    ('get_localtime(None, "../../etc/passwd")', "zona horaria"),
    ('get_localtime("9999-12-31T23:00:00", "Asia/Tokyo")', "fuera del calendario"),
])
def test_bad_arguments_are_spanish_refusals(app, source, expected):
    with pytest.raises(DiagramCodeError) as refused:
        evaluate(source)
    assert expected in refused.value.message


def _script_diagram(key="ayudantes"):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D_{key}" targetNamespace="x">
  <bpmn:process id="{key}" name="Proceso {key}" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L" name="Oficial consular">
      <bpmn:flowNodeRef>S</bpmn:flowNodeRef><bpmn:flowNodeRef>R</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>X</bpmn:flowNodeRef><bpmn:flowNodeRef>T</bpmn:flowNodeRef><bpmn:flowNodeRef>E</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="R" name="Registro"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="registro_caso.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="X" name="Quién y cuándo"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:script>{SCRIPT.replace(chr(92) + "n", chr(10))}</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="T" name="Seguir"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="mini.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="R" /><bpmn:sequenceFlow id="F2" sourceRef="R" targetRef="X" />
    <bpmn:sequenceFlow id="F3" sourceRef="X" targetRef="T" /><bpmn:sequenceFlow id="F4" sourceRef="T" targetRef="E" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def test_a_script_after_a_task_sees_who_completed_it_through_http(app, login, users):
    deploy_files({"ayudantes.bpmn": _script_diagram()}, FORMS)
    db.session.commit()
    starter, completer = login("oficial.tap"), login("oficial2.tap")
    response = starter.post("/casos/nuevo", data={"proceso": "ayudantes"})
    task = db.session.get(HumanTask, int(response.headers["Location"].rstrip("/").split("/")[-1]))
    task.assignee_id = None  # offered to the office: the colleague completes it
    db.session.commit()
    submit(completer, task, REGISTRO)
    instance = db.session.get(WorkflowInstance, task.instance_id)
    following = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                             HumanTask.completed_at.is_(None)))
    data = get_engine().task_data(workflow.load_workflow(instance), following.task_id)
    assert data["quien"]["username"] == "oficial2.tap"
    assert data["inicio"]["username"] == "oficial.tap"
    assert data["proceso"] == {"process_instance_id": instance.id, "process_model_identifier": "ayudantes"}
    office_zone = ZoneInfo(instance.office.timezone if hasattr(instance, "office") and instance.office else
                           db.session.get(Office, instance.office_id).timezone)
    assert data["fecha_oficina"] == clock.now().astimezone(office_zone).date().isoformat()


def test_in_a_scheduler_run_there_is_no_current_user(app, users):
    deploy_files({"reloj.bpmn": boundary_timer_diagram("reloj", "quien = get_current_user()\nfecha = "
                                                                "get_current_date()")}, FORMS)
    db.session.commit()
    version = db.session.scalar(db.select(ProcessVersion).where(ProcessVersion.process_key == "reloj"))
    officer = users["oficial.tap"]
    instance = workflow.start_instance(version, officer.office_id, officer.id)
    db.session.commit()
    clock.travel(timedelta(hours=2))
    workflow.run_instance(instance)  # as the scheduler's sweep does for a due timer
    db.session.commit()
    engine_workflow = workflow.load_workflow(instance)
    ran = [t for t in engine_workflow.get_tasks() if t.task_spec.name == "X"]
    assert ran and "quien" in ran[0].data and ran[0].data["quien"] is None
