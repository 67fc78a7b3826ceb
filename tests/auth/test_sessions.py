"""Server-side sessions: a copied cookie dies with logout, password change, deactivation, an administrator's
«cerrar sesiones», idle time and the absolute lifetime; last_seen_at is not written on every request."""
import hashlib
from datetime import timedelta

from app.auth.models import UserSession
from app.cases.models import CaseNote
from app.core import clock
from app.extensions import db
from app.workflow.models import WorkflowInstance
from tests.auth.support import events, user
from tests.conftest import PASSWORD, flashes
from tests.helpers import register_case

COOKIE = "session"
DOMAIN = "siproc.test"


def copy_of(app, client):
    """A second browser holding the same session cookie (what an attacker who copied it would have)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE, domain=DOMAIN).value, domain=DOMAIN)
    return thief


def a_case(client) -> int:
    instance = register_case(client)
    return db.session.get(WorkflowInstance, instance.id).case_id


def notes(case_id) -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count(CaseNote.id)).where(CaseNote.case_id == case_id))


def rows(username) -> list[UserSession]:
    db.session.expire_all()
    return db.session.scalars(db.select(UserSession).where(UserSession.user_id == user(username).id)
                              .order_by(UserSession.id)).all()


def refused(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_cookie_copied_before_logout_is_refused_afterwards(app, login):
    officer = login("oficial.tap")
    case_id = a_case(officer)
    thief = copy_of(app, officer)
    assert thief.get(f"/casos/{case_id}").status_code == 200  # the copy works while the session is open
    assert officer.post("/logout").status_code == 302
    assert refused(thief.get(f"/casos/{case_id}"))
    assert notes(case_id) == 0


def test_a_copied_cookie_cannot_read_or_write_after_logout(app, login):
    officer = login("oficial.tap")
    case_id = a_case(officer)
    stolen = officer.get_cookie(COOKIE, domain=DOMAIN).value
    officer.post("/logout")
    for _ in range(2):  # every try, not only the first
        thief = app.test_client()
        thief.set_cookie(COOKIE, stolen, domain=DOMAIN)
        assert refused(thief.get(f"/casos/{case_id}"))
        assert refused(thief.post(f"/casos/{case_id}/notas", data={"texto": "Nota del intruso"}))
    assert notes(case_id) == 0
    [row] = rows("oficial.tap")
    assert row.revoked_at is not None and row.revoked_reason == "cierre de sesión"
    assert events("logout")[-1].actor_id == user("oficial.tap").id


def test_only_the_hash_of_the_token_is_stored(login):
    officer = login("oficial.tap")
    [row] = rows("oficial.tap")
    from flask import json

    value = officer.get_cookie(COOKIE, domain=DOMAIN).value
    session = officer.application.session_interface.get_signing_serializer(officer.application).loads(value)
    public_id, token = session["_user_id"].split(".")
    assert public_id == row.public_id and token not in json.dumps([row.token_hash, row.public_id])
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.ip_address == "127.0.0.1" and row.created_at and row.last_seen_at


def test_a_password_change_ends_the_other_sessions(app, login):
    officer, other = login("oficial.tap"), login("oficial.tap")
    case_id = a_case(officer)
    new = "otra-clave-muy-segura-2026"
    response = officer.post("/cuenta/contrasena", data={"current_password": PASSWORD, "new_password": new,
                                                         "confirm_password": new})
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    assert refused(other.get(f"/casos/{case_id}"))
    assert refused(other.post(f"/casos/{case_id}/notas", data={"texto": "Nota"}))
    assert officer.get(f"/casos/{case_id}").status_code == 200  # this browser got a new session
    assert notes(case_id) == 0
    assert {r.revoked_reason for r in rows("oficial.tap")[:2]} == {"cambio de contraseña"}
    assert events("logout")[-1].details["motivo"] == "cambio de contraseña"


def test_deactivation_by_an_administrator_ends_every_session(app, login, users):
    officer = login("oficial.tap")
    case_id = a_case(officer)
    admin = login("admin")
    tap = users["oficial.tap"].office_id
    response = admin.post(f"/admin/usuarios/{users['oficial.tap'].id}/editar",
                          data={"role": "oficial", "office_id": str(tap), "active": ""})
    assert response.status_code == 302
    assert refused(officer.get(f"/casos/{case_id}"))
    assert all(r.revoked_reason == "cuenta desactivada" for r in rows("oficial.tap"))
    event = events("logout")[-1]
    assert event.actor_id == users["admin"].id and event.details["sesiones"] == 1


def test_an_administrator_ends_all_sessions_of_a_user(app, login, users):
    first, second = login("oficial.tap"), login("oficial.tap")
    admin = login("admin")
    page = admin.get(f"/admin/usuarios/{users['oficial.tap'].id}/editar").get_data(as_text=True)
    assert "2 sesiones abiertas." in page and "Cerrar sesiones" in page
    response = admin.post(f"/admin/usuarios/{users['oficial.tap'].id}/cerrar-sesiones", follow_redirects=True)
    assert "Se cerraron 2 sesiones abiertas de oficial.tap." in flashes(response.get_data(as_text=True))
    assert refused(first.get("/tareas/")) and refused(second.get("/tareas/"))
    assert events("logout")[-1].details == {"motivo": "cerradas por un administrador", "usuario": "oficial.tap",
                                            "sesiones": 2}
    # the administrator closing their own sessions keeps the current one
    other_admin = login("admin")
    admin.post(f"/admin/usuarios/{users['admin'].id}/cerrar-sesiones")
    assert admin.get("/tareas/").status_code == 200 and refused(other_admin.get("/tareas/"))
    assert officer_cannot_reach_it(login, users)


def officer_cannot_reach_it(login, users) -> bool:
    officer = login("oficial2.tap")
    return officer.post(f"/admin/usuarios/{users['oficial.tap'].id}/cerrar-sesiones").status_code == 403


def test_the_absolute_lifetime_holds_for_a_session_in_constant_use(app, login):
    officer = login("oficial.tap")
    for _ in range(12 * 12 - 1):  # every 5 minutes for just under 12 hours
        clock.travel(timedelta(minutes=5))
        assert officer.get("/tareas/").status_code == 200
    clock.travel(timedelta(minutes=5, seconds=1))
    response = officer.get("/tareas/")
    assert refused(response)
    assert "La sesión alcanzó su duración máxima. Inicie sesión de nuevo." in flashes(
        officer.get(response.headers["Location"]).get_data(as_text=True))
    assert events("logout")[-1].details == {"motivo": "duración máxima"}
    assert rows("oficial.tap")[0].revoked_reason == "duración máxima"


def test_absolute_hours_come_from_the_configuration(app, login):
    app.config["SESSION_ABSOLUTE_HOURS"] = 1
    officer = login("oficial.tap")
    clock.travel(timedelta(minutes=29))
    assert officer.get("/tareas/").status_code == 200
    clock.travel(timedelta(minutes=29))
    assert officer.get("/tareas/").status_code == 200
    clock.travel(timedelta(minutes=3))
    assert refused(officer.get("/tareas/"))


def test_idle_expiry_still_works_and_a_copy_cannot_revive_it(app, login):
    officer = login("oficial.tap")
    stolen = officer.get_cookie(COOKIE, domain=DOMAIN).value
    clock.travel(timedelta(minutes=31))
    response = officer.get("/tareas/")
    assert refused(response) and "next=/tareas/" in response.headers["Location"]
    assert "La sesión expiró por inactividad." in flashes(officer.get(response.headers["Location"])
                                                          .get_data(as_text=True))
    thief = app.test_client()
    thief.set_cookie(COOKIE, stolen, domain=DOMAIN)
    assert refused(thief.get("/tareas/"))
    assert rows("oficial.tap")[0].revoked_reason == "inactividad"


def test_last_seen_is_written_at_most_once_a_minute(app, login):
    officer = login("oficial.tap")
    [row] = rows("oficial.tap")
    opened = row.last_seen_at
    writes = []
    from sqlalchemy import event

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE USER_SESSIONS"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            clock.travel(timedelta(seconds=10))
            assert officer.get("/tareas/").status_code == 200
        assert writes == [] and rows("oficial.tap")[0].last_seen_at == opened
        clock.travel(timedelta(seconds=15))
        assert officer.get("/tareas/").status_code == 200
        assert len(writes) == 1 and rows("oficial.tap")[0].last_seen_at > opened
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_a_new_login_in_the_same_browser_ends_its_previous_session(client):
    from tests.auth.support import post_login

    post_login(client, "oficial.tap")
    post_login(client, "oficial.tap")
    first, second = rows("oficial.tap")
    assert first.revoked_at is not None and second.revoked_at is None
