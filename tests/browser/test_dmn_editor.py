"""Headless Chromium against the real app: a process owner opens the risk matrix in the dmn-js editor (served
locally, under the Content-Security-Policy), sees the table, edits a cell and saves it; the check runs on the server
and the protection process is republished with the new table."""
import sqlite3

from tests.browser.conftest import ARTIFACTS, BROWSER, log_in

pytestmark = BROWSER
SCREENSHOT = "/tmp/h18/dmn-editor.png"


# dmn-js 17.10.2's bundle: Inferno's development-build notice, and the bpmn.io watermark written with inline style
# attributes, which the policy drops (app/static/css/dmn.css places the watermark instead). Nothing else.
VIOLATIONS = """
    window.__dmn_csp = [];
    document.addEventListener('securitypolicyviolation', e =>
        window.__dmn_csp.push(e.violatedDirective + ' ' + (e.sourceFile || '')));
"""


def assert_only_known_vendor_notices(page):
    errors = [e for e in page.errors if "development build of Inferno" not in e
              and not e.startswith("Applying inline style violates")]
    assert errors == [], errors
    assert all(v.startswith("style-src-attr ") and v.endswith("/static/vendor/dmn-js/dmn-modeler.production.min.js")
               for v in page.evaluate("window.__dmn_csp")), page.evaluate("window.__dmn_csp")
    assert page.locator(".bjs-powered-by").first.is_visible()  # the watermark is shown, by our stylesheet


def stored_text(live_app):
    with sqlite3.connect(live_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")) as connection:
        return connection.execute("SELECT text FROM decision_documents WHERE name = 'riesgo.dmn'").fetchone()[0]


def test_owner_edits_the_risk_matrix_in_the_browser_and_saves_it(live_app, live_server, page):
    base = live_server
    page.add_init_script(VIOLATIONS)
    log_in(page, base, "gestor")
    page.goto(base + "/decisiones/")
    page.click("text=riesgo.dmn")
    page.wait_for_selector("#dmn-canvas .tjs-table")
    assert page.locator("#dmn-status").inner_text().startswith("Tabla de decisión cargada.")
    table = page.locator("#dmn-canvas")
    assert "Matriz de riesgo" in table.inner_text()
    assert page.locator("#dmn-canvas tbody tr").count() == 7  # the seven rules
    assert "Riesgo sugerido" in table.inner_text() and "FIRST" in table.inner_text().upper()
    assert "Política de aciertos:" in table.inner_text() and "Entonces" in table.inner_text()  # dmn-js in Spanish

    cell = page.locator("#dmn-canvas tbody tr").nth(6).locator("td.output-cell")
    assert cell.inner_text().strip() == '"bajo"'
    cell.locator(".content-editable").click()
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.keyboard.type(' o sin riesgo"')
    page.locator("h1").click()  # leave the cell
    assert '"bajo o sin riesgo"' in cell.inner_text()
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.screenshot(path=ARTIFACTS / "dmn-editor.png", full_page=True)

    page.click("#btn-save-decision")
    page.wait_for_selector(".alert-success")
    saved = page.locator(".alert-success").inner_text()
    assert "Tabla de decisión guardada. Procesos republicados: versión 2." in saved
    assert '<text>"bajo o sin riesgo"</text>' in stored_text(live_app)
    page.wait_for_selector("#dmn-canvas .tjs-table")  # the saved table opens again in the editor
    assert '"bajo o sin riesgo"' in page.locator("#dmn-canvas").inner_text()
    assert_only_known_vendor_notices(page)


def test_a_refused_table_shows_the_problem_and_keeps_the_text(live_app, live_server, page):
    base = live_server
    log_in(page, base, "gestor")
    page.goto(base + "/decisiones/riesgo.dmn")
    page.wait_for_selector("#dmn-canvas .tjs-table")
    page.locator("#dmn-source summary").click()
    text = page.locator("#texto").input_value().replace('hitPolicy="FIRST"', 'hitPolicy="PRIORITY"')
    page.fill("#texto", text)  # edited by hand: the text is what is saved
    page.click("#btn-save-decision")
    problem = page.locator("[data-testid=decision-problem]")
    assert "«PRIORITY»" in problem.inner_text() and "No se guardó nada." in problem.inner_text()
    assert 'hitPolicy="PRIORITY"' in page.locator("#texto").input_value()
    assert 'hitPolicy="FIRST"' in stored_text(live_app)


def test_the_process_editor_shows_the_table_a_business_rule_task_calls(live_server, page):
    base = live_server
    log_in(page, base, "gestor")
    page.goto(base + "/procesos/proteccion_consular/editor")
    page.wait_for_selector("#canvas[data-ready='true']")
    assert page.locator("#modeler-status").inner_text() == "Diagrama cargado."  # nothing it cannot keep
    page.locator(".djs-element[data-element-id='Task_riesgo']").click()
    page.wait_for_function("() => document.getElementById('properties-panel').dataset.elementId === 'Task_riesgo'")
    choice = page.locator("#siproc-field-called-decision")
    assert choice.input_value() == "riesgo_matriz"
    assert "riesgo_matriz (riesgo.dmn)" in choice.inner_text()
    page.screenshot(path=ARTIFACTS / "dmn-tarea-reglas.png")
