"""Headless Chromium: an administrator creates a user, who replaces the temporary password and enrols TOTP.

Served over plain http://127.0.0.1 with the production cookie flags (Secure, HttpOnly, SameSite=Lax):
Chromium treats 127.0.0.1 as a secure origin and keeps Secure cookies there, so `make run` needs no exception.
"""
import time

import pyotp

from tests.browser.conftest import ARTIFACTS, BROWSER, assert_clean_console, log_in
from tests.conftest import PASSWORD

pytestmark = BROWSER


def test_user_administration_forced_password_change_and_second_factor(live_server, page):
    log_in(page, live_server, "admin", PASSWORD)
    session = next(c for c in page.context.cookies() if c["name"] == "session")
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Lax"

    page.wait_for_load_state("load")  # the dropdown needs Bootstrap's script
    page.click("nav >> text=Administración")
    page.click("nav >> text=Usuarios")
    assert page.locator("h1").inner_text() == "Usuarios"
    page.screenshot(path=ARTIFACTS / "20-usuarios.png", full_page=True)
    page.click("text=Nuevo usuario")
    page.fill("#username", "maria.lopez")
    page.fill("#full_name", "María Fernanda López")
    page.select_option("#role", "oficial")
    page.select_option("#office_id", label="TAP — Consulado General en Tapachula")
    page.screenshot(path=ARTIFACTS / "21-usuario-nuevo.png", full_page=True)
    page.click("text=Crear el usuario")
    temporary = page.locator("[data-testid=temporary-password]").inner_text().strip()
    page.screenshot(path=ARTIFACTS / "22-contrasena-temporal.png", full_page=True)
    page.click("text=Salir")

    log_in(page, live_server, "maria.lopez", temporary)
    assert page.locator("h1").inner_text() == "Mi cuenta"
    assert "Debe cambiar la contraseña temporal" in page.locator(".alert-warning").inner_text()
    page.fill("#current_password", temporary)
    page.fill("#new_password", "contraseña123")
    page.fill("#confirm_password", "contraseña123")
    page.click("main button[type=submit]")
    assert "demasiado común" in page.locator(".invalid-feedback").first.inner_text()
    page.screenshot(path=ARTIFACTS / "23-mi-cuenta-error.png", full_page=True)
    page.fill("#current_password", temporary)
    page.fill("#new_password", "tres ríos y un volcán")
    page.fill("#confirm_password", "tres ríos y un volcán")
    page.click("main button[type=submit]")
    assert "Su contraseña se cambió." in page.locator(".alert-success").inner_text()

    page.click("text=Activar el segundo factor")
    assert page.locator("[data-testid=totp-qr]").evaluate("img => img.naturalWidth") > 0
    secret = page.locator("[data-testid=totp-secret]").inner_text().replace(" ", "")
    page.screenshot(path=ARTIFACTS / "24-segundo-factor.png", full_page=True)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("text=Confirmar y activar")
    assert "Segundo factor activado" in page.locator(".alert-success").inner_text()
    page.screenshot(path=ARTIFACTS / "25-mi-cuenta.png", full_page=True)
    page.click("text=Salir")

    log_in(page, live_server, "maria.lopez", "tres ríos y un volcán")
    assert page.locator("h1").inner_text() == "Código de verificación"
    page.screenshot(path=ARTIFACTS / "26-codigo.png", full_page=True)
    page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))  # the enrolment code cannot be used again
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Bandeja de tareas"
    assert_clean_console(page, allowed=("status of 422",))  # no CSP violation, no script error
