"""End to end through the web: officers and supervisors walk cases to closure on both branches."""
import json

from app.cases.models import Case, CaseEvent, Person
from app.extensions import db
from app.workflow.models import HumanTask, Timer, WorkflowInstance
from tests.conftest import flashes
from tests.helpers import (
    APROBAR,
    ATENCION,
    EVALUACION_REMITIR,
    EVALUACION_SIN_REMISION,
    PROPUESTA,
    RECHAZAR,
    REGISTRO,
    REMISION,
    RESPUESTA_ACEPTADA,
    SEGUIMIENTO_FIN,
    case_of,
    register_case,
    single_open_task,
    start_case,
    submit,
)


def test_referral_branch_with_supervisor_rejection_then_approval(login):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer)
    case = case_of(instance)
    assert case.number.startswith("TAP-") and case.number.endswith("-00001")
    assert case.status == "en_evaluacion"
    assert case.person.dni == "0501198802231" and case.person.full_name == "José Ángel Hernández Núñez"

    steps = [
        ("Evaluación de necesidades y riesgos", EVALUACION_REMITIR, "en_remision"),
        ("Remisión a institución", REMISION, "en_remision"),
        ("Respuesta de la institución · INM México", RESPUESTA_ACEPTADA, "en_atencion"),
        ("Atención brindada", ATENCION, "en_seguimiento"),
        ("Seguimiento", SEGUIMIENTO_FIN, "en_seguimiento"),
        ("Propuesta de cierre", PROPUESTA, "cierre_propuesto"),
    ]
    for title, data, status_after in steps:
        task = single_open_task(instance_id=instance.id)
        assert task.title == title
        submit(officer, task, data)
        assert case_of(instance).status == status_after, title

    approval = single_open_task(instance_id=instance.id)
    assert approval.title == "Aprobación de cierre" and approval.role == "supervisor"
    # the officer cannot approve the closure; the supervisor can
    assert officer.post(f"/tareas/{approval.id}", data=APROBAR).status_code == 403
    submit(consul, approval, RECHAZAR)
    back = single_open_task(instance_id=instance.id)
    assert back.title == "Atención brindada"
    assert case_of(instance).status == "en_atencion" and case_of(instance).closed_at is None

    for data in (ATENCION, SEGUIMIENTO_FIN, PROPUESTA):
        submit(officer, single_open_task(instance_id=instance.id), data)
    submit(consul, single_open_task(instance_id=instance.id), APROBAR)

    case = case_of(instance)
    assert case.status == "cerrado" and case.closed_at is not None and case.closure_reason == "retornado"
    # the closed case's instance waits at «Caso cerrado · reapertura» (issue 17): no task, no timer
    assert db.session.get(WorkflowInstance, instance.id).status == "running"
    assert not db.session.scalars(
        db.select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None))).all()
    assert db.session.scalar(db.select(db.func.count(Timer.id)).where(Timer.instance_id == instance.id)) == 0

    page = consul.get(f"/casos/{case.id}").get_data(as_text=True)
    assert "Cerrado" in page and "Rechazar: el caso vuelve a atención" in page
    events = db.session.scalars(db.select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    # registro + 6 steps + rejection + 3 repeated steps + approval, and the referral: sent, its letter filed, answered
    assert len(events) == 15
    assert all(e.actor_id is not None for e in events)


def test_branch_without_referral_goes_straight_to_assistance(login):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_SIN_REMISION)
    task = single_open_task(instance_id=instance.id)
    assert task.title == "Atención brindada"
    for data in (ATENCION, SEGUIMIENTO_FIN, PROPUESTA):
        submit(officer, single_open_task(instance_id=instance.id), data)
    submit(consul, single_open_task(instance_id=instance.id), APROBAR)
    assert case_of(instance).status == "cerrado"
    case_id = case_of(instance).id
    titles = [e.title for e in db.session.scalars(db.select(CaseEvent).where(CaseEvent.case_id == case_id))]
    assert "Remisión a institución" not in titles


def test_history_shows_who_when_and_what_was_entered(login, users):
    officer = login("oficial.tap")
    instance = register_case(officer)
    case = case_of(instance)
    page = officer.get(f"/casos/{case.id}").get_data(as_text=True)
    assert "Registro del caso" in page and users["oficial.tap"].full_name in page
    assert "Retenido en estación migratoria." in page and "San Pedro Sula" in page  # municipality label, not code
    event = db.session.scalar(db.select(CaseEvent).where(CaseEvent.case_id == case.id))
    assert ["Sexo", "Hombre"] in event.details


def test_same_task_submitted_twice_is_refused_and_changes_nothing(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    task = single_open_task(instance_id=instance.id)
    submit(officer, task, EVALUACION_SIN_REMISION)
    before = _snapshot(instance.id)

    response = officer.post(f"/tareas/{task.id}", data=EVALUACION_REMITIR, follow_redirects=True)
    assert response.status_code == 200
    assert any("ya fue completada" in f for f in flashes(response.get_data(as_text=True)))
    assert _snapshot(instance.id) == before
    assert case_of(instance).risk_level == "bajo"


def test_task_of_another_office_is_refused(login):
    houston = login("oficial.hou")
    instance = register_case(login("oficial.tap"))
    task = single_open_task(instance_id=instance.id)
    before = _snapshot(instance.id)
    assert houston.get(f"/tareas/{task.id}").status_code == 403
    assert houston.post(f"/tareas/{task.id}", data=EVALUACION_SIN_REMISION).status_code == 403
    assert _snapshot(instance.id) == before
    assert houston.get(f"/casos/{case_of(instance).id}").status_code == 403
    inbox = houston.get("/tareas/").get_data(as_text=True)
    assert "Hernández" not in inbox


def test_invalid_form_rerenders_in_spanish_and_saves_nothing(login):
    officer = login("oficial.tap")
    task = start_case(officer)
    bad = {**REGISTRO, "nombres": "", "dni": "12345", "fecha_nacimiento": "2999-01-01", "edad_estimada": "200"}
    response = officer.post(f"/tareas/{task.id}", data=bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Este campo es obligatorio." in html
    assert "El DNI debe tener 13 dígitos" in html
    assert "La fecha no puede ser futura." in html
    assert "Debe estar entre 0 y 120." in html
    assert "Hernández" in html and "Retenido en estación migratoria." in html  # what was typed is kept
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 0
    assert db.session.get(HumanTask, task.id).completed_at is None


def test_conditional_rule_requires_rejection_reason(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    submit(officer, single_open_task(instance_id=instance.id), REMISION)
    task = single_open_task(instance_id=instance.id)
    response = submit(officer, task, {**RESPUESTA_ACEPTADA, "respuesta": "rechazada"}, expect=422)
    assert "Este campo es obligatorio." in response.get_data(as_text=True)
    assert single_open_task(instance_id=instance.id).id == task.id
    submit(officer, task, {**RESPUESTA_ACEPTADA, "respuesta": "rechazada", "motivo_rechazo": "Sin cupo"})
    decision = single_open_task(instance_id=instance.id)
    assert decision.title == "¿Remitir a otra institución?"  # a rejection asks whether to refer elsewhere
    submit(officer, decision, {"remitir_otra": "si"})
    assert single_open_task(instance_id=instance.id).title == "Remisión a institución"


def test_referral_without_consent_is_refused(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    task = single_open_task(instance_id=instance.id)
    no_consent = {k: v for k, v in REMISION.items() if k != "consentimiento"}
    response = submit(officer, task, no_consent, expect=422)
    assert "Sin el consentimiento de la persona no se puede remitir el caso" in response.get_data(as_text=True)


def test_returning_person_is_linked_by_dni(login):
    officer = login("oficial.tap")
    register_case(officer)
    register_case(officer, dni="0501198802231", nombres="Jose")
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 1
    numbers = db.session.scalars(db.select(Case.number).order_by(Case.id)).all()
    assert [n[-5:] for n in numbers] == ["00001", "00002"]


def _snapshot(instance_id):
    db.session.expire_all()
    instance = db.session.get(WorkflowInstance, instance_id)
    rows = db.session.execute(db.select(HumanTask.id, HumanTask.completed_at, HumanTask.completed_by_id)
                              .where(HumanTask.instance_id == instance_id).order_by(HumanTask.id)).all()
    events = db.session.scalar(db.select(db.func.count(CaseEvent.id)))
    return instance.lock_version, json.loads(instance.state_json)["last_task"], rows, events
