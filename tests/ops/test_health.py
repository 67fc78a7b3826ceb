"""GET /salud (liveness, no database) and GET /listo (readiness: database, schema at the migrations head,
scheduler sweeping when SCHEDULER_ENABLED)."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core import clock
from app.core.access import PUBLIC, rule_of
from app.extensions import db
from app.scheduler import lease
from tests.conftest import TEST_KEY, make_app


@pytest.fixture
def health_app(app):
    """The normal `app` fixture (create_app wires the health endpoints; their rule is public)."""
    assert "ops" in app.blueprints and rule_of(app.view_functions["ops.ready"]) == (PUBLIC, None)
    app.config["SCHEDULER_ENABLED"] = False
    return app


@pytest.fixture
def anonymous(health_app):
    return health_app.test_client()


def _statements(app):
    seen = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_live_answers_without_login_and_without_the_database(health_app, anonymous):
    seen = _statements(health_app)
    response = anonymous.get("/salud")
    assert response.status_code == 200
    assert response.get_json() == {"estado": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert seen == []


def test_ready_on_the_test_database(anonymous):
    response = anonymous.get("/listo")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"estado": "listo"}


def test_an_older_schema_revision_is_not_ready(health_app, anonymous):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(health_app.extensions["migrate"].directory)
    (head,) = script.get_heads()
    older = script.get_revision(head).down_revision
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": older})
    db.session.commit()
    response = anonymous.get("/listo")
    assert response.status_code == 503
    body = response.get_json()
    assert body["estado"] == "no listo"
    assert len(body["fallos"]) == 1 and body["fallos"][0].startswith("migraciones:")
    assert "flask db upgrade" in body["fallos"][0]
    assert older not in response.get_data(as_text=True)  # no version numbers in a public answer


def test_a_database_never_migrated_is_not_ready(health_app, anonymous):
    db.session.execute(sa.text("DROP TABLE alembic_version"))
    db.session.commit()
    response = anonymous.get("/listo")
    assert response.status_code == 503
    assert response.get_json()["fallos"][0].startswith("migraciones: la base de datos no tiene versión")


def test_scheduler_enabled_but_never_swept_is_not_ready_until_it_sweeps(health_app, anonymous):
    from app.scheduler.sweep import run_sweep

    health_app.config["SCHEDULER_ENABLED"] = True
    response = anonymous.get("/listo")
    assert response.status_code == 503
    assert response.get_json() == {"estado": "no listo", "fallos": [
        "planificador: no se ha registrado ninguna barrida (¿está en marcha «flask siproc scheduler»?)"]}
    assert not run_sweep().skipped
    assert anonymous.get("/listo").status_code == 200


def test_a_scheduler_that_stopped_sweeping_is_not_ready(health_app, anonymous):
    from app.scheduler.sweep import run_sweep

    health_app.config["SCHEDULER_ENABLED"] = True
    run_sweep()
    interval = health_app.config["SCHEDULER_INTERVAL_SECONDS"]
    clock.travel(timedelta(seconds=3 * interval - 5))
    assert anonymous.get("/listo").status_code == 200
    clock.travel(timedelta(seconds=10))
    response = anonymous.get("/listo")
    assert response.status_code == 503
    (failure,) = response.get_json()["fallos"]
    assert failure.startswith("planificador: la última barrida terminó hace")
    assert failure.endswith(f"(máximo {3 * interval} s)")


def test_a_sweep_in_progress_counts_as_a_live_scheduler(health_app, anonymous):
    health_app.config["SCHEDULER_ENABLED"] = True
    assert lease.acquire("sweep", "otro-planificador", clock.now(), health_app.config["SWEEP_LEASE_SECONDS"])
    assert anonymous.get("/listo").status_code == 200
    lease.release("sweep", "otro-planificador")
    assert anonymous.get("/listo").status_code == 503


def test_scheduler_disabled_ignores_the_sweeps(health_app, anonymous):
    clock.travel(timedelta(days=30))
    assert anonymous.get("/listo").status_code == 200


def test_a_database_that_does_not_answer(tmp_path, monkeypatch):
    missing = tmp_path / "no-existe" / "siproc.db"
    app = make_app(missing, tmp_path, SCHEDULER_ENABLED=False)
    client = app.test_client()
    assert client.get("/salud").status_code == 200
    response = client.get("/listo")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.get_json() == {"estado": "no listo", "fallos": ["base de datos: no responde"]}
    assert "no-existe" not in body and "Traceback" not in body and "sqlite" not in body.lower()
    with app.app_context():
        db.engine.dispose()


def test_the_scheduler_check_on_demand_for_a_monitor(health_app, anonymous):
    """Web workers run with SCHEDULER_ENABLED off (app/wsgi.py); a monitor asks for the scheduler check."""
    from app.scheduler.sweep import run_sweep

    assert anonymous.get("/listo").status_code == 200
    assert anonymous.get("/listo?planificador=1").status_code == 503
    run_sweep()
    assert anonymous.get("/listo?planificador=1").status_code == 200


def test_the_wsgi_entry_forces_the_scheduler_flag_off(monkeypatch, tmp_path):
    import importlib
    import sys

    monkeypatch.setenv("SIPROC_SCHEDULER_ENABLED", "true")
    monkeypatch.setenv("SIPROC_DATABASE_URL", f"sqlite:///{tmp_path / 'wsgi.db'}")
    monkeypatch.setenv("SIPROC_SECRET_KEY", "wsgi-test")
    monkeypatch.setenv("SIPROC_ENCRYPTION_KEYS", f'["{TEST_KEY}"]')
    sys.modules.pop("app.wsgi", None)
    module = importlib.import_module("app.wsgi")
    try:
        assert module.app.config["SCHEDULER_ENABLED"] is False
        assert module.app.config["SQLALCHEMY_DATABASE_URI"].endswith("wsgi.db")
    finally:
        sys.modules.pop("app.wsgi", None)
        with module.app.app_context():
            db.engine.dispose()
