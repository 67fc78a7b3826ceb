"""Headless Chromium: an officer refers a case to two institutions from the rows of the Remisión form, and one
institution answers through its own link, without an account."""
from app.auth.models import User
from app.cases import referrals
from app.cases.models import Referral
from app.core import clock
from app.extensions import db
from app.tasks.services import submit_values
from app.workflow import services as workflow
from app.workflow.models import HumanTask
from tests.browser.conftest import ARTIFACTS, BROWSER, CSP_LISTENER, assert_clean_console, log_in
from tests.helpers import REGISTRO

pytestmark = list(BROWSER)


def _case_at_referral(app) -> int:
    """A TAP case registered and assessed (a referral is needed): the id of its open «Remisión» task."""
    with app.test_request_context():
        officer = db.session.scalar(db.select(User).where(User.username == "oficial.tap"))
        instance = workflow.start_instance(workflow.latest_version("proteccion_consular"), officer.office_id,
                                           officer.id)
        db.session.commit()
        for values in ({**REGISTRO, "vulnerabilidades": ["SIN_DOCUMENTOS"]},
                       {"necesidades": ["documentacion"], "nivel_riesgo": "alto", "requiere_remision": True}):
            task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                                HumanTask.completed_at.is_(None)))
            submit_values(officer, task, values)
            db.session.commit()
        return db.session.scalar(db.select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                               HumanTask.completed_at.is_(None)))


def test_two_institutions_at_once_then_one_answers_through_its_link(live_app, live_server, page):
    task_id = _case_at_referral(live_app)
    log_in(page, live_server, "oficial.tap")
    page.goto(f"{live_server}/tareas/{task_id}")
    assert page.locator("h1").inner_text() == "Remisión a institución"
    # with JavaScript only the first (empty) row shows, and «Añadir otra» reveals the next
    page.select_option("#remisiones-0-institucion", "INM-MX")
    page.fill("#remisiones-0-servicio_solicitado", "Agilizar el retorno asistido.")
    assert not page.locator("#remisiones-1-institucion").is_visible()
    page.click("text=Añadir otra")
    page.select_option("#remisiones-1-institucion", "OIM")
    page.fill("#remisiones-1-servicio_solicitado", "Albergue temporal y traslado.")
    page.fill("#remisiones-1-plazo_dias", "3")
    page.fill("#fecha_envio", clock.now().date().isoformat())
    page.check("#consentimiento")
    page.screenshot(path=ARTIFACTS / "70-remision-filas.png", full_page=True)
    page.click("text=Completar tarea")
    assert "completada" in page.locator(".alert-success").inner_text()

    with live_app.app_context():
        sent = db.session.scalars(db.select(Referral).order_by(Referral.id)).all()
        assert [r.institution_code for r in sent] == ["INM-MX", "OIM"]
        case_id, oim = sent[0].case_id, sent[1]
        token = referrals.issue_link(oim, clock.now())
        db.session.commit()
    page.goto(f"{live_server}/tareas/")
    inbox = page.locator("main").inner_text()
    assert "Respuesta de la institución · INM México" in inbox and "Respuesta de la institución · OIM" in inbox
    page.screenshot(path=ARTIFACTS / "71-bandeja-remisiones.png", full_page=True)
    assert_clean_console(page)

    # the institution, in another browser context: no account, only its link
    institution = page.context.browser.new_page(locale="es-HN")
    institution.add_init_script(CSP_LISTENER)
    institution.goto(f"{live_server}/remision/{token}")
    assert "Albergue temporal y traslado." in institution.locator("main").inner_text()
    assert "Agilizar el retorno asistido." not in institution.locator("main").inner_text()
    institution.screenshot(path=ARTIFACTS / "72-enlace-institucion.png", full_page=True)
    assert institution.evaluate("window.__csp") == []  # the page obeys the same Content-Security-Policy
    institution.check("#accion-rechazar")
    institution.fill("#nombre", "María Soto, coordinadora")
    institution.click("text=Enviar respuesta al consulado")
    assert "Revise los datos" in institution.locator(".alert-danger").inner_text() or \
        "motivo del rechazo" in institution.locator("main").inner_text()
    institution.fill("#texto", "Sin cupo en el albergue este mes.")
    institution.check("#accion-rechazar")
    institution.click("text=Enviar respuesta al consulado")
    assert "quedó «Rechazada»" in institution.locator(".alert-success").inner_text()
    institution.screenshot(path=ARTIFACTS / "73-enlace-respondido.png", full_page=True)

    page.goto(f"{live_server}/casos/{case_id}#remisiones")
    table = page.locator("table.referrals").inner_text()
    assert "Rechazada" in table and "por el enlace de la institución" in table and "María Soto" in table
    assert "Oficio (PDF)" in table
    page.locator("#remisiones").screenshot(path=ARTIFACTS / "74-caso-remisiones.png")
    assert_clean_console(page)
