"""Headless Chromium: the case file around the person (issue 17). A supervisor approves a closure seeing what it
approves, reopens the case, opens the person's page with another record of the same man, merges the two, and
prints the case file."""
from datetime import date

from app.auth.models import User
from app.cases.models import Case, Person
from app.cases.persons import refresh_search_keys
from app.extensions import db
from app.reference.models import Office
from app.tasks.services import submit_values
from app.workflow import services as workflow
from app.workflow.models import HumanTask, WorkflowInstance
from tests.browser.conftest import ARTIFACTS, BROWSER, assert_clean_console, log_in
from tests.helpers import ATENCION, EVALUACION_SIN_REMISION, PROPUESTA, REGISTRO, SEGUIMIENTO_FIN, utc

pytestmark = list(BROWSER)


def _open_task(instance_id):
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.completed_at.is_(None)))


def _case_with_closure_proposed(app):
    """A TAP case walked by its officer to «Propuesta de cierre» (done); a second record of the same man, typed
    without his DNI and second surname in another case of the office. Returns (case id, approval task id, the
    duplicate's person id)."""
    with app.test_request_context():
        officer = db.session.scalar(db.select(User).where(User.username == "oficial.tap"))
        instance = workflow.start_instance(workflow.latest_version("proteccion_consular"), officer.office_id,
                                           officer.id)
        db.session.commit()
        for values in (REGISTRO, EVALUACION_SIN_REMISION, ATENCION, SEGUIMIENTO_FIN, PROPUESTA):
            submit_values(officer, _open_task(instance.id), values)
            db.session.commit()
        case = db.session.get(Case, db.session.get(WorkflowInstance, instance.id).case_id)
        duplicate = Person(given_names="Jose Angel", first_surname="Hernandez", sex="M", nationality="HN",
                           birth_date=date(1988, 7, 30), family_contact_name="Marta Núñez")
        refresh_search_keys(duplicate)
        db.session.add(duplicate)
        db.session.flush()
        office = db.session.scalar(db.select(Office).where(Office.code == "TAP"))
        db.session.add(Case(number="TAP-2025-00077", office_id=office.id, person_id=duplicate.id,
                            category_code="DET", summary="Detenido en Huixtla en 2025.", status="en_atencion",
                            opened_at=utc(2025, 3, 4, 15), age_at_opening=36))
        db.session.commit()
        return case.id, _open_task(instance.id).id, duplicate.id


def test_approve_seeing_the_proposal_reopen_merge_the_person_and_print(live_app, live_server, page):
    case_id, approval_id, duplicate_id = _case_with_closure_proposed(live_app)
    log_in(page, live_server, "consul.tap")

    # the approval shows what it approves, without opening the case
    page.goto(f"{live_server}/tareas/{approval_id}")
    main = page.locator("main").inner_text()
    assert "Retorno completado sin novedad." in main and "Salvoconducto emitido" in main
    page.screenshot(path=ARTIFACTS / "80-aprobacion-con-propuesta.png", full_page=True)
    page.check("input[name=decision_cierre][value=aprobar]")
    page.click("text=Completar tarea")
    assert "completada" in page.locator(".alert-success").inner_text()

    # closed, then reopened by the supervisor with a reason: back to follow-up, same number
    page.goto(f"{live_server}/casos/{case_id}")
    assert "Cerrado" in page.locator("main").inner_text()
    number = page.locator("h1").inner_text().split(" · ")[0]
    page.goto(f"{live_server}/casos/{case_id}/curso")
    page.fill("#motivo-reapertura", "La familia informa que volvió a ser detenido en Tapachula.")
    page.screenshot(path=ARTIFACTS / "81-reabrir-caso.png", full_page=True)
    page.click("form:has(#motivo-reapertura) button[type=submit]")
    assert "Caso reabierto" in page.locator(".alert-success").inner_text()
    page.goto(f"{live_server}/casos/{case_id}")
    assert page.locator("h1").inner_text().startswith(number)
    assert "Seguimiento" in page.locator("main").inner_text()

    # the person's page, from the case page; the other record of the same man is merged into it
    page.click("text=Ficha de la persona")
    assert page.locator("[data-testid=person-name]").inner_text() == "José Ángel Hernández Núñez"
    person_url = page.url
    person_id = int(person_url.rstrip("/").split("/")[-1])
    page.screenshot(path=ARTIFACTS / "82-ficha-persona.png", full_page=True)
    page.goto(f"{live_server}/personas/{person_id}/fusionar/{duplicate_id}")
    page.fill("#motivo", "Mismo hombre, misma fecha de nacimiento; registrado sin DNI en 2025.")
    page.screenshot(path=ARTIFACTS / "83-comparar-fusionar.png", full_page=True)
    page.click("button:has-text(\"Fusionar personas\")")
    page.screenshot(path=ARTIFACTS / "84-persona-fusionada.png", full_page=True)
    main = page.locator("main").inner_text()
    assert "TAP-2025-00077" in main and number in main  # both cases now on one person
    page.screenshot(path=ARTIFACTS / "84-persona-fusionada.png", full_page=True)
    page.goto(f"{live_server}/personas/{duplicate_id}")  # the merged-away number leads to the survivor
    assert page.locator("[data-testid=person-name]").inner_text() == "José Ángel Hernández Núñez"

    # the printable case file: choose the sections and the recipient, print view, PDF
    page.goto(f"{live_server}/casos/{case_id}")
    page.click("text=Imprimir expediente")
    page.uncheck("#sec-notas")
    page.check("#dest-tribunal")
    page.click("button:has-text(\"Vista de impresión\")")
    main = page.locator("body").inner_text()
    assert number in main and "Salvoconducto emitido" in main and "Retorno completado sin novedad." in main
    page.screenshot(path=ARTIFACTS / "85-vista-impresion.png", full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=ARTIFACTS / "86-vista-impresion-print.png", full_page=True)
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.click("button:has-text(\"Descargar PDF\"), a:has-text(\"Descargar PDF\")")
    assert download.value.suggested_filename.endswith(".pdf")
    assert_clean_console(page)
