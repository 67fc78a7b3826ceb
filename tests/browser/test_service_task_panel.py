"""Headless Chromium against the real app: a process owner selects the protection process's service task, picks a
SIPROC connector from the panel's list, fills its parameters, saves; the draft on the server carries them as
SpiffArena writes them (serviceTaskOperator / parameters / parameter id type value), and validation accepts them."""
import xml.etree.ElementTree as ET

from tests.browser.conftest import ARTIFACTS, BROWSER, assert_clean_console, log_in

pytestmark = BROWSER
NS = {"spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
TASK = "Service_recordatorio_institucion"


def draft_operator(page, base):
    xml = page.evaluate("async url => (await fetch(url)).text()", base + "/procesos/proteccion_consular/borrador.bpmn")
    root = ET.fromstring(xml.encode("utf-8"))
    task = root.find(f".//*[@id='{TASK}']")
    operator = task.find(".//spiffworkflow:serviceTaskOperator", NS)
    return operator, [(p.get("id"), p.get("type"), p.get("value"))
                      for p in operator.iterfind("spiffworkflow:parameters/spiffworkflow:parameter", NS)]


def test_owner_chooses_a_connector_and_its_parameters_in_the_panel(live_server, page):
    base = live_server
    log_in(page, base, "gestor")
    page.goto(base + "/procesos/proteccion_consular/editor")
    page.wait_for_selector("#canvas[data-ready='true']")
    page.evaluate("""async id => {
        const e = await (await import('/static/js/modeler/main.js')).ready;
        const canvas = e.modeler.get('canvas'), element = e.modeler.get('elementRegistry').get(id);
        canvas.setRootElement(canvas.findRoot(element));  // it is inside the collapsed referral sub-process
        e.modeler.get('selection').select(element);
    }""", TASK)
    page.wait_for_function(f"() => document.getElementById('properties-panel').dataset.elementId === '{TASK}'")

    # The project's connector, as published, is shown with its parameter.
    assert page.locator("#siproc-field-svc-connector").input_value() == "siproc/remision_recordatorio"
    assert page.locator("#siproc-field-svc-param-referral_id").input_value() == 'remision["referral_id"]'
    labels = page.locator("#siproc-field-svc-connector option").all_inner_texts()
    assert "Aviso a un rol de la oficina del caso" in labels and "Remisión del caso a una institución" in labels

    page.select_option("#siproc-field-svc-connector", "siproc/aviso_rol")
    page.wait_for_selector("#siproc-field-svc-param-rol")
    page.select_option("#siproc-field-svc-param-rol", label="Supervisor (cónsul)")
    page.fill("#siproc-field-svc-param-titulo", "Sin respuesta de la institución · {numero_caso}")
    page.press("#siproc-field-svc-param-titulo", "Tab")
    page.fill("#siproc-field-svc-param-mensaje", "Revise la remisión.")
    page.fill("#siproc-field-svc-result", "aviso")
    page.press("#siproc-field-svc-result", "Enter")
    page.screenshot(path="/tmp/h18/service-panel.png")
    page.screenshot(path=ARTIFACTS / "service-panel.png")
    page.click("#btn-save")
    page.wait_for_function("() => document.getElementById('modeler-status').dataset.state === 'success'")

    operator, params = draft_operator(page, base)
    assert operator.get("id") == "siproc/aviso_rol" and operator.get("resultVariable") == "aviso"
    assert params == [("rol", "str", '"supervisor"'),
                      ("titulo", "str", '"Sin respuesta de la institución · {numero_caso}"'),
                      ("mensaje", "str", '"Revise la remisión."')]

    # The server's validation accepts what the panel wrote (no problem on the service task).
    page.click("#btn-validate")
    page.wait_for_function("() => document.getElementById('modeler-status').dataset.state")
    assert TASK not in page.locator("#problems").inner_text()

    # The panel reads back what it wrote: the title as plain text, the role chosen.
    assert page.locator("#siproc-field-svc-param-titulo").input_value() == \
        "Sin respuesta de la institución · {numero_caso}"
    assert page.locator("#siproc-field-svc-param-rol").input_value() == '"supervisor"'

    # Each panel change is one undo step: five undos bring back the published connector and its parameter.
    for _step in range(5):
        page.evaluate("async () => (await (await import('/static/js/modeler/main.js')).ready)"
                      ".modeler.get('commandStack').undo()")
    page.wait_for_function("() => document.getElementById('siproc-field-svc-connector').value === "
                           "'siproc/remision_recordatorio'")
    assert page.locator("#siproc-field-svc-param-referral_id").input_value() == 'remision["referral_id"]'
    assert_clean_console(page)
