"""The app factory and configuration: no side effects at import, layered configuration, SQLite WAL."""
import os
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from app import create_app
from app.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def test_importing_the_package_has_no_side_effects(tmp_path):
    code = ("import threading, app, app.workflow.engine, app.cases.services, app.tasks.views; "
            "print('ok', threading.active_count(), app.workflow.engine.get_engine.cache_info().currsize)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    # no file written, no thread started (scheduler), no workflow engine built (parser, spec cache) by importing
    assert result.stdout.split() == ["ok", "1", "0"], result.stderr
    assert list(tmp_path.iterdir()) == []


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    app = create_app({"INSTANCE_PATH": tmp_path, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    key_file = tmp_path / "secret_key"
    assert len(app.config["SECRET_KEY"]) == 64 and key_file.read_text() == app.config["SECRET_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = create_app({"INSTANCE_PATH": tmp_path, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_configuration_layers(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("INBOX_PAGE_SIZE = 20\nSCHEDULER_INTERVAL_SECONDS = 60\n")
    monkeypatch.setenv("SIPROC_SCHEDULER_INTERVAL_SECONDS", "15")
    monkeypatch.setenv("SIPROC_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    app = create_app({"INSTANCE_PATH": tmp_path})
    assert app.config["INBOX_PAGE_SIZE"] == 20  # instance/config.py over the default 50
    assert app.config["SCHEDULER_INTERVAL_SECONDS"] == 15  # environment over instance/config.py
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")


def test_default_database_is_sqlite_in_wal_mode(tmp_path):
    app = create_app({"INSTANCE_PATH": tmp_path, "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'siproc.db'}"
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_migrations_match_the_models(app):
    """Upgrading an empty database through every migration leaves no difference with the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"render_as_batch": True}),
                                db.metadata)
    assert diff == []
