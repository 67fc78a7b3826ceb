"""Login, deny-by-default policy, CSRF, headers, error pages."""
import pytest

from app.auth import policy
from app.core.access import PUBLIC, rule, rule_of
from app.extensions import db
from tests.conftest import PASSWORD, clone_db, flashes, make_app
from tests.helpers import register_case, single_open_task


def test_every_route_has_an_explicit_rule(app):
    """Each view declares its rule beside its route; the rule names a predicate of the policy."""
    endpoints = {url_rule.endpoint for url_rule in app.url_map.iter_rules()} - {"static"}
    without = {e for e in endpoints if rule_of(app.view_functions[e])[0] is None}
    assert len(endpoints) >= 80 and without == set()
    named = {name for e in endpoints for name in rule_of(app.view_functions[e]) if name}
    assert named - {PUBLIC, policy.AUTHENTICATED} <= set(policy.PREDICATES)


def test_a_rule_naming_an_unknown_predicate_stops_the_app(template_db, tmp_path):
    app = make_app(clone_db(template_db, tmp_path, "t.db"), tmp_path)
    app.add_url_rule("/con-errata", "con_errata", rule("es_admin")(lambda: "datos"))
    with pytest.raises(RuntimeError, match="es_admin"):
        policy.validate_rules(app)


def test_route_without_rule_is_refused(template_db, tmp_path):
    app = make_app(clone_db(template_db, tmp_path, "t.db"), tmp_path)
    app.add_url_rule("/sin-regla", "sin_regla", lambda: "datos")
    response = app.test_client().get("/sin-regla")
    assert response.status_code == 403 and "datos" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/tareas/", "/tareas/1", "/casos/", "/casos/1", "/casos/nuevo", "/personas/1",
                                  "/personas/1/fusionar", "/casos/1/imprimir"])
def test_anonymous_users_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/login").status_code == 200


def test_public_endpoints_are_only_login_static_and_the_institutions_referral_link(app):
    """auth.login_code (the second-factor step) only works for a session that passed the password step; the
    health endpoints answer a status word and the failed checks' names, never data; cases.referral_link opens
    one referral for the holder of its token (tests/cases/test_referrals.py)."""
    public = sorted(e for e, view in app.view_functions.items() if rule_of(view)[0] == PUBLIC)
    assert public == ["auth.login", "auth.login_code", "cases.referral_link", "ops.live", "ops.ready"]


def test_wrong_password_is_refused_in_spanish(client):
    response = client.post("/login", data={"username": "oficial.tap", "password": "incorrecta"})
    assert response.status_code == 200
    assert "Usuario o contraseña incorrectos." in flashes(response.get_data(as_text=True))
    assert client.get("/tareas/").status_code == 302


def test_login_does_not_redirect_off_site(client):
    response = client.post("/login?next=//evil.example/x", data={"username": "oficial.tap", "password": PASSWORD})
    assert response.headers["Location"].endswith("/tareas/")


def test_logout_needs_post(login):
    officer = login("oficial.tap")
    assert officer.get("/logout").status_code == 405
    assert officer.post("/logout").status_code == 302
    assert officer.get("/tareas/").status_code == 302


def test_roles_without_case_rights_cannot_open_cases(login):
    assert login("analista").post("/casos/nuevo", data={"proceso": "proteccion_consular"}).status_code == 403
    assert login("gestor").get("/casos/nuevo").status_code == 403


def test_central_analyst_sees_cases_of_every_office_but_cannot_work_their_tasks(login):
    instance = register_case(login("oficial.tap"))
    analyst = login("analista")
    assert "Hernández" in analyst.get("/casos/").get_data(as_text=True)
    task = single_open_task(instance_id=instance.id)
    assert analyst.get(f"/tareas/{task.id}").status_code == 200
    assert analyst.post(f"/tareas/{task.id}", data={}).status_code == 403


def test_office_users_only_see_their_office_cases(login):
    register_case(login("oficial.tap"))
    assert "Hernández" not in login("oficial.hou").get("/casos/").get_data(as_text=True)
    assert "Hernández" in login("consul.tap").get("/casos/").get_data(as_text=True)


def test_csrf_is_required_on_posts(template_db, tmp_path):
    app = make_app(clone_db(template_db, tmp_path, "t.db"), tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"username": "oficial.tap", "password": PASSWORD})
    assert response.status_code == 400
    assert "protección CSRF" in response.get_data(as_text=True)


def test_security_headers(client):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path,code", [("/casos/999999", 404), ("/tareas/999999", 404), ("/no-existe", 404),
                                       ("/tareas/?pagina=9999", 200), ("/tareas/?pagina=-3", 200),
                                       ("/casos/?pagina=abc", 200)])
def test_bad_urls_get_spanish_pages_not_500(login, path, code):
    response = login("oficial.tap").get(path)
    assert response.status_code == code
    if code == 404:
        assert "no existe" in response.get_data(as_text=True)


def test_user_text_is_escaped(login):
    officer = login("oficial.tap")
    instance = register_case(officer, nombres="<script>alert(1)</script>", relato="<img src=x onerror=alert(1)>")
    case_id = db.session.get(type(instance), instance.id).case_id
    page = officer.get(f"/casos/{case_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page


def test_nul_characters_are_refused_and_nothing_is_saved(login):
    from app.workflow.models import WorkflowInstance

    before = db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance))
    response = login("oficial.tap").post("/casos/nuevo", data={"proceso": "proteccion_consular\x00"})
    assert response.status_code == 400
    assert "caracteres no permitidos" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance)) == before
