"""Changing a case's course (issue 17, part 5): a supervisor changes the category with a reason (audited, timeline,
statistics and inbox follow); a missing-person search that ends «localizada fallecida» goes on to the repatriation
of remains on the same case, with the family contact carried over."""
import re
from datetime import timedelta

from app.audit.models import AuditEvent
from app.cases.models import Case, CaseCategoryChange, CaseEvent
from app.core import clock
from app.extensions import db
from app.stats.models import CaseFact
from app.workflow.models import HumanTask
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
from tests.workflow.test_category_subprocesses import ACCION, DENUNCIA, RESULTADO

REASON = "La evaluación mostró que está detenido, no solo retenido."


def test_supervisor_changes_the_category_and_statistics_and_inbox_follow(login, users):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer)  # RET
    case = case_of(instance)
    assert case.category_code == "RET" and single_open_task(instance_id=instance.id).category_code == "RET"
    page = consul.get(f"/casos/{case.id}/curso").get_data(as_text=True)
    assert "Nueva categoría" in page
    assert "Cambiar la categoría del caso" in consul.get(f"/casos/{case.id}").get_data(as_text=True)

    response = consul.post(f"/casos/{case.id}/categoria", data={"categoria": "DET", "motivo": REASON},
                           follow_redirects=True)
    assert "Categoría del caso cambiada." in flashes(response.get_data(as_text=True))
    case = case_of(instance)
    assert case.category_code == "DET"
    assert single_open_task(instance_id=instance.id).category_code == "DET"  # the inbox's category column
    assert db.session.get(CaseFact, case.id).category_code == "DET"  # the statistics row
    change = db.session.scalar(db.select(CaseCategoryChange).where(CaseCategoryChange.case_id == case.id))
    assert (change.from_code, change.to_code, change.reason, change.changed_by_id) == (
        "RET", "DET", REASON, users["consul.tap"].id)
    event = db.session.scalar(db.select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                         CaseEvent.kind == "category_changed"))
    assert "→" in event.title and event.details == [["Motivo", REASON]]
    audit_row = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "case_category_changed"))
    assert audit_row.case_id == case.id and '"RET"' in audit_row.details_json and '"DET"' in audit_row.details_json
    analyst = login("analista")
    start, end = (clock.now() - timedelta(days=40)).strftime("%Y-%m"), clock.now().strftime("%Y-%m")
    by_det = analyst.get(f"/estadisticas/?desde={start}&hasta={end}&categoria=DET").get_data(as_text=True)
    by_ret = analyst.get(f"/estadisticas/?desde={start}&hasta={end}&categoria=RET").get_data(as_text=True)
    assert _kpi(by_det, "kpi-registered") == "1" and _kpi(by_ret, "kpi-registered") == "0"


def _kpi(page, testid):
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', page)
    return match.group(1).strip() if match else ""


def test_category_change_refusals_change_nothing(login):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer)
    case = case_of(instance)

    def unchanged(client, case_id, data, status, message=None):
        before = (snapshot(Case), snapshot(CaseCategoryChange), snapshot(CaseEvent), snapshot(HumanTask))
        response = client.post(f"/casos/{case_id}/categoria", data=data, follow_redirects=True)
        assert response.status_code == status
        if message:
            assert any(message in f for f in flashes(response.get_data(as_text=True))), \
                flashes(response.get_data(as_text=True))
        assert (snapshot(Case), snapshot(CaseCategoryChange), snapshot(CaseEvent), snapshot(HumanTask)) == before

    unchanged(consul, case.id, {"categoria": "NOEXISTE", "motivo": REASON}, 200, "Elija una categoría existente.")
    unchanged(consul, case.id, {"categoria": "RET", "motivo": REASON}, 200, "El caso ya tiene esa categoría.")
    unchanged(consul, case.id, {"categoria": "DET", "motivo": " "}, 200, "Explique el motivo")
    for username in ("oficial.tap", "oficial.hou", "consul.hou", "analista", "admin"):
        unchanged(login(username), case.id, {"categoria": "DET", "motivo": REASON}, 403)

    for data in (EVALUACION_SIN_REMISION, ATENCION, SEGUIMIENTO_FIN, PROPUESTA):
        submit(officer, single_open_task(instance_id=instance.id), data)
    submit(consul, single_open_task(instance_id=instance.id), APROBAR)
    assert case_of(instance).status == "cerrado"
    before = snapshot(CaseCategoryChange)
    response = consul.post(f"/casos/{case.id}/categoria", data={"categoria": "DET", "motivo": REASON},
                           follow_redirects=True)
    assert "solo lectura" in response.get_data(as_text=True)
    assert snapshot(CaseCategoryChange) == before and case_of(instance).category_code == "RET"


def test_search_ending_deceased_goes_on_to_repatriation_on_the_same_case(login, users):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer, categoria="BUS", contacto_familiar="María Núñez Ortega",
                             parentesco_contacto="Madre", telefono_contacto="+504 9999-1234")
    case = case_of(instance)
    for data in (EVALUACION_SIN_REMISION, DENUNCIA, {**ACCION, "continuar_busqueda": "no"}):
        submit(officer, single_open_task(instance_id=instance.id), data)
    result = {**RESULTADO, "resultado_busqueda": "localizada_fallecida",
              "lugar_localizacion": "Servicio Médico Forense de Reynosa"}
    response = submit(officer, single_open_task(instance_id=instance.id), result)
    del response

    task = single_open_task(instance_id=instance.id)
    assert task.title == "Documentos para la repatriación" and task.case_id == case.id  # the same case
    case = case_of(instance)
    assert case.category_code == "BUS"  # counted as the search it was opened for...
    assert [c.code for c in case.secondary_categories] == ["REP"]  # ...with the repatriation added
    change = db.session.scalar(db.select(CaseCategoryChange).where(CaseCategoryChange.case_id == case.id))
    assert (change.from_code, change.to_code, change.kind) == (None, "REP", "secundaria")
    assert db.session.scalar(db.select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.kind == "category_changed")) is not None

    from tests.workflow.test_category_subprocesses import DOCUMENTOS, FOSMIH_RECHAZADO, FUNERARIA, TRASLADO
    for data in (DOCUMENTOS, FUNERARIA):
        submit(officer, single_open_task(instance_id=instance.id), data)
    submit(consul, single_open_task(instance_id=instance.id), FOSMIH_RECHAZADO)
    submit(officer, single_open_task(instance_id=instance.id), TRASLADO)
    delivery = single_open_task(instance_id=instance.id)
    assert delivery.title == "Entrega a la familia"
    page = officer.get(f"/tareas/{delivery.id}").get_data(as_text=True)
    # the family contact recorded with the person starts the hand-over form (the officer may correct it)
    assert re.search(r'name="persona_recibe"[^>]*value="María Núñez Ortega"', page) or \
        re.search(r'value="María Núñez Ortega"[^>]*name="persona_recibe"', page), page[:200]
    assert "9999-1234" in page


def test_search_ending_alive_does_not_start_repatriation(login):
    officer = login("oficial.tap")
    instance = register_case(officer, categoria="BUS")
    for data in (EVALUACION_SIN_REMISION, DENUNCIA, {**ACCION, "continuar_busqueda": "no"}, RESULTADO):
        submit(officer, single_open_task(instance_id=instance.id), data)
    assert single_open_task(instance_id=instance.id).title == "Atención brindada"
    case = case_of(instance)
    assert case.secondary_categories == [] and case.category_code == "BUS"
