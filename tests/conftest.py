"""Fixtures: a migrated template database built once, copied for every test; users per role and office."""
import contextvars
import re
import shutil

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.core import clock
from app.extensions import db

PASSWORD = "clave-de-prueba-segura"
TEST_KEY = "1Zq9m8Yl5Jr2wTn3vKd7pXs4uGh6bFc0aEi8oRy2tQk="  # a Fernet key used only by tests
USERS = [
    ("oficial.tap", "oficial", "TAP"),
    ("oficial2.tap", "oficial", "TAP"),
    ("consul.tap", "supervisor", "TAP"),
    ("oficial.hou", "oficial", "HOU"),
    ("consul.hou", "supervisor", "HOU"),
    ("analista", "analista", "DGPHM"),
    ("gestor", "gestor", "DGPHM"),
    ("admin", "admin", "DGPHM"),
]


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context, g and session."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(db_path, instance_path, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "INSTANCE_PATH": str(instance_path),
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "siproc.test",
        "ENCRYPTION_KEYS": [TEST_KEY],
    }
    config.update(extra)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """Migrations applied, reference data loaded, diagrams deployed, test users created: once."""
    from flask_migrate import upgrade

    from app.auth.services import create_user
    from app.modeler.services import deploy_from_files
    from app.reference.models import Office
    from app.reference.services import load_reference

    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.db"
    app = make_app(path, folder)
    with app.app_context():
        upgrade()
        load_reference(app.config["REFERENCE_DIR"])
        deploy_from_files(app.config["BPMN_DIR"], app.config["FORMS_DIR"])
        offices = {o.code: o for o in db.session.scalars(db.select(Office))}
        for username, role, office in USERS:
            create_user(username, username.replace(".", " ").title(), PASSWORD, role, offices[office])
        db.session.commit()
        db.engine.dispose()
    return path


@pytest.fixture
def app(template_db, tmp_path):
    path = tmp_path / "test.db"
    shutil.copyfile(template_db, path)
    app = make_app(path, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    clock.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def users(app):
    from app.auth.models import User

    return {u.username: u for u in db.session.scalars(db.select(User))}


@pytest.fixture
def login(app):
    """login(username) -> a test client logged in through the real login form."""
    def _login(username):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client
    return _login


ALERT = re.compile(r'<div class="alert[^"]*" role="alert">(.*?)</div>', re.S)


def flashes(html: str) -> list[str]:
    """The flash messages shown on a page."""
    return [re.sub(r"\s+", " ", m).strip() for m in ALERT.findall(html)]
