"""Headless Chromium (Debian's package, driven by Playwright): an officer registers a case in the browser."""
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, POSTGRESQL, make_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(bool(POSTGRESQL), reason="browser tests run in the SQLite pass (the UI is the same)"),
]


@pytest.fixture
def live_server(template_db, tmp_path):
    shutil.copyfile(template_db, tmp_path / "live.db")
    app = make_app(tmp_path / "live.db", tmp_path, WTF_CSRF_ENABLED=True, SERVER_NAME=None, TESTING=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="es-HN")
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.errors = errors
        yield page
        browser.close()


def test_officer_registers_a_case_and_reaches_the_assessment(live_server, page):
    page.goto(live_server + "/login")
    page.fill("#username", "oficial.tap")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
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
    assert [e for e in page.errors if "status of 422" not in e] == []  # 422: the refused form itself
