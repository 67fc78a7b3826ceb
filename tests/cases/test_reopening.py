"""Reopening a closed case (issue 17, part 4): a supervisor of the case's office reopens it with a reason; it goes
back to «Seguimiento» by the diagram's path (the catch event «Caso cerrado · reapertura»), keeps its number, and
the reopening shows in the timeline, the audit trail and the statistics (closure time not counted twice)."""
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.audit.models import AuditEvent
from app.cases.models import Case, CaseEvent, CaseReopening
from app.core import clock
from app.extensions import db
from app.stats.models import CaseFact
from app.workflow.lint import lint_diagram
from app.workflow.models import HumanTask, Timer, WorkflowInstance
from tests.conftest import flashes
from tests.helpers import (
    APROBAR,
    ATENCION,
    EVALUACION_SIN_REMISION,
    PROPUESTA,
    SEGUIMIENTO_FIN,
    case_of,
    register_case,
    single_open_task,
    snapshot,
    submit,
)

REASON = "La familia informa que la persona volvió a ser detenida en Tapachula."


def closed_case(officer, consul, **overrides):
    """A case walked to an approved closure through the web (officer proposes, supervisor approves)."""
    instance = register_case(officer, **overrides)
    for data in (EVALUACION_SIN_REMISION, ATENCION, SEGUIMIENTO_FIN, PROPUESTA):
        submit(officer, single_open_task(instance_id=instance.id), data)
    submit(consul, single_open_task(instance_id=instance.id), APROBAR)
    case = case_of(instance)
    assert case.status == "cerrado" and case.closed_at is not None
    return instance, case


def _kpi(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', page)
    return match.group(1).strip() if match else ""


def test_closed_case_waits_read_only_then_a_supervisor_reopens_it_to_follow_up(login, users):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance, case = closed_case(officer, consul)
    number, first_closure = case.number, case.closed_at

    # closed: the instance waits at «Caso cerrado · reapertura», no task, no timer, the case is read-only
    assert db.session.get(WorkflowInstance, instance.id).status == "running"
    assert db.session.scalar(db.select(db.func.count(Timer.id)).where(Timer.instance_id == instance.id)) == 0
    refused = officer.get(f"/casos/{case.id}/persona")
    assert refused.status_code == 409 and "solo lectura" in refused.get_data(as_text=True)
    # only the office's supervisor is offered the reopening
    assert "Reabrir el caso" in consul.get(f"/casos/{case.id}").get_data(as_text=True)
    assert "Reabrir el caso" not in officer.get(f"/casos/{case.id}").get_data(as_text=True)
    page = consul.get(f"/casos/{case.id}/curso").get_data(as_text=True)
    assert "Motivo de la reapertura" in page

    clock.travel(timedelta(days=3))
    consul = login("consul.tap")
    response = consul.post(f"/casos/{case.id}/reabrir", data={"motivo": REASON}, follow_redirects=True)
    assert "Caso reabierto: vuelve a seguimiento con el mismo número." in flashes(response.get_data(as_text=True))

    case = case_of(instance)
    assert case.number == number and case.status == "en_seguimiento"
    assert case.closed_at is None and case.closure_reason is None
    task = single_open_task(instance_id=instance.id)
    assert task.title == "Seguimiento" and task.assignee_id == users["oficial.tap"].id  # back to its officer
    reopening = db.session.scalar(db.select(CaseReopening).where(CaseReopening.case_id == case.id))
    assert reopening.reason == REASON and reopening.reopened_by_id == users["consul.tap"].id
    assert clock.as_utc(reopening.previous_closed_at) == clock.as_utc(first_closure)
    assert reopening.previous_closure_reason == "retornado"
    event = db.session.scalar(db.select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                         CaseEvent.kind == "case_reopened"))
    assert event.actor_id == users["consul.tap"].id and [["Motivo", REASON]] == event.details
    audit_row = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "case_reopened"))
    assert audit_row.case_id == case.id and audit_row.actor_id == users["consul.tap"].id
    assert REASON not in audit_row.details_json  # the reason stays in the (encrypted) case file
    timeline = consul.get(f"/casos/{case.id}").get_data(as_text=True)
    assert "Caso reabierto" in timeline and REASON in timeline
    # the reminder of the follow-up is armed again
    assert db.session.scalar(db.select(db.func.count(Timer.id)).where(Timer.instance_id == instance.id)) == 1

    # the officer works it again and it is closed a second time: one closure counts, measured to the last one
    officer = login("oficial.tap")
    for data in (SEGUIMIENTO_FIN, PROPUESTA):
        submit(officer, single_open_task(instance_id=instance.id), data)
    submit(consul, single_open_task(instance_id=instance.id), APROBAR)
    case = case_of(instance)
    assert case.status == "cerrado" and clock.as_utc(case.closed_at) > clock.as_utc(first_closure)
    fact = db.session.get(CaseFact, case.id)
    assert fact.days_to_close == 3  # opening to the last closure, three days later
    assert fact.closed_on == clock.as_utc(case.closed_at).astimezone(ZoneInfo(case.office.timezone)).date()

    start, end = (clock.now() - timedelta(days=40)).strftime("%Y-%m"), clock.now().strftime("%Y-%m")
    analyst = login("analista")
    dashboard = analyst.get(f"/estadisticas/?desde={start}&hasta={end}").get_data(as_text=True)
    assert _kpi(dashboard, "kpi-closed") == "1"  # not twice
    assert _kpi(dashboard, "kpi-reopened") == "Reabiertos: 1"


def test_reopening_refusals_change_nothing(login, users):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance, case = closed_case(officer, consul)
    open_instance = register_case(officer, dni="0801199012345", nombres="Otra", primer_apellido="Persona",
                                  fecha_nacimiento="1970-01-01")
    open_case = case_of(open_instance)

    def unchanged(client, case_id, data, status, message=None):
        before = (snapshot(Case), snapshot(CaseReopening), snapshot(HumanTask), snapshot(CaseEvent))
        response = client.post(f"/casos/{case_id}/reabrir", data=data, follow_redirects=True)
        assert response.status_code == status
        if message:
            assert any(message in f for f in flashes(response.get_data(as_text=True))), \
                flashes(response.get_data(as_text=True))
        assert (snapshot(Case), snapshot(CaseReopening), snapshot(HumanTask), snapshot(CaseEvent)) == before

    unchanged(consul, open_case.id, {"motivo": REASON}, 200, "El caso no está cerrado: solo se puede reabrir")
    unchanged(consul, case.id, {"motivo": "   "}, 200, "Explique el motivo")
    unchanged(consul, case.id, {}, 200, "Explique el motivo")
    for username in ("oficial.tap", "oficial.hou", "consul.hou", "analista", "gestor", "admin"):
        unchanged(login(username), case.id, {"motivo": REASON}, 403)
    unchanged(consul, 987654, {"motivo": REASON}, 404)
    assert case_of(instance).status == "cerrado"


def test_a_case_closed_without_the_reopening_event_is_refused_with_a_clear_message(login):
    """Cases closed on an earlier version of the process (their instance completed at «Caso cerrado») cannot be
    moved back: the supervisor is told to open a new case mentioning the old number."""
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance, case = closed_case(officer, consul)
    row = db.session.get(WorkflowInstance, instance.id)
    row.status = "completed"  # as every instance of the earlier diagram ended
    db.session.commit()
    assert "no prevé la reapertura" in consul.get(f"/casos/{case.id}/curso").get_data(as_text=True)
    before = snapshot(CaseReopening)
    response = consul.post(f"/casos/{case.id}/reabrir", data={"motivo": REASON}, follow_redirects=True)
    assert any("no prevé la reapertura" in f and case.number in f for f in flashes(response.get_data(as_text=True)))
    assert snapshot(CaseReopening) == before and case_of(instance).status == "cerrado"


SIGNAL_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:signal id="S" name="{signal}" />
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:{kind} id="ev"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:signalEventDefinition id="sd" signalRef="S" /></bpmn:{kind}>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ev" />
    <bpmn:sequenceFlow id="f2" sourceRef="ev" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("kind,signal,refused", [
    ("intermediateCatchEvent", "caso_reabierto", False),  # the allowlisted form: waited for
    ("intermediateThrowEvent", "caso_reabierto", True),  # a diagram cannot reopen a case by itself
    ("intermediateThrowEvent", "aviso_propio", False),  # the process owner's own signals stay free
])
def test_lint_accepts_the_reopening_signal_only_as_a_catch_event(app, kind, signal, refused):
    problems = lint_diagram("p.bpmn", SIGNAL_DIAGRAM.format(kind=kind, signal=signal).encode(), {})
    mine = [m for _f, e, m in problems if e == "ev" and "la entrega SIPROC" in m]
    assert bool(mine) == refused, problems


def test_deliver_message_refuses_an_instance_not_waiting_for_it(login):
    """The generic engine call: an event the instance does not wait for is refused and nothing is saved."""
    from app.core.errors import DomainError
    from app.workflow import services as workflow

    officer = login("oficial.tap")
    instance = db.session.get(WorkflowInstance, register_case(officer).id)
    state = instance.state_json
    with pytest.raises(DomainError, match="no espera el evento «caso_reabierto»"):
        workflow.deliver_message(instance, "caso_reabierto", {"x": 1})
    db.session.rollback()
    db.session.expire_all()
    instance = db.session.get(WorkflowInstance, instance.id)
    assert instance.state_json == state and single_open_task(instance_id=instance.id).title.startswith("Evaluación")
