"""Any text in any field of the login, account and user administration forms: a Spanish answer, never a 500."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth.models import User
from app.extensions import db

ANY_TEXT = st.one_of(st.text(max_size=300), st.sampled_from(["", " ", "0", "-1", "99999999999999999999", "admin",
                                                              "oficial", "\x00", "１２３４５６", "1" * 6]))
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _fields(*names):
    return st.fixed_dictionaries({name: ANY_TEXT for name in names})


def _user_rows():
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count(User.id)))


@FUZZ
@given(data=_fields("username", "password"))
def test_login_form(app, data):
    response = app.test_client().post("/login", data=data)
    assert response.status_code in (400, 200, 302, 429)


@FUZZ
@given(data=_fields("code"))
def test_code_form(app, data):
    client = app.test_client()
    with client.session_transaction() as session:
        session["pending_login"] = {"id": 1, "token": "x", "at": 0}
    assert client.post("/login/codigo", data=data).status_code in (400, 302)  # 400: a NUL character


@FUZZ
@given(data=_fields("current_password", "new_password", "confirm_password"))
def test_password_change_form(app, login, data):
    app.config.update(LOGIN_MAX_FAILURES_PER_USER=10**6, LOGIN_MAX_FAILURES_PER_IP=10**6)  # keep logging in
    assert login("oficial.tap").post("/cuenta/contrasena", data=data).status_code in (400, 302, 422)


@FUZZ
@given(data=_fields("code"))
def test_totp_enrolment_form(login, data):
    assert login("oficial.tap").post("/cuenta/segundo-factor", data=data).status_code in (400, 302, 422)


@FUZZ
@given(data=_fields("username", "full_name", "email", "role", "office_id", "password"))
def test_user_creation_form(login, data):
    before = _user_rows()
    response = login("admin").post("/admin/usuarios/nuevo", data=data)
    assert response.status_code in (400, 200, 422)
    assert _user_rows() == before + (response.status_code == 200)


@FUZZ
@given(data=_fields("role", "office_id", "active"), query=_fields("oficina", "rol", "estado", "pagina"))
def test_user_edit_form_and_list_filters(login, users, data, query):
    admin = login("admin")
    assert admin.post(f"/admin/usuarios/{users['oficial.tap'].id}/editar", data=data).status_code in (400, 302, 422)
    assert admin.get("/admin/usuarios/", query_string=query).status_code in (400, 200, 422)
