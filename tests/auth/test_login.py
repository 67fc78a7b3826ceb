"""Login: lockout per username and per IP address, no user enumeration, audit, idle expiry, cookie flags."""
from datetime import timedelta

from app import create_app
from app.auth import services
from app.cases.models import CaseNote
from app.core import clock
from app.extensions import db
from app.workflow.models import WorkflowInstance
from tests.auth.support import LOCKED, WRONG, attempts, events, post_login, user
from tests.conftest import PASSWORD, flashes
from tests.helpers import register_case


def _fail(client, username, times, ip=None):
    for _ in range(times):
        response = post_login(client, username, "no-es-la-clave", ip=ip)
        assert response.status_code == 200 and WRONG in flashes(response.get_data(as_text=True))


def test_five_failures_lock_the_username_for_fifteen_minutes(client):
    _fail(client, "oficial.tap", 5)
    response = post_login(client, "oficial.tap")  # the right password, refused while locked
    assert response.status_code == 429
    assert flashes(response.get_data(as_text=True)) == [LOCKED.format(15)]
    assert client.get("/tareas/").status_code == 302
    assert events("login_locked", actor_name="oficial.tap")
    assert post_login(client, "oficial2.tap").status_code == 302  # other users are not affected

    clock.travel(timedelta(minutes=10))
    assert flashes(post_login(client, "oficial.tap").get_data(as_text=True)) == [LOCKED.format(5)]
    clock.travel(timedelta(minutes=5, seconds=1))
    assert post_login(client, "oficial.tap").status_code == 302
    assert client.get("/tareas/").status_code == 200


def test_attempts_during_a_lock_do_not_extend_it(client):
    _fail(client, "consul.tap", 5)
    before = attempts()
    for _ in range(3):
        assert post_login(client, "consul.tap", "no-es-la-clave").status_code == 429
    assert attempts() == before
    clock.travel(timedelta(minutes=15, seconds=1))
    assert post_login(client, "consul.tap").status_code == 302


def test_failures_spread_over_more_than_the_window_do_not_lock(client):
    for _ in range(4):
        _fail(client, "oficial.tap", 1)
        clock.travel(timedelta(minutes=5))
    _fail(client, "oficial.tap", 1)
    assert post_login(client, "oficial.tap").status_code == 302


def test_a_successful_login_starts_the_count_again(client):
    _fail(client, "oficial.tap", 4)
    assert post_login(client, "oficial.tap").status_code == 302
    _fail(client, "oficial.tap", 4)
    assert post_login(client, "oficial.tap").status_code == 302


def test_twenty_failures_from_one_ip_throttle_that_ip(client):
    for i in range(20):
        _fail(client, f"intruso{i}", 1, ip="203.0.113.9")
    response = post_login(client, "oficial.tap", ip="203.0.113.9")
    assert response.status_code == 429 and flashes(response.get_data(as_text=True)) == [LOCKED.format(15)]
    assert post_login(client.application.test_client(), "oficial.tap", ip="198.51.100.7").status_code == 302
    clock.travel(timedelta(minutes=15, seconds=1))
    assert post_login(client.application.test_client(), "oficial.tap", ip="203.0.113.9").status_code == 302


def test_lockout_numbers_come_from_the_configuration(app, client):
    app.config.update(LOGIN_MAX_FAILURES_PER_USER=2, LOGIN_LOCKOUT_MINUTES=3)
    _fail(client, "oficial.tap", 2)
    assert flashes(post_login(client, "oficial.tap").get_data(as_text=True)) == [LOCKED.format(3)]


def test_unknown_users_get_the_same_answer_at_the_same_cost(client, monkeypatch):
    checks = []
    real = services.verify_password
    monkeypatch.setattr(services, "verify_password", lambda h, p: checks.append(h) or real(h, p))
    known = post_login(client, "oficial.tap", "no-es-la-clave")
    unknown = post_login(client, "no.existe", "no-es-la-clave")
    assert len(checks) == 2 and checks[0] != checks[1]  # one Argon2 verification each (a dummy hash when unknown)
    assert known.status_code == unknown.status_code == 200
    assert flashes(known.get_data(as_text=True)) == flashes(unknown.get_data(as_text=True)) == [WRONG]
    _fail(client, "no.existe", 4)
    assert flashes(post_login(client, "no.existe").get_data(as_text=True)) == [LOCKED.format(15)]


def test_every_attempt_is_audited(client, users):
    post_login(client, "oficial.tap", "no-es-la-clave")
    post_login(client, "No.Existe ", "no-es-la-clave")
    assert post_login(client, "oficial.tap").status_code == 302
    client.post("/logout")
    failed = events("login_failed")
    assert [e.actor_name for e in failed] == ["oficial.tap", "no.existe"] and failed[0].actor_id is None
    assert events("login_ok")[-1].actor_id == users["oficial.tap"].id
    assert events("login_ok")[-1].ip_address == "127.0.0.1"
    assert events("logout")[-1].actor_id == users["oficial.tap"].id


def test_a_deactivated_user_cannot_log_in(client):
    officer = user("oficial.tap")
    officer.is_active_user = False
    db.session.commit()
    response = post_login(client, "oficial.tap")
    assert response.status_code == 200 and flashes(response.get_data(as_text=True)) == [WRONG]


def test_login_does_not_follow_backslash_redirects(client):
    response = client.post("/login?next=/%5Cevil.example/x", data={"username": "oficial.tap",
                                                                    "password": "clave-de-prueba-segura"})
    assert response.headers["Location"].endswith("/tareas/")


def test_idle_sessions_expire_and_a_late_post_saves_nothing(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    case_id = db.session.get(WorkflowInstance, instance.id).case_id
    clock.travel(timedelta(minutes=20))
    assert officer.get("/tareas/").status_code == 200  # activity keeps the session alive
    clock.travel(timedelta(minutes=20))
    assert officer.get("/tareas/").status_code == 200
    clock.travel(timedelta(minutes=31))
    response = officer.post(f"/casos/{case_id}/notas", data={"texto": "Nota tardía"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert "La sesión expiró por inactividad." in flashes(page)
    assert db.session.scalar(db.select(db.func.count(CaseNote.id)).where(CaseNote.case_id == case_id)) == 0
    assert officer.get("/tareas/").status_code == 302
    assert events("logout")[-1].details == {"motivo": "inactividad"}


def test_idle_minutes_come_from_the_configuration(app, login):
    app.config["SESSION_IDLE_MINUTES"] = 5
    officer = login("oficial.tap")
    clock.travel(timedelta(minutes=6))
    response = officer.get("/casos/")
    assert response.status_code == 302
    assert "next=/casos/" in response.headers["Location"]


def test_session_cookie_flags(client):
    response = post_login(client, "oficial.tap")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "remember_token" not in str(response.headers)


def test_production_cookie_defaults(tmp_path):
    config = create_app({"INSTANCE_PATH": tmp_path, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).config
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True and config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_IDLE_MINUTES"] == 30 and config["TOTP_REQUIRED_FOR_CENTRAL"] is False
    assert config["TRUSTED_PROXIES"] == 0  # X-Forwarded-For is ignored unless a proxy is declared
    assert (config["LOGIN_MAX_FAILURES_PER_USER"], config["LOGIN_MAX_FAILURES_PER_IP"],
            config["LOGIN_WINDOW_MINUTES"], config["LOGIN_LOCKOUT_MINUTES"]) == (5, 20, 15, 15)


def test_behind_a_trusted_proxy_the_client_address_is_used(template_db, tmp_path):
    from tests.conftest import clone_db, make_app

    proxied = make_app(clone_db(template_db, tmp_path, "p.db"), tmp_path, TRUSTED_PROXIES=1)
    with proxied.app_context():
        client = proxied.test_client()
        for i in range(20):
            client.post("/login", data={"username": f"intruso{i}", "password": "x" * 12},
                        headers={"X-Forwarded-For": "203.0.113.9"})
        assert client.post("/login", data={"username": "oficial.tap", "password": PASSWORD},
                           headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 302
        assert events("login_ok")[-1].ip_address == "198.51.100.7"
        db.session.remove()
        db.engine.dispose()
