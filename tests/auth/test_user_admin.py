"""Administrators manage user accounts; every access change is audited; nobody else reaches these pages."""
import re

import pytest

from app.auth.models import User
from app.extensions import db
from app.reference.models import Office
from tests.auth.support import WRONG, enrol, events, post_login, user
from tests.conftest import PASSWORD, flashes
from tests.helpers import snapshot

BASE = "/admin/usuarios"
TEMPORARY = re.compile(r'data-testid="temporary-password"><code>([^<]+)</code>')


def office(code) -> Office:
    return db.session.scalar(db.select(Office).where(Office.code == code))


def new_user(**extra):
    return {"username": "maria.lopez", "full_name": "María Fernanda López", "email": "mlopez@example.org",
            "role": "oficial", "office_id": str(office("TAP").id), **extra}


@pytest.fixture
def admin(login):
    return login("admin")


def test_admin_creates_a_user_with_a_generated_password_shown_once(admin, app):
    response = admin.post(f"{BASE}/nuevo", data=new_user())
    assert response.status_code == 200
    password = TEMPORARY.search(response.get_data(as_text=True)).group(1)
    created = user("maria.lopez")
    assert (created.role, created.office.code, created.is_active_user) == ("oficial", "TAP", True)
    assert created.must_change_password and password not in created.password_hash
    event = events("user_created", object_id=str(created.id))[-1]
    assert event.actor_id == user("admin").id
    assert event.details == {"usuario": "maria.lopez", "rol": "oficial", "oficina": "TAP", "activo": True,
                             "contraseña": "generada"}
    assert password not in event.details_json

    person = app.test_client()
    assert post_login(person, "maria.lopez", password).status_code == 302
    forced = person.get("/tareas/")  # a temporary password must be replaced first
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/cuenta/")
    person.post("/cuenta/contrasena", data={"current_password": password, "new_password": "mi frase secreta larga",
                                            "confirm_password": "mi frase secreta larga"})
    assert person.get("/tareas/").status_code == 200 and not user("maria.lopez").must_change_password


def test_admin_may_choose_the_initial_password_within_the_policy(admin):
    response = admin.post(f"{BASE}/nuevo", data=new_user(password="una clave inicial larga"))
    assert response.status_code == 200 and not TEMPORARY.search(response.get_data(as_text=True))
    assert events("user_created")[-1].details["contraseña"] == "elegida por el administrador"
    assert post_login(admin.application.test_client(), "maria.lopez", "una clave inicial larga").status_code == 302


@pytest.mark.parametrize("data,message", [
    ({"password": "honduras2024"}, "demasiado común"),
    ({"password": "maria.lopez-2026-ok"}, "nombre de usuario"),
    ({"password": "corta"}, "al menos 12 caracteres"),
    ({"username": "oficial.tap"}, "Ya existe un usuario"),
    ({"username": "María López"}, "Nombre de usuario no válido"),
    ({"role": "superusuario"}, "Rol desconocido"),
    ({"role": ""}, "Elija un rol."),
    ({"office_id": "999999"}, "Elija una oficina activa"),
    ({"office_id": "abc"}, "Elija una oficina activa"),
    ({"full_name": ""}, "Escriba el nombre completo."),
    ({"email": "no-es-correo"}, "Correo no válido."),
])
def test_refused_creations_save_nothing(admin, data, message):
    before = snapshot(User)
    response = admin.post(f"{BASE}/nuevo", data=new_user(**data))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert snapshot(User) == before and events("user_created") == []


def test_inactive_offices_are_not_offered(admin):
    hou = office("HOU")
    hou.is_active = False
    db.session.commit()
    assert f'value="{hou.id}"' not in admin.get(f"{BASE}/nuevo").get_data(as_text=True)
    assert admin.post(f"{BASE}/nuevo", data=new_user(office_id=str(hou.id))).status_code == 422
    page = admin.get(f"{BASE}/{user('oficial.hou').id}/editar").get_data(as_text=True)
    assert f'<option selected value="{hou.id}">' in page  # users still in it keep seeing it


def test_changes_of_role_office_and_state_are_audited(admin, users):
    target = users["oficial.tap"]
    response = admin.post(f"{BASE}/{target.id}/editar", data={"role": "supervisor", "office_id": str(office("HOU").id),
                                                              "active": "y"})
    assert response.status_code == 302
    changed = user("oficial.tap")
    assert (changed.role, changed.office.code, changed.is_active_user) == ("supervisor", "HOU", True)
    details = [e.details for e in events("permission_changed", object_id=str(target.id))]
    assert details == [
        {"usuario": "oficial.tap", "campo": "rol", "antes": "oficial", "después": "supervisor"},
        {"usuario": "oficial.tap", "campo": "oficina", "antes": "TAP", "después": "HOU"},
    ]
    admin.post(f"{BASE}/{target.id}/editar", data={"role": "supervisor", "office_id": str(office("HOU").id)})
    assert events("permission_changed")[-1].details == {"usuario": "oficial.tap", "campo": "activo",
                                                        "antes": "activo", "después": "inactivo"}
    assert events("permission_changed")[-1].actor_id == users["admin"].id
    unchanged = admin.post(f"{BASE}/{target.id}/editar", data={"role": "supervisor",
                                                               "office_id": str(office("HOU").id)})
    assert unchanged.status_code == 302 and len(events("permission_changed")) == 3


@pytest.mark.parametrize("data,message", [
    ({"role": "admin"}, "No puede desactivar su propia cuenta."),
    ({"role": "analista", "active": "y"}, "No puede quitarse a sí mismo el rol de administrador."),
])
def test_admins_cannot_lock_themselves_out(admin, users, data, message):
    before = snapshot(User)
    me = users["admin"]
    response = admin.post(f"{BASE}/{me.id}/editar", data={"office_id": str(me.office_id), **data})
    assert response.status_code == 422 and message in flashes(response.get_data(as_text=True))
    assert snapshot(User) == before and events("permission_changed") == []
    assert admin.get(f"{BASE}/").status_code == 200


def test_refused_edits_save_nothing(admin, users):
    before = snapshot(User)
    target = users["oficial.tap"]
    for data in ({"role": "rey", "office_id": str(target.office_id), "active": "y"},
                 {"role": "oficial", "office_id": "999999", "active": "y"},
                 {"role": "", "office_id": "", "active": "y"}):
        assert admin.post(f"{BASE}/{target.id}/editar", data=data).status_code == 422
    assert snapshot(User) == before and events("permission_changed") == []
    assert admin.get(f"{BASE}/999999/editar").status_code == 404


def test_a_deactivated_user_is_out_on_the_next_request(admin, login, users, app):
    officer = login("oficial.tap")
    assert officer.get("/tareas/").status_code == 200
    admin.post(f"{BASE}/{users['oficial.tap'].id}/editar", data={"role": "oficial",
                                                                 "office_id": str(users["oficial.tap"].office_id)})
    assert officer.get("/tareas/").status_code == 302
    assert officer.post("/logout").status_code == 302
    response = post_login(app.test_client(), "oficial.tap")
    assert response.status_code == 200 and flashes(response.get_data(as_text=True)) == [WRONG]


def test_password_reset_shows_a_new_password_once_and_ends_sessions(admin, login, users, app):
    officer = login("oficial.tap")
    response = admin.post(f"{BASE}/{users['oficial.tap'].id}/restablecer-contrasena")
    password = TEMPORARY.search(response.get_data(as_text=True)).group(1)
    assert officer.get("/tareas/").status_code == 302  # the old session ends
    assert post_login(app.test_client(), "oficial.tap").status_code == 200  # the old password too
    assert post_login(app.test_client(), "oficial.tap", password).status_code == 302
    assert user("oficial.tap").must_change_password
    event = events("password_reset")[-1]
    assert event.actor_id == users["admin"].id and event.object_id == str(users["oficial.tap"].id)
    assert password not in event.details_json
    own = admin.post(f"{BASE}/{users['admin'].id}/restablecer-contrasena")
    assert own.status_code == 302 and post_login(app.test_client(), "admin").status_code == 302


def test_admin_removes_a_lost_second_factor(admin, login, users, app):
    enrol(login("consul.tap"))
    response = admin.post(f"{BASE}/{users['consul.tap'].id}/quitar-segundo-factor", follow_redirects=True)
    assert any("Se quitó el segundo factor" in f for f in flashes(response.get_data(as_text=True)))
    assert user("consul.tap").totp_secret is None
    assert events("permission_changed")[-1].details["campo"] == "segundo_factor"
    assert post_login(app.test_client(), "consul.tap").status_code == 302  # password only again
    again = admin.post(f"{BASE}/{users['consul.tap'].id}/quitar-segundo-factor", follow_redirects=True)
    assert any("no tiene el segundo factor" in f for f in flashes(again.get_data(as_text=True)))


@pytest.mark.parametrize("query,expected", [
    ("", {"oficial.tap", "consul.tap", "oficial.hou", "admin"}),
    ("?rol=supervisor", {"consul.tap", "consul.hou"}),
    ("?oficina={HOU}", {"oficial.hou", "consul.hou"}),
    ("?oficina={HOU}&rol=oficial", {"oficial.hou"}),
    ("?estado=inactivos", {"oficial2.tap"}),
    ("?estado=activos&oficina={TAP}", {"oficial.tap", "consul.tap"}),
])
def test_list_filters(admin, query, expected):
    inactive = user("oficial2.tap")
    inactive.is_active_user = False
    db.session.commit()
    page = admin.get(f"{BASE}/" + query.format(HOU=office("HOU").id, TAP=office("TAP").id)).get_data(as_text=True)
    shown = set(re.findall(r'data-username="([^"]+)"', page))
    assert expected <= shown if not query else shown == expected


@pytest.mark.parametrize("query", ["?rol=rey", "?oficina=abc", "?estado=x", "?pagina=-1&oficina=99999999999"])
def test_bad_filters_are_reported_not_500(admin, query):
    response = admin.get(f"{BASE}/{query}")
    assert response.status_code in (200, 422)
    if response.status_code == 422:
        assert "no válid" in response.get_data(as_text=True)


def _admin_requests(users):
    target = users["oficial.tap"].id
    return [("get", f"{BASE}/", None), ("get", f"{BASE}/?rol=admin", None), ("get", f"{BASE}/nuevo", None),
            ("post", f"{BASE}/nuevo", new_user()), ("get", f"{BASE}/{target}/editar", None),
            ("post", f"{BASE}/{target}/editar", {"role": "admin", "office_id": "1", "active": "y"}),
            ("post", f"{BASE}/{target}/restablecer-contrasena", None),
            ("post", f"{BASE}/{target}/quitar-segundo-factor", None)]


@pytest.mark.parametrize("username", ["oficial.tap", "consul.tap", "oficial.hou", "analista", "gestor"])
def test_every_admin_url_is_refused_to_other_roles(login, users, username):
    client = login(username)
    before = snapshot(User)
    for method, url, data in _admin_requests(users):
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 403, (method, url)
        assert "No tiene permiso" in response.get_data(as_text=True)
    assert snapshot(User) == before
    assert events("user_created") == events("permission_changed") == events("password_reset") == []


def test_anonymous_users_are_sent_to_login(client, users):
    for method, url, data in _admin_requests(users):
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_navigation_shows_the_users_page(admin, login):
    assert f'href="{BASE}/"' in admin.get("/tareas/").get_data(as_text=True)
    assert f'href="{BASE}/"' not in login("analista").get("/tareas/").get_data(as_text=True)
    assert PASSWORD not in admin.get(f"{BASE}/").get_data(as_text=True)
