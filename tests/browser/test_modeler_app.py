"""Headless Chromium against the real app: a process owner renames a task in the browser editor and publishes
it; an officer's next case follows the new version; the case page shows where the case stands in the diagram."""
from tests.browser.conftest import ARTIFACTS, BROWSER, assert_clean_console, log_in

pytestmark = BROWSER


def login(page, base, username):
    page.context.clear_cookies()  # a fresh session (logging out is a POST form in the navigation bar)
    log_in(page, base, username)


def test_owner_publishes_a_renamed_task_and_the_next_case_uses_it(live_server, page):
    base = live_server
    login(page, base, "gestor")
    page.goto(base + "/procesos/proteccion_consular/editor")
    page.wait_for_selector("#canvas[data-ready='true']")
    assert page.locator("#modeler-status").inner_text() == "Diagrama cargado."

    page.locator(".djs-element[data-element-id='Task_registro']").click()
    page.wait_for_function("() => document.getElementById('properties-panel').dataset.elementId === 'Task_registro'")
    page.fill("#siproc-field-name", "Registro inicial del caso")
    page.press("#siproc-field-name", "Enter")
    page.screenshot(path=ARTIFACTS / "46b-editor-renombrar.png")
    page.click("#btn-save")
    page.wait_for_function("() => document.getElementById('modeler-status').dataset.state === 'success'")
    assert page.locator("#modeler-status").inner_text() == "Borrador guardado."

    page.fill("#publish-comment", "Nombre más claro para el registro")
    page.click("#btn-publish")
    page.wait_for_function("() => /Publicada la versión/.test(document.getElementById('modeler-status').innerText)")
    assert page.locator("#modeler-status").inner_text().startswith("Publicada la versión 2.")
    page.screenshot(path=ARTIFACTS / "47-editor-publicado.png")

    page.goto(base + "/procesos/proteccion_consular/")
    rows = page.locator("[data-testid=versions] tbody tr").all_inner_texts()
    assert rows[0].startswith("v2") and "Nombre más claro para el registro" in rows[0]
    assert rows[1].startswith("v1")
    page.screenshot(path=ARTIFACTS / "48-versiones.png", full_page=True)
    assert_clean_console(page)

    # The officer's next case starts on version 2: the first task carries the new name.
    login(page, base, "oficial.tap")
    page.click("text=Nuevo caso")
    page.click("text=Iniciar el registro")
    assert page.locator("h1").inner_text() == "Registro inicial del caso"
    page.goto(base + "/tareas/")  # the started registration waits in the inbox under its new name
    assert "Registro inicial del caso" in page.locator("main table").inner_text()
    page.screenshot(path=ARTIFACTS / "48b-bandeja-tarea-renombrada.png", full_page=True)
    page.click("main table >> text=Registro inicial del caso")
    assert page.locator("h1").inner_text() == "Registro inicial del caso"
    page.select_option("#categoria", "SAL")
    page.fill("#nombres", "Óscar Armando")
    page.fill("#primer_apellido", "Reyes")
    page.check("#sexo-1")
    page.fill("#fecha_nacimiento", "1988-07-02")
    page.select_option("#municipio_origen", "0501")
    page.select_option("#pais_ubicacion", "MX")
    page.fill("#relato", "Hospitalizado en Tapachula tras un accidente.")
    page.click("text=Completar tarea")
    assert page.locator("h1").inner_text() == "Evaluación de necesidades y riesgos"
    assert "«Registro inicial del caso» completada." in page.locator(".alert-success").inner_text()

    # The case page: the diagram of the case's version, the done step green, the current one blue.
    page.click(".breadcrumb a >> nth=1")
    page.wait_for_selector("#case-diagram[data-ready='true']")
    done = page.locator("#case-diagram .djs-element.siproc-done[data-element-id='Task_registro']")
    current = page.locator("#case-diagram .djs-element.siproc-current[data-element-id='Task_evaluacion']")
    assert done.count() == 1 and current.count() == 1
    assert "Registro inicial del caso" in done.text_content()
    assert "Protección consular v2" in page.locator("#h-diagrama").inner_text()
    assert page.locator(".siproc-legend").count() == 1
    page.locator("#case-diagram").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "49-caso-diagrama.png", full_page=True)
    assert_clean_console(page)
