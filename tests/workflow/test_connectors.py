"""Service tasks run SIPROC's own connectors, chosen with their declared parameters: what publication refuses
(unknown connector, missing, unknown or ill-typed parameter, code the language refuses), and what each
connector does when a case runs it, on that case only, with a Spanish task error when it cannot."""
from pathlib import Path

import pytest

from app.cases.models import Case, CaseEvent, Referral
from app.core import clock
from app.extensions import db
from app.notifications.models import Notification
from app.workflow.actions import catalogue, operations
from app.workflow.deploy import deploy_files
from app.workflow.engine import DiagramError
from app.workflow.lint import lint_diagram
from app.workflow.models import HumanTask, WorkflowInstance
from tests.conftest import flashes
from tests.helpers import REGISTRO, submit

ROOT = Path(__file__).resolve().parent.parent.parent
FORMS = {p.name: p.read_text() for p in (ROOT / "forms").glob("*.json")}
FORMS["mini.json"] = (ROOT / "tests" / "data" / "forms" / "mini.json").read_text()


def q(text: str) -> str:
    """A parameter value as the XML attribute holds a Python string literal."""
    return "&quot;" + text + "&quot;"


def diagram(operator: str, params: list[tuple[str, str, str]], key="conector") -> bytes:
    """Start -> Registro (creates the case) -> the service task -> Seguir -> end."""
    rows = "".join(f'<spiffworkflow:parameter id="{pid}" type="{ptype}" value="{value}" />'
                   for pid, ptype, value in params)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D_{key}" targetNamespace="x">
  <bpmn:process id="{key}" name="Proceso {key}" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L" name="Oficial consular">
      <bpmn:flowNodeRef>S</bpmn:flowNodeRef><bpmn:flowNodeRef>R</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Svc</bpmn:flowNodeRef><bpmn:flowNodeRef>T</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>E</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="R" name="Registro"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="registro_caso.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:serviceTask id="Svc" name="Conector"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="resultado">
        <spiffworkflow:parameters>{rows}</spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="T" name="Seguir"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="mini.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="R" /><bpmn:sequenceFlow id="F2" sourceRef="R" targetRef="Svc" />
    <bpmn:sequenceFlow id="F3" sourceRef="Svc" targetRef="T" /><bpmn:sequenceFlow id="F4" sourceRef="T" targetRef="E" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def problems_of(xml: bytes) -> list[tuple[str | None, str]]:
    return [(element, message) for _f, element, message in lint_diagram("conector.bpmn", xml, FORMS)]


def run_registration(app, login, xml, username="oficial.tap", expect=302):
    """Publish the diagram, open a case with it and complete the registration through HTTP."""
    deploy_files({"conector.bpmn": xml}, FORMS)
    db.session.commit()
    officer = login(username)
    response = officer.post("/casos/nuevo", data={"proceso": "conector"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    task = db.session.get(HumanTask, int(response.headers["Location"].rstrip("/").split("/")[-1]))
    if expect == 302:
        response = submit(officer, task, REGISTRO)
    else:  # refused: the officer is sent back with the reason flashed
        response = officer.post(f"/tareas/{task.id}", data=REGISTRO, follow_redirects=True)
        assert response.status_code == expect
        assert db.session.get(HumanTask, task.id).completed_at is None
    db.session.expire_all()
    return db.session.get(WorkflowInstance, task.instance_id), response


# -- the registry and the catalogue the modeler shows -----------------------------------------------------------

def test_the_catalogue_lists_every_project_connector_with_its_declared_parameters(app):
    by_id = {c["id"]: c for c in catalogue()}
    assert {"siproc/aviso_rol", "siproc/correo_rol", "siproc/remitir", "siproc/nota_caso",
            "siproc/remision_recordatorio"} <= set(by_id)
    assert set(operations()) == set(by_id)
    aviso = {p["id"]: p for p in by_id["siproc/aviso_rol"]["params"]}
    assert aviso["rol"]["kind"] == "role" and aviso["rol"]["required"] and aviso["rol"]["type"] == "str"
    assert aviso["mensaje"]["required"] is False
    assert by_id["siproc/remitir"]["label"] == "Remisión del caso a una institución"
    assert {p["id"] for p in by_id["siproc/remision_recordatorio"]["params"]} == {"referral_id"}


# -- publication ------------------------------------------------------------------------------------------------

GOOD_NOTICE = [("rol", "str", q("supervisor")), ("titulo", "str", q("Caso {numero_caso} registrado"))]


def test_a_connector_with_its_parameters_passes_the_lint(app):
    assert problems_of(diagram("siproc/aviso_rol", GOOD_NOTICE)) == []
    assert problems_of(diagram("siproc/nota_caso", [("titulo", "str", q("Nota")),
                                                    ("texto", "str", "'Riesgo: ' + str(nivel_riesgo)")])) == []


@pytest.mark.parametrize("operator,params,expected", [
    ("http/GetRequestV2", [("url", "str", q("http://127.0.0.1:9/"))], "«http/GetRequestV2» no es uno de ellos"),
    ("", [], "no indica su conector"),
    ("siproc/aviso_rol", [("rol", "str", q("supervisor"))], "falta el parámetro «Título del aviso»"),
    ("siproc/aviso_rol", [*GOOD_NOTICE, ("url", "str", q("x"))], "no tiene el parámetro «url»"),
    ("siproc/aviso_rol", [("rol", "str", q("jefe")), GOOD_NOTICE[1]], "«jefe» no es un rol de SIPROC"),
    ("siproc/aviso_rol", [GOOD_NOTICE[0], ("titulo", "str", "persona_nombre")], "escriba un texto entre comillas"),
    ("siproc/aviso_rol", [GOOD_NOTICE[0], ("titulo", "str", q("Hola {persona}"))], "la plantilla usa {persona}"),
    ("siproc/aviso_rol", [GOOD_NOTICE[0], ("titulo", "str", "__import__('os')")], "no está permitido"),
    ("siproc/remitir", [("institucion", "str", q("INM-MX")), ("servicio", "str", q("Retorno asistido")),
                        ("plazo_dias", "int", q("cinco"))], "debe ser un número"),
    ("siproc/aviso_rol", [*GOOD_NOTICE, ("rol", "str", q("oficial"))], "está repetido"),
])
def test_publication_refuses_what_the_connector_does_not_declare(app, operator, params, expected):
    problems = problems_of(diagram(operator, params))
    assert any(element == "Svc" and expected in message for element, message in problems), problems
    with pytest.raises(DiagramError):
        deploy_files({"conector.bpmn": diagram(operator, params)}, FORMS)


def test_a_parameter_without_type_is_refused_not_a_parser_crash(app):
    xml = diagram("siproc/aviso_rol", GOOD_NOTICE).replace(b'id="rol" type="str"', b'id="rol"')
    problems = problems_of(xml)
    assert any(element == "Svc" and "falta el atributo type" in message for element, message in problems), problems


# -- run time ---------------------------------------------------------------------------------------------------

def test_a_notice_to_a_role_reaches_that_role_of_the_case_office_only(app, login, users):
    instance, _response = run_registration(app, login, diagram("siproc/aviso_rol", [
        ("rol", "str", q("supervisor")), ("titulo", "str", q("Nuevo caso {numero_caso} en {oficina}")),
        ("mensaje", "str", q("Revise la evaluación."))]))
    case = db.session.get(Case, instance.case_id)
    notices = db.session.scalars(db.select(Notification).where(Notification.case_id == case.id)).all()
    assert {n.user_id for n in notices} == {users["consul.tap"].id}  # not consul.hou, not the officer
    assert notices[0].title == f"Nuevo caso {case.number} en {case.office.name}"
    assert notices[0].body == "Revise la evaluación."
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.completed_at.is_(None)))
    assert task.title == "Seguir"  # the process went on past the service task


def test_an_email_to_a_role_is_queued_for_those_with_an_address_never_sent_inline(app, login, users, monkeypatch):
    import smtplib

    monkeypatch.setattr(smtplib, "SMTP", lambda *a, **k: pytest.fail("no SMTP while a task completes"))
    consul = users["consul.tap"]
    consul.email = "consul@example.org"
    db.session.commit()
    instance, _response = run_registration(app, login, diagram("siproc/correo_rol", [
        ("rol", "str", q("supervisor")), ("asunto", "str", q("Caso {numero_caso}"))]))
    notices = db.session.scalars(db.select(Notification).where(Notification.case_id == instance.case_id)).all()
    assert [(n.user_id, n.email_status) for n in notices] == [(consul.id, "pendiente")]
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.completed_at.is_(None)))
    assert task is not None and task.title == "Seguir"


def test_a_note_goes_on_the_case_timeline_in_the_name_of_who_completed_the_task(app, login, users):
    instance, _response = run_registration(app, login, diagram("siproc/nota_caso", [
        ("titulo", "str", q("Registrado por el proceso")), ("texto", "str", "'Categoría: ' + categoria")]))
    event = db.session.scalar(db.select(CaseEvent).where(CaseEvent.case_id == instance.case_id,
                                                         CaseEvent.title == "Registrado por el proceso"))
    assert event is not None and event.actor_id == users["oficial.tap"].id
    assert event.instance_id == instance.id
    assert "Categoría: RET" in event.details_json


def test_a_referral_needs_consent_and_is_a_spanish_task_error_not_a_500(app, login):
    xml = diagram("siproc/remitir", [("institucion", "str", q("INM-MX")),
                                     ("servicio", "str", q("Retorno asistido"))])
    before = db.session.scalar(db.select(db.func.count()).select_from(Referral))
    _instance, response = run_registration(app, login, xml, expect=200)
    said = flashes(response.get_data(as_text=True))
    assert any("«Conector» (Svc)" in m and "Sin el consentimiento" in m for m in said), said
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(Referral)) == before  # nothing half-saved


def test_a_referral_with_consent_is_created_for_the_instance_case(app, login):
    xml = diagram("siproc/remitir", [("institucion", "str", q("INM-MX")),
                                     ("servicio", "str", q("Retorno asistido")), ("plazo_dias", "int", "3")])
    deploy_files({"conector.bpmn": xml}, FORMS)
    db.session.commit()
    officer = login("oficial.tap")
    response = officer.post("/casos/nuevo", data={"proceso": "conector"})
    task = db.session.get(HumanTask, int(response.headers["Location"].rstrip("/").split("/")[-1]))
    response = officer.post(f"/tareas/{task.id}", data={**REGISTRO, "consentimiento_compartir": "y"},
                            follow_redirects=True)
    assert "«Registro» completada." in flashes(response.get_data(as_text=True))
    db.session.expire_all()
    instance = db.session.get(WorkflowInstance, task.instance_id)
    case = db.session.get(Case, instance.case_id)
    assert case.consent_to_share
    referral = db.session.scalar(db.select(Referral).where(Referral.case_id == case.id))
    assert referral.institution_code == "INM-MX" and referral.instance_id == instance.id
    assert referral.letter_attachment_id is not None


def test_an_inactive_institution_is_refused_at_run_time(app, login):
    from app.reference.models import Institution

    institution = db.session.scalar(db.select(Institution).where(Institution.code == "INM-MX"))
    institution.is_active = False
    db.session.commit()
    _instance, response = run_registration(app, login, diagram("siproc/remitir", [
        ("institucion", "str", q("INM-MX")), ("servicio", "str", q("Retorno asistido"))]), expect=200)
    said = flashes(response.get_data(as_text=True))
    assert any("«Conector» (Svc)" in m and "Elija la institución" in m for m in said), said


def test_a_connector_before_the_case_exists_says_so(app, login):
    """A service task at the very start (no case yet) is a clear refusal, and nothing is stored."""
    xml = diagram("siproc/aviso_rol", GOOD_NOTICE)
    xml = xml.replace(b'<bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="R" />',
                      b'<bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Svc" />')
    xml = xml.replace(b'<bpmn:sequenceFlow id="F2" sourceRef="R" targetRef="Svc" />',
                      b'<bpmn:sequenceFlow id="F2" sourceRef="Svc" targetRef="R" />')
    xml = xml.replace(b'<bpmn:sequenceFlow id="F3" sourceRef="Svc" targetRef="T" />',
                      b'<bpmn:sequenceFlow id="F3" sourceRef="R" targetRef="T" />')
    xml = xml.replace(b"<bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:serviceTask>",
                      b"<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>")
    xml = xml.replace(b"<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>",
                      b"<bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>", 1)
    deploy_files({"conector.bpmn": xml}, FORMS)
    db.session.commit()
    before = db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance))
    response = login("oficial.tap").post("/casos/nuevo", data={"proceso": "conector"}, follow_redirects=True)
    assert response.status_code == 400
    assert "el caso aún no está registrado" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance)) == before


def test_a_reminder_cannot_touch_a_referral_of_another_case(app, casefile):
    """Need-to-know: the referral id comes from diagram data; the connector acts only on the instance's case."""
    from app.cases.referrals import remind
    from app.workflow.actions import running

    other = db.session.scalar(db.select(Referral).where(Referral.status == "aceptada"))
    other.status = "enviada"
    db.session.commit()
    mine = db.session.scalar(db.select(Case).where(Case.id != other.case_id))

    class Instance:
        id, case_id, office_id = None, mine.id, mine.office_id

    with running(Instance()):
        assert remind({"referral_id": other.id}, {}) == {"recordado": False}
    db.session.expire_all()
    assert db.session.get(Referral, other.id).status == "enviada"


def test_a_slow_connector_does_not_spend_the_diagram_code_budget(app, login, monkeypatch):
    """The run budget (1 s of diagram code per request) limits diagrams, not SIPROC's own connectors: a referral
    whose letter takes a while to render must not fail as «superó 1000 ms»."""
    import time

    from app.workflow import actions

    def slow(params, _data):
        time.sleep(app.config.get("DIAGRAM_RUN_MS", 1000) / 1000 + 0.2)
        return {"ok": True}

    monkeypatch.setitem(actions._OPERATIONS, "siproc/prueba_lenta",
                        actions.ServiceOperation("siproc/prueba_lenta", "Prueba lenta", slow))
    instance, _response = run_registration(app, login, diagram("siproc/prueba_lenta", []))
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.completed_at.is_(None)))
    assert task is not None and task.title == "Seguir"


def test_a_connector_that_breaks_is_a_task_error_and_leaves_nothing_half_saved(app, login, monkeypatch):
    from app.cases.services import record_event
    from app.workflow import actions

    def broken(params, _data):
        record_event(actions.run_context().case_id, "note_added", "A medio guardar", None, clock.now())
        db.session.flush()
        raise RuntimeError("connection reset by peer")

    monkeypatch.setitem(actions._OPERATIONS, "siproc/prueba_rota",
                        actions.ServiceOperation("siproc/prueba_rota", "Prueba rota", broken))
    _instance, response = run_registration(app, login, diagram("siproc/prueba_rota", []), expect=200)
    said = flashes(response.get_data(as_text=True))
    assert any("«Conector» (Svc)" in m and "el conector «siproc/prueba_rota» falló" in m for m in said), said
    assert not any("connection reset" in m for m in said)  # no internals for the officer
    assert db.session.scalar(db.select(CaseEvent).where(CaseEvent.title == "A medio guardar")) is None
