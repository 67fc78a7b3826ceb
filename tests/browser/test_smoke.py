"""Headless Chromium (Debian's package, driven by Playwright): an officer registers a case in the browser."""
from tests.browser.conftest import ARGS, ARTIFACTS, BROWSER, CHROMIUM, assert_clean_console, log_in

# The fixtures (live_server, page) are in tests/browser/conftest.py. ARTIFACTS, CHROMIUM, ARGS and pytestmark
# stay importable from here for the modules that still read them as test_smoke.<name>.
__all__ = ["ARGS", "ARTIFACTS", "CHROMIUM"]
pytestmark = list(BROWSER)


def test_officer_registers_a_case_and_reaches_the_assessment(live_server, page):
    log_in(page, live_server, "oficial.tap")
    assert page.locator("h1").inner_text() == "Bandeja de tareas"
    page.screenshot(path=ARTIFACTS / "01-bandeja-vacia.png", full_page=True)

    page.click("text=Nuevo caso")
    page.click("text=Iniciar el registro")
    assert page.locator("h1").inner_text() == "Registro del caso"
    page.select_option("#categoria", "DET")
    page.fill("#nombres", "María Fernanda")
    page.fill("#primer_apellido", "López")
    page.check("#sexo-0")
    page.fill("#fecha_nacimiento", "1994-03-12")
    page.fill("#dni", "0801-1994-04512")
    page.select_option("#municipio_origen", "0801")
    page.select_option("#pais_ubicacion", "MX")
    page.fill("#relato", "Detenida en Tapachula; solicita visita consular.")
    page.screenshot(path=ARTIFACTS / "02-registro.png", full_page=True)
    page.click("text=Completar tarea")

    assert page.locator("h1").inner_text() == "Evaluación de necesidades y riesgos"
    assert "«Registro del caso» completada." in page.locator(".alert-success").inner_text()
    assert "TAP-20" in page.locator("main").inner_text()
    page.screenshot(path=ARTIFACTS / "03-evaluacion.png", full_page=True)

    page.click("text=Completar tarea")  # nothing filled in: Spanish messages, nothing saved
    assert "Revise los campos marcados" in page.locator(".alert-danger").inner_text()
    assert page.locator(".invalid-feedback").first.inner_text() == "Seleccione al menos una opción."
    page.screenshot(path=ARTIFACTS / "04-evaluacion-errores.png", full_page=True)

    page.click(".breadcrumb a >> nth=1")
    assert "María Fernanda López" in page.locator("h1").inner_text()
    assert page.locator("[data-testid=case-status]").inner_text() == "En evaluación"
    page.screenshot(path=ARTIFACTS / "05-caso.png", full_page=True)

    page.fill("input[name=q]", "08011994-04512")  # the DNI typed another way
    page.press("input[name=q]", "Enter")
    assert "María Fernanda López" in page.locator("table").inner_text()
    page.fill("main input[name=q]", "maria lopez")
    page.press("main input[name=q]", "Enter")
    assert "María Fernanda López" in page.locator("table").inner_text()
    page.screenshot(path=ARTIFACTS / "06-busqueda.png", full_page=True)
    assert_clean_console(page, allowed=("status of 422",))  # 422: the refused form itself
