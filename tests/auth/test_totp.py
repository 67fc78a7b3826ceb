"""Optional second factor (TOTP): enrolment in «Mi cuenta», a second login step, no reuse, required if configured."""
import base64
import re
from datetime import timedelta

import sqlalchemy as sa

from app.core import clock
from app.extensions import db
from tests.auth.support import LOCKED, code_for, enrol, events, post_login, user, wrong_code
from tests.conftest import flashes


def _logged_in(client) -> bool:
    return client.get("/tareas/").status_code == 200


def test_enrolment_shows_the_secret_and_a_qr_code_and_needs_a_valid_code(login):
    officer = login("oficial.tap")
    page = officer.get("/cuenta/segundo-factor").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    qr = re.search(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page).group(1)
    assert base64.b64decode(qr).startswith(b"<svg")
    reloaded = officer.get("/cuenta/segundo-factor").get_data(as_text=True)
    assert re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', reloaded).group(1).replace(" ", "") == secret

    refused = officer.post("/cuenta/segundo-factor", data={"code": wrong_code(secret)})
    assert refused.status_code == 422 and "El código no es correcto" in refused.get_data(as_text=True)
    assert officer.post("/cuenta/segundo-factor", data={"code": "12ab"}).status_code == 422
    assert user("oficial.tap").totp_secret is None and events("totp_enrolled") == []

    assert officer.post("/cuenta/segundo-factor", data={"code": code_for(secret)}).status_code == 302
    enrolled = user("oficial.tap")
    assert enrolled.totp_secret == secret
    assert events("totp_enrolled")[-1].actor_id == enrolled.id
    stored = db.session.execute(sa.text("SELECT totp_secret FROM users WHERE id = :id"), {"id": enrolled.id}).scalar()
    assert secret not in stored  # encrypted at rest
    assert "Activado" in officer.get("/cuenta/").get_data(as_text=True)


def test_login_needs_the_code_after_the_password(login, client):
    secret = enrol(login("oficial.tap"))
    clock.travel(timedelta(seconds=30))
    response = post_login(client, "oficial.tap")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/codigo")
    assert not _logged_in(client)  # the password step alone gives no access
    assert client.get("/casos/").status_code == 302
    assert len(events("login_ok")) == 1  # the login before enrolling; none for the password step

    wrong = client.post("/login/codigo", data={"code": wrong_code(secret)})
    assert wrong.status_code == 200 and "Código incorrecto." in flashes(wrong.get_data(as_text=True))
    assert not _logged_in(client)
    assert client.post("/login/codigo", data={"code": code_for(secret)}).status_code == 302
    assert _logged_in(client)
    assert events("login_ok")[-1].details == {"segundo_factor": True}


def test_a_code_is_never_accepted_twice(login, client, app):
    secret = enrol(login("oficial.tap"))
    clock.travel(timedelta(seconds=30))
    code = code_for(secret)
    post_login(client, "oficial.tap")
    assert client.post("/login/codigo", data={"code": code}).status_code == 302

    again = app.test_client()
    post_login(again, "oficial.tap")
    reused = again.post("/login/codigo", data={"code": code})
    assert "Ese código ya se usó" in reused.get_data(as_text=True) and not _logged_in(again)
    assert events("login_failed")[-1].details == {"paso": "código", "motivo": "código ya usado"}
    clock.travel(timedelta(seconds=30))
    assert again.post("/login/codigo", data={"code": code_for(secret)}).status_code == 302


def test_codes_of_the_previous_and_next_step_are_accepted(login, app):
    secret = enrol(login("oficial.tap"))
    clock.travel(timedelta(minutes=2))
    first = app.test_client()
    post_login(first, "oficial.tap")
    assert first.post("/login/codigo", data={"code": code_for(secret, -1)}).status_code == 302
    second = app.test_client()
    post_login(second, "oficial.tap")
    assert second.post("/login/codigo", data={"code": code_for(secret, +1)}).status_code == 302
    third = app.test_client()
    post_login(third, "oficial.tap")
    assert third.post("/login/codigo", data={"code": code_for(secret, +2)}).status_code == 200


def test_wrong_codes_count_for_the_lockout(login, client):
    secret = enrol(login("oficial.tap"))
    post_login(client, "oficial.tap")
    for _ in range(5):
        client.post("/login/codigo", data={"code": wrong_code(secret)})
    response = client.post("/login/codigo", data={"code": code_for(secret, +1)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert LOCKED.format(15) in flashes(client.get("/login").get_data(as_text=True))
    assert not _logged_in(client)
    assert post_login(client, "oficial.tap").status_code == 429


def test_the_code_step_needs_a_recent_password_step(login, client):
    secret = enrol(login("oficial.tap"))
    response = client.post("/login/codigo", data={"code": code_for(secret)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not _logged_in(client)
    post_login(client, "oficial.tap")
    clock.travel(timedelta(minutes=6))
    late = client.post("/login/codigo", data={"code": code_for(secret)})
    assert late.headers["Location"].endswith("/login") and not _logged_in(client)
    assert "El tiempo para escribir el código terminó" in client.get("/login").get_data(as_text=True)


def test_central_roles_must_enrol_when_configured(app, login):
    app.config["TOTP_REQUIRED_FOR_CENTRAL"] = True
    officer = login("oficial.tap")
    assert officer.get("/tareas/").status_code == 200  # office roles are not concerned
    for username in ("analista", "gestor", "admin"):
        central = login(username)
        for path in ("/tareas/", "/casos/", *(["/admin/usuarios/"] if username == "admin" else [])):
            response = central.get(path)
            assert response.status_code == 302 and response.headers["Location"].endswith("/cuenta/segundo-factor")
        page = central.get("/cuenta/segundo-factor").get_data(as_text=True)
        assert "Su rol requiere un segundo factor" in page
    refused = login("admin").post("/admin/usuarios/nuevo", data={
        "username": "nuevo.oficial", "full_name": "Nuevo Oficial", "role": "oficial", "office_id": "1"})
    assert refused.status_code == 302 and user("nuevo.oficial") is None  # POSTs are not run either
    analyst = login("analista")
    enrol(analyst)
    assert analyst.get("/tareas/").status_code == 200
