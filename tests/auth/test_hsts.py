"""Strict-Transport-Security: sent over HTTPS (directly or through a trusted proxy) or when HSTS_ALWAYS is on;
never over the plain http of `make run`."""
from app import create_app
from tests.conftest import clone_db, make_app

HSTS = "max-age=31536000; includeSubDomains"


def test_sent_over_https_only(client):
    assert client.get("/login", base_url="https://siproc.test").headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in client.get("/login").headers
    # X-Forwarded-Proto from an untrusted peer is ignored
    assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers


def test_behind_a_trusted_proxy_its_https_counts(template_db, tmp_path):
    from app.extensions import db

    proxied = make_app(clone_db(template_db, tmp_path, "p.db"), tmp_path, TRUSTED_PROXIES=1)
    with proxied.app_context():
        client = proxied.test_client()
        headers = client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers
        assert headers["Strict-Transport-Security"] == HSTS
        assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "http"}).headers
        db.session.remove()
        db.engine.dispose()


def test_hsts_always_sends_it_over_http_too(app, client):
    app.config["HSTS_ALWAYS"] = True
    assert client.get("/login").headers["Strict-Transport-Security"] == HSTS


def test_off_by_default(tmp_path):
    config = create_app({"INSTANCE_PATH": tmp_path, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).config
    assert config["HSTS_ALWAYS"] is False and config["SESSION_ABSOLUTE_HOURS"] == 12
