"""Fixtures: a migrated template database built once, copied for every test; users per role and office.

SQLite by default (the template is a file, copied per test). With SIPROC_TEST_POSTGRESQL set to a server URL
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) the same suite runs on PostgreSQL: the template is a
database, and every test gets `CREATE DATABASE ... TEMPLATE` of it, dropped afterwards (`make test` runs both).
"""
import contextvars
import itertools
import os
import re
import shutil

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.core import clock
from app.extensions import db
from tests.helpers import PG_SERVER, POSTGRESQL, build_case, pg_admin, pg_unavailable, utc

PASSWORD = "clave-de-prueba-segura"
TEST_KEY = "1Zq9m8Yl5Jr2wTn3vKd7pXs4uGh6bFc0aEi8oRy2tQk="  # a Fernet key used only by tests
TEST_AUDIT_KEY = "audit-key-used-only-by-tests-0123456789abcdef"
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


# Argon2id at its minimum cost in tests: a login or a new user costs microseconds instead of ~0.1-0.4 s. The real
# parameters (argon2-cffi's defaults, app/config.py) are checked by tests/auth/test_passwords.py.
CHEAP_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context, g and session."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


_clones = itertools.count(1)


def _pg_url(name: str) -> str:
    """The URL of a test database; commits do not wait for the disk (tests never rely on surviving a power cut)."""
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRESQL).set(database=name).update_query_dict({"options": "-c synchronous_commit=off"})
    return url.render_as_string(hide_password=False)


def clone_db(template, tmp_path, name: str = "test.db"):
    """A fresh copy of the template database: a file path (SQLite) or a URL (PostgreSQL)."""
    if POSTGRESQL:
        clone = f"{template}_{next(_clones)}"
        pg_admin(f'CREATE DATABASE "{clone}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return _pg_url(clone)
    shutil.copyfile(template, tmp_path / name)
    return tmp_path / name


def drop_db(database) -> None:
    if POSTGRESQL and isinstance(database, str):
        from sqlalchemy.engine import make_url

        pg_admin(f'DROP DATABASE IF EXISTS "{make_url(database).database}" WITH (FORCE)')


def make_app(db_path, instance_path, **extra):
    uri = db_path if isinstance(db_path, str) and "://" in db_path else f"sqlite:///{db_path}"
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": uri,
        "INSTANCE_PATH": str(instance_path),
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "siproc.test",
        "ENCRYPTION_KEYS": [TEST_KEY],
        "AUDIT_HMAC_KEY": TEST_AUDIT_KEY,  # one key for every test instance, as an operator copies instance/audit_key
        **CHEAP_ARGON2,
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
    if POSTGRESQL:
        path = f"siproc_test_{os.getpid()}"
        pg_admin(f'DROP DATABASE IF EXISTS "{path}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{path}"')
    app = make_app(_pg_url(path) if POSTGRESQL else path, folder)
    with app.app_context():
        upgrade()
        load_reference(app.config["REFERENCE_DIR"])
        deploy_from_files(app.config["BPMN_DIR"], app.config["FORMS_DIR"])
        offices = {o.code: o for o in db.session.scalars(db.select(Office))}
        for username, role, office in USERS:
            create_user(username, username.replace(".", " ").title(), PASSWORD, role, offices[office])
        db.session.commit()
        db.engine.dispose()
    yield path
    if POSTGRESQL:
        pg_admin(f'DROP DATABASE IF EXISTS "{path}" WITH (FORCE)')


class _PgWorkbench:
    """One PostgreSQL database per test process, put back to the template's content after every test: a copy of
    every table is kept in schema `snap`; the reset truncates the tables, copies the rows back (foreign-key
    triggers off for the copy) and moves each sequence past its highest id. ~10x cheaper than CREATE DATABASE."""

    def __init__(self, template: str):
        self.template = template
        self.name = f"{template}_work"
        self.url = _pg_url(self.name)
        self._build()

    def _build(self) -> None:
        pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}"')
        import sqlalchemy as sa

        self.engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with self.engine.connect() as c:
            self.tables = list(c.scalars(sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")))
            c.execute(sa.text("CREATE SCHEMA snap"))
            for table in self.tables:
                c.execute(sa.text(f'CREATE TABLE snap."{table}" AS TABLE public."{table}"'))
            self.filled = [t for t in self.tables if c.scalar(sa.text(f'SELECT EXISTS (SELECT 1 FROM snap."{t}")'))]
            self.sequences = c.execute(sa.text(
                "SELECT s.relname, t.relname, a.attname FROM pg_class s "
                "JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
                "JOIN pg_class t ON t.oid = d.refobjid "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
                "JOIN pg_namespace n ON n.oid = s.relnamespace "
                "WHERE s.relkind = 'S' AND n.nspname = 'public'")).all()
        restore = "".join(f'INSERT INTO public."{t}" SELECT * FROM snap."{t}";' for t in self.filled)
        sequences = "".join(
            f"SELECT setval('public.\"{seq}\"', COALESCE((SELECT MAX(\"{col}\") FROM public.\"{tbl}\"), 0) + 1, false);"
            for seq, tbl, col in self.sequences)
        emptied = "".join(f'DELETE FROM public."{t}";' for t in self.tables)  # cheaper than TRUNCATE here
        self.reset_sql = (f"SET synchronous_commit = off; SET session_replication_role = replica; BEGIN; {emptied} "
                          f"{restore} COMMIT; SET session_replication_role = DEFAULT; {sequences}")

    def reset(self) -> None:
        import sqlalchemy as sa

        try:
            with self.engine.connect() as c:
                c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                c.exec_driver_sql(self.reset_sql)
        except sa.exc.DBAPIError:  # the test changed the schema itself (migrations, a dropped table): start over
            self.engine.dispose()
            self._build()

    def close(self) -> None:
        self.engine.dispose()
        pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_workbench(template_db):
    if not POSTGRESQL:
        yield None
        return
    bench = _PgWorkbench(template_db)
    yield bench
    bench.close()


@pytest.fixture
def app(template_db, pg_workbench, tmp_path):
    path = pg_workbench.url if pg_workbench else clone_db(template_db, tmp_path)
    app = make_app(path, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    clock.reset()
    if pg_workbench:
        pg_workbench.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def users(app):
    from app.auth.models import User

    return {u.username: u for u in db.session.scalars(db.select(User))}


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on a free local port; the app sends its e-mail there. Yields its inbox."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port for the real SMTP server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, BASE_URL="https://siproc.example")
    yield inbox
    controller.stop()


@pytest.fixture
def login(app):
    """login(username) -> a test client logged in through the real login form."""
    def _login(username):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client
    return _login


@pytest.fixture
def casefile(app):
    """Seven hand-built cases (T-1..T-7) in TAP and HOU with assistance and referrals, for the statistics:
    the numbers a statistician would count by hand. Returns the two offices by code."""
    from datetime import date

    from app.cases.models import Assistance, Referral
    from app.reference.models import Office

    offices = {o.code: o for o in db.session.scalars(db.select(Office))}
    tap, hou = offices["TAP"], offices["HOU"]
    c1 = build_case(1, tap, "DET", "F", 30, utc(2026, 1, 10, 15), utc(2026, 1, 20, 15), "08", "0801")
    c2 = build_case(2, tap, "NNA", "M", 15, utc(2026, 2, 1, 15), None, "05", "0501", alone=True)
    c3 = build_case(3, tap, "NNA", "F", 8, utc(2026, 2, 15, 15), None, "05", "0502")
    c4 = build_case(4, hou, "REP", "M", 61, utc(2026, 3, 5, 15), utc(2026, 3, 25, 15), "08", "0801")
    build_case(5, hou, "DET", "M", None, utc(2025, 12, 20, 15))  # before the period, still open
    build_case(6, tap, "DOC", "F", 40, utc(2025, 11, 1, 15), utc(2026, 1, 5, 15))  # closed in the period
    # 03:00 UTC on 1 April is 21:00 on 31 March in Tapachula: a March case.
    build_case(7, tap, "SAL", "M", 25, utc(2026, 4, 1, 3), None, "01", "0101")
    db.session.add_all([
        Assistance(case_id=c1.id, kind="visita_consular", given_on=date(2026, 1, 12), amount_minor=10000,
                   currency="USD", funding_source="FOSMIH", description="Visita."),
        Assistance(case_id=c3.id, kind="alojamiento", given_on=date(2026, 2, 20), amount_minor=50050,
                   currency="MXN", funding_source="presupuesto_consular", description="Albergue."),
        Referral(case_id=c2.id, institution_code="DGPHM", service_requested="Acompañamiento",
                 sent_at=date(2026, 2, 2), status="aceptada"),
        Referral(case_id=c4.id, institution_code="OFAMIR", service_requested="Traslado",
                 sent_at=date(2026, 3, 6), status="atendida"),
    ])
    db.session.commit()
    return {"TAP": tap, "HOU": hou}


_empty_databases = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """An empty database: a new SQLite file, or a throwaway PostgreSQL database (dropped afterwards).

    Tests on it run both databases themselves, so they run once, in the SQLite pass of `make test` (the
    PostgreSQL pass would repeat both variants: about 35 s for nothing)."""
    from sqlalchemy.engine import make_url

    if POSTGRESQL:
        pytest.skip("runs in the SQLite pass, on both databases")
    if request.param == "sqlite":
        yield tmp_path / "migrations.db"
        return
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    name = f"siproc_migrations_{os.getpid()}_{next(_empty_databases)}"
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


ALERT = re.compile(r'<div class="alert[^"]*" role="alert">(.*?)</div>', re.S)


def flashes(html: str) -> list[str]:
    """The flash messages shown on a page."""
    return [re.sub(r"\s+", " ", m).strip() for m in ALERT.findall(html)]


@pytest.fixture
def pdf_fetches(monkeypatch):
    """(URLs WeasyPrint asked for, network connections tried) while a document is made: the fetcher is counted
    (and still refuses) and the network is cut."""
    import socket

    from app.core import pdf

    fetched, connections = [], []
    original = pdf.refuse_url

    def counting(url):
        fetched.append(url)
        return original(url)

    def no_network(*args, **kwargs):
        connections.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(pdf, "refuse_url", counting)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    return fetched, connections
