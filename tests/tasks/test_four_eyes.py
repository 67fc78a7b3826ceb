"""Four eyes: whoever proposed a closure (or a FOSMIH quotation) cannot approve it, per office, on by default.

Through the web, as supervisors would try it: open the approval, take it, submit it (also a hand-made POST), save a
draft, have it assigned to them; a second supervisor of the office or a central supervisor approves instead; the
inbox says why the proposer is not offered it; an administrator can switch the rule off for an office (audited).
"""
import pytest

from app.audit.models import AuditEvent
from app.auth.services import create_user
from app.cases.models import Case, CaseEvent
from app.extensions import db
from app.reference.models import Office
from app.tasks.models import TaskDraft
from app.workflow.models import HumanTask
from tests.conftest import PASSWORD
from tests.helpers import (
    APROBAR,
    ATENCION,
    EVALUACION_REMITIR,
    EVALUACION_SIN_REMISION,
    PROPUESTA,
    RECHAZAR,
    SEGUIMIENTO_FIN,
    case_of,
    register_case,
    single_open_task,
    snapshot,
    submit,
)

FOUR_EYES = "quien propone no aprueba"
DOCUMENTOS = {"fecha_defuncion": "2026-11-15", "lugar_defuncion": "Hospital General de Tapachula",
              "documentos_recibidos": ["acta_defuncion", "informe_forense"], "fecha_revision": "2026-11-18",
              "documentos_pendientes": "Permiso sanitario en trámite."}
FUNERARIA = {"nombre_funeraria": "Funerales del Sur", "servicio_funerario": "embalsamamiento_traslado",
             "fecha_cotizacion": "2026-11-19", "costo_servicio": "48500", "moneda_servicio": "MXN",
             "elegida_por_familia": "y"}
FOSMIH_APROBADO = {"fosmih_aprobado": "si", "monto_aprobado": "48500", "moneda_aprobada": "MXN"}


def add_user(username, role, office_code):
    office = db.session.scalar(db.select(Office).where(Office.code == office_code))
    user = create_user(username, username.replace(".", " ").title(), PASSWORD, role, office)
    db.session.commit()
    return user


def to_approval(officer, proposer):
    """A TAP case walked by `officer` up to the closure proposal, which `proposer` completes; the approval task."""
    instance = register_case(officer)
    for data in (EVALUACION_SIN_REMISION, ATENCION, SEGUIMIENTO_FIN):
        submit(officer, single_open_task(instance_id=instance.id), data)
    submit(proposer, single_open_task(instance_id=instance.id), PROPUESTA)
    approval = single_open_task(instance_id=instance.id)
    assert approval.title == "Aprobación de cierre"
    return approval


def state(case_id):
    """Everything a refused approval must leave as it was."""
    return snapshot(HumanTask), snapshot(Case), snapshot(CaseEvent), snapshot(TaskDraft)


def test_the_supervisor_who_proposed_cannot_open_take_draft_or_submit_the_approval(login):
    officer, consul = login("oficial.tap"), login("consul.tap")
    approval = to_approval(officer, consul)
    before = state(approval.case_id)

    page = consul.get(f"/tareas/{approval.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and FOUR_EYES in html and 'data-testid="four-eyes"' in html
    assert "Tomar la tarea" not in html
    assert "Propuesta de cierre" in html  # the panel still shows what is pending

    for url, data in ((f"/tareas/{approval.id}/tomar", {}), (f"/tareas/{approval.id}", APROBAR),
                      (f"/tareas/{approval.id}/borrador", APROBAR),
                      # hand-made: the buttons are disabled, the POST is typed by hand with extra fields
                      (f"/tareas/{approval.id}", {**APROBAR, "siproc_persona": "nueva", "assignee_id": "3"})):
        response = consul.post(url, data=data)
        assert response.status_code == 403, url
        assert FOUR_EYES in response.get_data(as_text=True), url
    assert state(approval.case_id) == before
    assert case_of(approval.instance).status == "cierre_propuesto" and case_of(approval.instance).closed_at is None


def test_another_supervisor_of_the_office_approves(login):
    add_user("consul2.tap", "supervisor", "TAP")
    officer, consul, other = login("oficial.tap"), login("consul.tap"), login("consul2.tap")
    approval = to_approval(officer, consul)
    page = other.get(f"/tareas/{approval.id}").get_data(as_text=True)
    assert FOUR_EYES not in page
    assert other.post(f"/tareas/{approval.id}/tomar").status_code == 302
    submit(other, approval, APROBAR)
    assert case_of(approval.instance).status == "cerrado"


def test_an_office_with_one_supervisor_leaves_it_to_a_central_supervisor(login):
    """TAP has one supervisor, who proposed: the task stays offered; a supervisor of the DGPHM approves it."""
    add_user("supervisor.central", "supervisor", "DGPHM")
    officer, consul, central = login("oficial.tap"), login("consul.tap"), login("supervisor.central")
    approval = to_approval(officer, consul)
    assert db.session.get(HumanTask, approval.id).assignee_id is None
    inbox = central.get("/tareas/", query_string={"vista": "oficina"}).get_data(as_text=True)
    assert f'href="/tareas/{approval.id}"' in inbox
    submit(central, approval, APROBAR)
    assert case_of(approval.instance).status == "cerrado"


def test_the_inbox_says_why_the_proposer_is_not_offered_it(login):
    add_user("consul2.tap", "supervisor", "TAP")
    officer, consul, other = login("oficial.tap"), login("consul.tap"), login("consul2.tap")
    approval = to_approval(officer, consul)
    mine = consul.get("/tareas/", query_string={"vista": "oficina"}).get_data(as_text=True)
    row = mine[mine.index(f'href="/tareas/{approval.id}"'):].split("</tr>")[0]
    assert "Usted lo propuso" in row and FOUR_EYES in row
    theirs = other.get("/tareas/", query_string={"vista": "oficina"}).get_data(as_text=True)
    row = theirs[theirs.index(f'href="/tareas/{approval.id}"'):].split("</tr>")[0]
    assert "Usted lo propuso" not in row


def test_a_supervisor_cannot_assign_the_approval_to_its_proposer(login, users):
    add_user("consul2.tap", "supervisor", "TAP")
    officer, other = login("oficial.tap"), login("consul2.tap")
    approval = to_approval(officer, login("consul.tap"))
    page = other.get(f"/tareas/{approval.id}").get_data(as_text=True)
    options = page[page.index('id="asignar"'):].split("</select>")[0]
    assert users["consul.tap"].full_name not in options and "Consul2 Tap" in options
    before = state(approval.case_id)
    response = other.post(f"/tareas/{approval.id}/asignar", data={"usuario": users["consul.tap"].id},
                          follow_redirects=True)
    assert "regla de cuatro ojos" in response.get_data(as_text=True)
    assert state(approval.case_id) == before


def test_a_supervisor_who_walked_the_case_alone_finds_the_approval_in_the_office_queue(login, users):
    """The consul registers and proposes: the new approval task is not put in their «Mis tareas» (the case's
    officer would get it), the next-task redirect does not lead to it, and the timeline says why."""
    consul = login("consul.tap")
    instance = register_case(consul)
    for data in (EVALUACION_SIN_REMISION, ATENCION, SEGUIMIENTO_FIN):
        submit(consul, single_open_task(instance_id=instance.id), data)
    proposal = single_open_task(instance_id=instance.id)
    response = submit(consul, proposal, PROPUESTA)
    approval = single_open_task(instance_id=instance.id)
    assert approval.assignee_id is None
    assert response.headers["Location"].endswith(f"/casos/{approval.case_id}")
    titles = [e.title for e in db.session.scalars(db.select(CaseEvent).where(CaseEvent.case_id == approval.case_id))]
    assert any("quien la propuso no puede aprobarla" in t for t in titles)
    assert consul.get(f"/tareas/{approval.id}").status_code == 403


def test_after_a_rejection_the_latest_proposer_is_the_one_refused(login):
    add_user("consul2.tap", "supervisor", "TAP")
    officer, consul, other = login("oficial.tap"), login("consul.tap"), login("consul2.tap")
    approval = to_approval(officer, consul)
    submit(other, approval, RECHAZAR)
    instance = approval.instance
    for data in (ATENCION, SEGUIMIENTO_FIN, PROPUESTA):  # this time the officer proposes
        submit(officer, single_open_task(instance_id=instance.id), data)
    second = single_open_task(instance_id=instance.id)
    assert second.id != approval.id and consul.get(f"/tareas/{second.id}").status_code == 200
    submit(consul, second, APROBAR)
    assert case_of(instance).status == "cerrado"


def test_the_rule_is_on_by_default_and_an_administrator_switches_it_per_office(login):
    assert all(o.four_eyes_approvals for o in db.session.scalars(db.select(Office)))
    admin, consul = login("admin"), login("consul.tap")
    form = admin.get("/admin/catalogos/oficinas/TAP/editar").get_data(as_text=True)
    assert 'name="four_eyes_approvals"' in form and "Cuatro ojos" in form
    tap = db.session.scalar(db.select(Office).where(Office.code == "TAP"))
    data = {"name": tap.name, "kind": tap.kind, "country": tap.country, "state_or_department": tap.state_or_department,
            "city": tap.city, "timezone": tap.timezone, "confidence": tap.confidence or ""}  # box unticked
    assert admin.post("/admin/catalogos/oficinas/TAP/editar", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Office, tap.id).four_eyes_approvals is False
    audit = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "catalog_changed")
                               .order_by(AuditEvent.id.desc())).first()
    assert audit.object_id == "TAP" and "four_eyes_approvals" in str(audit.details)

    approval = to_approval(login("oficial.tap"), consul)  # with the rule off, the proposer may approve
    submit(consul, approval, APROBAR)
    assert case_of(approval.instance).status == "cerrado"

    assert admin.post("/admin/catalogos/oficinas/TAP/editar", data={**data, "four_eyes_approvals": "y"}).status_code \
        == 302
    db.session.expire_all()
    assert db.session.get(Office, tap.id).four_eyes_approvals is True


@pytest.mark.parametrize("rule_on", [True, False])
def test_the_fosmih_quotation_is_approved_by_someone_else(login, rule_on):
    """The same rule on the repatriation's FOSMIH funding: whoever recorded the funeral home's quotation."""
    if not rule_on:
        db.session.scalar(db.select(Office).where(Office.code == "TAP")).four_eyes_approvals = False
        db.session.commit()
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer, categoria="REP")
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    submit(officer, single_open_task(instance_id=instance.id), DOCUMENTOS)
    submit(consul, single_open_task(instance_id=instance.id), FUNERARIA)  # the consul records the quotation
    approval = single_open_task(instance_id=instance.id)
    assert approval.title == "Aprobación de financiamiento FOSMIH"
    if rule_on:
        before = state(approval.case_id)
        response = consul.post(f"/tareas/{approval.id}", data=FOSMIH_APROBADO)
        assert response.status_code == 403 and "«Funeraria»" in response.get_data(as_text=True)
        assert state(approval.case_id) == before
    else:
        submit(consul, approval, FOSMIH_APROBADO)
        assert single_open_task(instance_id=instance.id).title == "Registro de la asistencia FOSMIH"


APPROVAL_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_propuesta" name="Propuesta">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Task_aprobacion" name="Aprobación">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="approvalOf" value="{approves}" />
        <spiffworkflow:property name="approvalPanel" value="{panel}" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="Task_propuesta" />
    <bpmn:sequenceFlow id="f2" sourceRef="Task_propuesta" targetRef="Task_aprobacion" />
    <bpmn:sequenceFlow id="f3" sourceRef="Task_aprobacion" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("approves,panel,expected", [
    ("Task_propuesta", "cierre", []),
    ("Task_propuesta", "fosmih", []),
    ("Task_propuesta_cierre", "cierre", ["«Task_propuesta_cierre» (approvalOf), que no es otra tarea de usuario"]),
    ("Task_aprobacion", "cierre", ["«Task_aprobacion» (approvalOf), que no es otra tarea de usuario"]),
    ("Task_propuesta", "cierre_caso", ["el panel de aprobación «cierre_caso»", "admitidos: cierre, fosmih"]),
])
def test_a_mistyped_approval_property_is_refused_at_publish(app, approves, panel, expected):
    """A typo in approvalOf or approvalPanel would silently leave the approval without four eyes or panel."""
    from app.workflow.lint import lint_diagram

    problems = lint_diagram("p.bpmn", APPROVAL_DIAGRAM.format(approves=approves, panel=panel).encode(), {})
    mine = [m for _f, element, m in problems
            if element == "Task_aprobacion" and ("approvalOf" in m or "panel de aprobación" in m)]
    assert len(mine) == (1 if expected else 0), problems
    for part in expected:
        assert part in mine[0], mine
