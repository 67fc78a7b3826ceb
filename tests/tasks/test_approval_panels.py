"""Every approval task shows what it approves above its form, without opening the case: for a closure the reason,
the summary, the open referrals, the assistance given, the last follow-ups and who proposed it when; for the
FOSMIH funding the quotation, the documents and what the fund already paid. Only to whom the case page would show
it: another office gets nothing."""
import html as htmllib
import re
from datetime import date

import pytest

from app.audit.models import AuditEvent
from app.cases.approval import PANELS
from app.cases.models import FollowUp, Referral
from app.extensions import db
from tests.helpers import (
    ATENCION,
    EVALUACION_REMITIR,
    EVALUACION_SIN_REMISION,
    PROPUESTA,
    SEGUIMIENTO_FIN,
    register_case,
    single_open_task,
    submit,
)
from tests.tasks.test_four_eyes import DOCUMENTOS, FUNERARIA


def panel_of(response) -> str:
    """The approval panel's text (tags dropped, entities decoded), '' when the page has none."""
    page = response.get_data(as_text=True)
    match = re.search(r'<section[^>]*data-testid="approval-panel".*?</section>', page, re.S)
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))) if match else ""


def closure_approval(officer, users):
    """A TAP case up to its closure approval, with one open and one finished referral and four follow-ups."""
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_SIN_REMISION)
    submit(officer, single_open_task(instance_id=instance.id), ATENCION)
    case_id = single_open_task(instance_id=instance.id).case_id
    author = users["oficial.tap"].id
    db.session.add_all([
        Referral(case_id=case_id, institution_code="OIM", service_requested="Albergue temporal en Tapachula",
                 sent_at=date(2026, 11, 20), status="aceptada", created_by_id=author),
        Referral(case_id=case_id, institution_code="INM-MX", service_requested="Retorno asistido ya cumplido",
                 sent_at=date(2026, 11, 18), status="atendida", created_by_id=author),
        *(FollowUp(case_id=case_id, done_on=date(2026, 11, day), method="llamada",
                   outcome=f"Llamada del día {day}", created_by_id=author) for day in (10, 12, 14)),
    ])
    db.session.commit()
    submit(officer, single_open_task(instance_id=instance.id), SEGUIMIENTO_FIN)  # a fourth follow-up, 25 Nov
    submit(officer, single_open_task(instance_id=instance.id), PROPUESTA)
    approval = single_open_task(instance_id=instance.id)
    assert approval.title == "Aprobación de cierre"
    return approval


def test_the_closure_approval_shows_what_the_supervisor_approves(login, users):
    officer, consul = login("oficial.tap"), login("consul.tap")
    approval = closure_approval(officer, users)
    response = consul.get(f"/tareas/{approval.id}")
    assert response.status_code == 200
    panel = panel_of(response)
    assert "Persona retornada o repatriada" in panel  # the reason, as its label
    assert PROPUESTA["resumen_cierre"] in panel
    assert "Albergue temporal en Tapachula" in panel and "Aceptada" in panel  # the open referral ...
    assert "Retorno asistido ya cumplido" not in panel  # ... not the finished one
    assert "Salvoconducto emitido" in panel and "250.50 MXN (FOSMIH)" in panel
    assert "Llegó bien" in panel and "Llamada del día 14" in panel and "Llamada del día 12" in panel
    assert "Llamada del día 10" not in panel  # the last three follow-ups only
    assert f"«Propuesta de cierre» completada por {users['oficial.tap'].full_name}" in panel
    page = response.get_data(as_text=True)
    assert page.index('data-testid="approval-panel"') < page.index('name="decision_cierre"')  # above the form
    viewed = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "task_viewed")
                                .order_by(AuditEvent.id.desc())).first()
    assert viewed.case_id == approval.case_id and viewed.details == {"panel_aprobacion": "cierre"}


def test_the_panel_stays_when_the_form_comes_back_with_errors(login, users):
    officer, consul = login("oficial.tap"), login("consul.tap")
    approval = closure_approval(officer, users)
    response = consul.post(f"/tareas/{approval.id}", data={"decision_cierre": "rechazar"})  # no observations
    assert response.status_code == 422
    assert PROPUESTA["resumen_cierre"] in panel_of(response)


def test_other_tasks_have_no_panel(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    assert panel_of(officer.get(f"/tareas/{single_open_task(instance_id=instance.id).id}")) == ""


@pytest.mark.parametrize("username", ["oficial.hou", "consul.hou"])
def test_another_office_sees_nothing_of_the_panel(login, users, username):
    approval = closure_approval(login("oficial.tap"), users)
    response = login(username).get(f"/tareas/{approval.id}")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert PROPUESTA["resumen_cierre"] not in page and "Albergue temporal" not in page


def test_a_central_user_sees_the_panel_as_the_case_page_shows_the_case(login, users):
    approval = closure_approval(login("oficial.tap"), users)
    analyst = login("analista")
    panel = panel_of(analyst.get(f"/tareas/{approval.id}"))
    case_page = analyst.get(f"/casos/{approval.case_id}").get_data(as_text=True)
    for shown in (PROPUESTA["resumen_cierre"], "Albergue temporal en Tapachula", "Salvoconducto emitido"):
        assert shown in panel and shown in case_page
    assert "0501" not in panel  # nothing of the person's identity


def test_the_fosmih_approval_shows_the_quotation_and_the_documents(login, users):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer, categoria="REP")
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    submit(officer, single_open_task(instance_id=instance.id), DOCUMENTOS)
    submit(officer, single_open_task(instance_id=instance.id), FUNERARIA)
    approval = single_open_task(instance_id=instance.id)
    panel = panel_of(consul.get(f"/tareas/{approval.id}"))
    assert "el financiamiento del FOSMIH" in panel
    assert f"«Funeraria» completada por {users['oficial.tap'].full_name}" in panel
    assert "Funerales del Sur" in panel and "48500" in panel and "Pesos mexicanos (MXN)" in panel
    assert "Permiso sanitario en trámite." in panel and "Hospital General de Tapachula" in panel
    assert "Nada todavía." in panel  # no FOSMIH payment yet for this case


def test_panels_are_registered_by_the_names_the_diagrams_use():
    from pathlib import Path

    diagrams = Path(__file__).resolve().parents[2] / "workflows" / "bpmn"
    used = set(re.findall(r'name="approvalPanel" value="([^"]+)"',
                          "".join(p.read_text() for p in diagrams.glob("*.bpmn"))))
    assert used == {"cierre", "fosmih"} and used <= set(PANELS)
