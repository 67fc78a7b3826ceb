"""Any text in any field of the login, account and user administration forms: a Spanish answer, never a 500."""
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.auth.models import LoginAttempt, User
from app.auth.passwords import verify_password
from app.auth.services import set_password
from app.core import clock
from app.extensions import db
from tests.auth.support import WRONG, code_for, enrol, post_login, user
from tests.conftest import PASSWORD, flashes

ANY_TEXT = st.one_of(st.text(max_size=300), st.sampled_from(["", " ", "0", "-1", "99999999999999999999", "admin",
                                                              "oficial", "\x00", "１２３４５６", "1" * 6]))
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _fields(*names):
    return st.fixed_dictionaries({name: ANY_TEXT for name in names})


def _user_rows():
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count(User.id)))


def _fresh_throttle():
    """Forget every login attempt: each example starts with no failure counted (examples share one database)."""
    db.session.execute(db.delete(LoginAttempt))
    db.session.commit()


def _has_nul(data) -> bool:
    return any("\x00" in value for value in data.values())


# Positive controls: each test also runs one valid input through the same path, which must succeed, so a test
# whose path refused everything would fail. VALID_CODE stands for the code the authenticator shows now.
VALID_LOGIN = {"username": "oficial.tap", "password": PASSWORD}
VALID_CODE = {"code": "<the current code>"}
NEW_PASSWORD = "tres ríos y un volcán"
VALID_CHANGE = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}


@FUZZ
@example(data=VALID_LOGIN)
@given(data=_fields("username", "password"))
def test_login_form(app, data):
    _fresh_throttle()  # else, after 20 examples, every later one would only meet the per-address throttle
    response = app.test_client().post("/login", data=data)
    page = response.get_data(as_text=True)
    if _has_nul(data):
        assert response.status_code == 400
    elif data == VALID_LOGIN:
        assert response.status_code == 302 and response.headers["Location"].endswith("/tareas/")
    else:  # refused for what was typed: wrong credentials, or a blank or too long field; never the throttle
        assert response.status_code == 200, response.status_code
        assert "bloqueada" not in page and "intentos" not in page
        typed_ok = all(value.strip() for value in data.values()) and len(data["username"]) <= 80 \
            and len(data["password"]) <= 1024
        if typed_ok:
            assert flashes(page) == [WRONG], flashes(page)


@pytest.fixture
def enrolled(login):
    """oficial.tap with a second factor: (secret,)."""
    return enrol(login("oficial.tap"))


@FUZZ
@example(data=VALID_CODE)
@given(data=_fields("code"))
def test_code_form(app, enrolled, data):
    _fresh_throttle()
    client = app.test_client()
    assert post_login(client, "oficial.tap").headers["Location"].endswith("/login/codigo")  # a real pending login
    if data == VALID_CODE:
        clock.travel(timedelta(seconds=30))  # the enrolment used the current code; the next one is new
        data = {"code": code_for(enrolled)}
    response = client.post("/login/codigo", data=data)
    if _has_nul(data):
        assert response.status_code == 400
    elif data["code"] == code_for(enrolled):
        assert response.status_code == 302 and response.headers["Location"].endswith("/tareas/")
    else:
        assert response.status_code == 200 and "Bandeja" not in response.get_data(as_text=True)


@FUZZ
@example(data=VALID_CHANGE)
@given(data=_fields("current_password", "new_password", "confirm_password"))
def test_password_change_form(app, login, data):
    app.config.update(LOGIN_MAX_FAILURES_PER_USER=10**6, LOGIN_MAX_FAILURES_PER_IP=10**6)  # keep logging in
    response = login("oficial.tap").post("/cuenta/contrasena", data=data)
    assert response.status_code in (400, 302, 422)
    if data == VALID_CHANGE:
        assert response.status_code == 302
        officer = user("oficial.tap")
        assert verify_password(officer.password_hash, NEW_PASSWORD)
        set_password(officer, PASSWORD, must_change=False)  # back, for the next examples
        db.session.commit()
    else:
        assert response.status_code != 302 or data["new_password"] == data["confirm_password"]


@FUZZ
@example(data=VALID_CODE)
@given(data=_fields("code"))
def test_totp_enrolment_form(login, data):
    officer = login("oficial.tap")
    if data == VALID_CODE:
        page = officer.get("/cuenta/segundo-factor").get_data(as_text=True)
        secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
        assert officer.post("/cuenta/segundo-factor", data={"code": code_for(secret)}).status_code == 302
        enrolled = user("oficial.tap")
        assert enrolled.totp_enabled
        enrolled.totp_secret = None  # back, so the next examples can enrol
        db.session.commit()
        return
    assert officer.post("/cuenta/segundo-factor", data=data).status_code in (400, 422)
    assert not user("oficial.tap").totp_enabled


@FUZZ
@given(data=_fields("username", "full_name", "email", "role", "office_id", "password"))
def test_user_creation_form(login, data):
    before = _user_rows()
    response = login("admin").post("/admin/usuarios/nuevo", data=data)
    assert response.status_code in (400, 200, 422)
    assert _user_rows() == before + (response.status_code == 200)


def test_user_creation_form_positive_control(login, users):
    """The same request as test_user_creation_form, valid: it creates the user."""
    before = _user_rows()
    data = {"username": "maria.lopez", "full_name": "María López", "email": "", "role": "oficial",
            "office_id": str(users["oficial.tap"].office_id), "password": ""}
    response = login("admin").post("/admin/usuarios/nuevo", data=data)
    assert response.status_code == 200 and _user_rows() == before + 1 and user("maria.lopez").role == "oficial"


@FUZZ
@given(data=_fields("role", "office_id", "active"), query=_fields("oficina", "rol", "estado", "pagina"))
def test_user_edit_form_and_list_filters(login, users, data, query):
    admin = login("admin")
    assert admin.post(f"/admin/usuarios/{users['oficial.tap'].id}/editar", data=data).status_code in (400, 302, 422)
    assert admin.get("/admin/usuarios/", query_string=query).status_code in (400, 200, 422)


def test_user_edit_form_and_list_filters_positive_control(login, users):
    """The same requests, valid: the edit is saved and the filtered list shows the user."""
    admin = login("admin")
    officer = users["oficial.tap"]
    response = admin.post(f"/admin/usuarios/{officer.id}/editar",
                          data={"role": "supervisor", "office_id": str(officer.office_id), "active": "y"})
    assert response.status_code == 302 and user("oficial.tap").role == "supervisor"
    listed = admin.get("/admin/usuarios/", query_string={"rol": "supervisor", "estado": "activos", "pagina": "1"})
    assert listed.status_code == 200 and "oficial.tap" in listed.get_data(as_text=True)
