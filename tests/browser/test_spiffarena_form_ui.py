"""Headless Chromium: a form written the way SpiffArena writes it (nested groups inside repeatable rows, $ref,
enumNames, nullable fields) as an officer meets it — one row shown because minItems is 1, «Añadir otra» and
«Quitar» through the external script, and what is sent is what the process receives."""
from app.auth.models import User
from app.extensions import db
from app.tasks.services import submit_values
from app.workflow import services as workflow
from app.workflow.deploy import deploy_files
from app.workflow.models import HumanTask, WorkflowInstance
from tests.browser.conftest import ARTIFACTS, BROWSER, assert_clean_console, log_in
from tests.formschema.test_spiffarena_forms import DIAGRAM, FORMS

pytestmark = list(BROWSER)


def _contacts_task(app) -> tuple[int, int]:
    """(instance id, id of the open «Contactos familiares» task) after the fruit step was completed."""
    with app.test_request_context():
        deploy_files({"spiff_formularios.bpmn": DIAGRAM.encode()}, FORMS, decisions={})
        db.session.commit()
        officer = db.session.scalar(db.select(User).where(User.username == "oficial.tap"))
        instance = workflow.start_instance(workflow.latest_version("spiff_formularios"), officer.office_id,
                                           officer.id)
        db.session.commit()
        task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                            HumanTask.completed_at.is_(None)))
        submit_values(officer, task, {"favoriteFruit": "apples", "urgency": "alta"})
        db.session.commit()
        task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                            HumanTask.completed_at.is_(None)))
        return instance.id, task.id


def test_rows_of_nested_groups_are_added_and_removed_and_what_is_sent_reaches_the_process(live_app, live_server,
                                                                                          page):
    instance_id, task_id = _contacts_task(live_app)
    log_in(page, live_server, "oficial.tap")
    page.goto(f"{live_server}/tareas/{task_id}")
    assert page.locator("h1").inner_text() == "Contactos familiares"
    first, second = page.locator("#contactos-0-nombre"), page.locator("#contactos-1-nombre")
    assert first.is_visible() and not second.is_visible()  # minItems 1: that row is the empty one offered
    assert page.locator("#contactos-0-contacto-telefono").is_visible()  # the nested group inside the row
    page.fill("#contactos-0-nombre", "Rosa Pérez")
    page.select_option("#contactos-0-parentesco", "madre")  # enumNames: the value, shown as «Madre»
    assert page.locator("#contactos-0-parentesco option[value=madre]").inner_text() == "Madre"
    page.fill("#contactos-0-contacto-telefono", "+52 55 1234 5678")
    page.click("text=Añadir otra")
    assert second.is_visible()
    page.fill("#contactos-1-nombre", "Persona equivocada")
    page.select_option("#contactos-1-parentesco", "otro")
    page.screenshot(path=ARTIFACTS / "90-formulario-spiffarena-filas.png", full_page=True)
    page.locator("[data-row]").nth(1).locator("text=Quitar").click()
    assert not second.is_visible() and second.input_value() == ""  # removed rows are emptied, so never sent
    page.check("#avisar")
    page.click("text=Completar tarea")
    assert "completada" in page.locator(".alert-success").inner_text()
    assert_clean_console(page)

    with live_app.app_context():
        data = workflow.load_workflow(db.session.get(WorkflowInstance, instance_id)).data
        assert data["contactos"] == [{"nombre": "Rosa Pérez", "parentesco": "madre",
                                      "contacto": {"telefono": "+52 55 1234 5678", "correo": None}}]
        assert data["avisar"] is True and data["observaciones"] is None
