"""`flask siproc backup create|verify|restore`: a backup of real work restores into a fresh instance with the same
rows, the same decrypted fields and an intact audit chain; damaged backups, missing files and missing tools are
refused with a Spanish message and exit code 1, and nothing changes without --yes.

The suite's own database is SQLite or, with SIPROC_TEST_POSTGRESQL, PostgreSQL (pg_dump/pg_restore). The last
test exercises the PostgreSQL path in every run where a server answers on 127.0.0.1:5432."""
import itertools
import json
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app.cases.models import Case, Person
from app.core.keys import encrypted_columns
from app.extensions import db
from app.ops.backup import KEY_TABLES, file_digest
from app.workflow.models import WorkflowInstance
from tests.conftest import PASSWORD, POSTGRESQL, make_app
from tests.helpers import (
    EVALUACION_REMITIR,
    PG_SERVER,
    pg_admin,
    pg_unavailable,
    register_case,
    single_open_task,
    submit,
)

_names = itertools.count(1)


# ------------------------------------------------------------------------------------------------ helpers
def cli(app, *args):
    """Run `flask siproc ...` against this app (its own app context: another app's may be current)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["siproc", *args])


def head_revision(app) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(app.extensions["migrate"].directory).get_current_head()


def created_files(folder: Path) -> tuple[Path, Path]:
    backups = [p for p in folder.iterdir() if p.suffix in (".db", ".dump")]
    manifests = [p for p in folder.iterdir() if p.suffix == ".json"]
    assert len(backups) == 1 and len(manifests) == 1, sorted(p.name for p in folder.iterdir())
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "temporary files left behind"
    return backups[0], manifests[0]


def backup_now(app, folder: Path) -> tuple[Path, dict]:
    result = cli(app, "backup", "create", "--to", str(folder))
    assert result.exit_code == 0, result.output
    path, manifest_path = created_files(folder)
    assert str(path) in result.output and str(manifest_path) in result.output
    return path, json.loads(manifest_path.read_text(encoding="utf-8"))


def snapshot(app) -> dict:
    """Everything the comparison needs, read through this app: row counts of every table, every encrypted
    column decrypted, and the case file read through the ORM."""
    with app.app_context():
        tables = sorted(sa.inspect(db.engine).get_table_names())
        counts = {t: db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(t))) for t in tables}
        decrypted = {}
        for table, name in encrypted_columns():
            pk = table.primary_key.columns.values()[0]
            decrypted[f"{table.name}.{name}"] = db.session.execute(
                sa.select(pk, table.c[name]).order_by(pk)).all()
        cases = []
        for case in db.session.scalars(sa.select(Case).order_by(Case.id)):
            person = db.session.get(Person, case.person_id)
            cases.append({
                "number": case.number, "status": case.status, "summary": case.summary,
                "closure_summary": case.closure_summary, "risk": case.risk_level, "category": case.category_code,
                "dni": person.dni, "passport": person.passport_number, "address": person.address_abroad,
                "names": (person.given_names, person.first_surname, person.second_surname),
            })
        states = list(db.session.scalars(sa.select(WorkflowInstance.state_json).order_by(WorkflowInstance.id)))
        db.session.remove()
        return {"counts": counts, "decrypted": decrypted, "cases": cases, "states": states}


def assert_same_data(source, restored, expect_cases: int) -> None:
    before, after = snapshot(source), snapshot(restored)
    assert after["counts"] == before["counts"]
    assert before["counts"]["cases"] == expect_cases and before["counts"]["audit_events"] > 0
    assert after["decrypted"] == before["decrypted"]
    assert after["cases"] == before["cases"]
    assert before["cases"][0]["dni"] == "0501198802231" and before["cases"][0]["summary"]
    assert after["states"] == before["states"] and all(s.startswith("{") for s in after["states"])
    verified = cli(restored, "audit", "verify")
    assert verified.exit_code == 0, verified.output


def work(client):
    """A registered and assessed case, through the web."""
    instance = register_case(client)
    submit(client, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    return instance


def is_sqlite_empty(path: Path) -> bool:
    if not path.exists():
        return True
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        return sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


# ------------------------------------------------------------------------------------------------ PostgreSQL
@pytest.fixture
def new_pg_database():
    """new_pg_database() -> the URL of a new empty database, dropped after the test."""
    reason = pg_unavailable("pg_dump", "pg_restore")
    if reason:
        pytest.skip(reason)
    created = []

    def _new():
        name = f"siproc_backup_{os.getpid()}_{next(_names)}"
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)

    yield _new
    for name in created:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_target(tmp_path, request):
    """Where a fresh instance keeps its (empty) database: a new SQLite file, or a new PostgreSQL database when
    the suite runs on PostgreSQL. Returns (database, instance folder)."""
    folder = tmp_path / "fresh"
    folder.mkdir()
    if POSTGRESQL:
        return request.getfixturevalue("new_pg_database")(), folder
    return folder / "restored.db", folder


def fresh_is_empty(database) -> bool:
    if isinstance(database, Path):
        return is_sqlite_empty(database)
    engine = sa.create_engine(database, poolclass=NullPool)
    try:
        return sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# ------------------------------------------------------------------------------------------------ tests
def test_backup_restores_into_a_fresh_instance_with_the_same_data(app, login, tmp_path, fresh_target):
    officer = login("oficial.tap")
    case_id = work(officer).case_id  # read now: ORM objects of this app must not load inside another app's context
    folder = tmp_path / "copias"
    path, manifest = backup_now(app, folder)

    assert path.suffix == (".dump" if POSTGRESQL else ".db") and path.name.startswith("siproc-")
    for file in (path, path.with_suffix(".json")):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert manifest["dialect"] == ("postgresql" if POSTGRESQL else "sqlite")
    assert manifest["alembic_revision"] == head_revision(app)
    assert (manifest["sha256"], manifest["size"]) == file_digest(path)
    assert set(manifest["row_counts"]) == set(KEY_TABLES)
    assert manifest["row_counts"]["cases"] == 1 and manifest["row_counts"]["case_facts"] == 1
    assert manifest["row_counts"]["human_tasks"] >= 2 and manifest["row_counts"]["audit_events"] > 0
    assert manifest["encryption_keys"]["included"] is False and "NO" in manifest["encryption_keys"]["note"]
    assert manifest["created_at"].endswith("+00:00")

    verified = cli(app, "backup", "verify", str(path))
    assert verified.exit_code == 0 and "Copia verificada." in verified.output, verified.output

    database, instance_folder = fresh_target
    fresh = make_app(database, instance_folder)
    try:
        restored = cli(fresh, "backup", "restore", str(path), "--yes")
        assert restored.exit_code == 0, restored.output
        assert f"Revisión de Alembic: {head_revision(app)}" in restored.output
        assert "db upgrade" not in restored.output  # the backup is at head
        assert_same_data(app, fresh, expect_cases=1)
        # the restored instance works: the officer logs in and opens the case
        with fresh.app_context():
            client = fresh.test_client()
            response = client.post("/login", data={"username": "oficial.tap", "password": PASSWORD})
            assert response.status_code == 302
            page = client.get(f"/casos/{case_id}")
            number = db.session.get(Case, case_id).number
            assert page.status_code == 200 and number in page.get_data(as_text=True)
    finally:
        dispose(fresh)


def test_a_tampered_backup_is_refused_by_verify_and_restore(app, login, tmp_path, fresh_target):
    register_case(login("oficial.tap"))
    path, _manifest = backup_now(app, tmp_path / "copias")
    flip_one_byte(path)

    verified = cli(app, "backup", "verify", str(path))
    assert verified.exit_code == 1
    assert "sha256" in verified.output and "no coincide" in verified.output and "Traceback" not in verified.output

    database, instance_folder = fresh_target
    fresh = make_app(database, instance_folder)
    try:
        restored = cli(fresh, "backup", "restore", str(path), "--yes")
        assert restored.exit_code == 1 and "no coincide" in restored.output and "no se restauró nada" in restored.output
        assert isinstance(restored.exception, SystemExit)
    finally:
        dispose(fresh)
    assert fresh_is_empty(database)

    # without its manifest the checksum cannot be checked: verify says so
    path.with_suffix(".json").unlink()
    without = cli(app, "backup", "verify", str(path))
    assert without.exit_code == 1 and "falta el manifiesto" in without.output


def test_restore_without_yes_changes_nothing_and_with_yes_replaces_the_database(app, login, tmp_path):
    path, manifest = backup_now(app, tmp_path / "copias")  # the template: users, catalogues, no case
    assert manifest["row_counts"]["cases"] == 0
    register_case(login("oficial.tap"))
    db.session.remove()

    refused = cli(app, "backup", "restore", str(path))
    assert refused.exit_code == 1 and "--yes" in refused.output and "No se cambió nada" in refused.output
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 1
    db.session.remove()

    replaced = cli(app, "backup", "restore", str(path), "--yes")
    assert replaced.exit_code == 0, replaced.output
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 0
    verified = cli(app, "audit", "verify")
    assert verified.exit_code == 0, verified.output


def test_errors_are_one_spanish_line_and_exit_code_1(app, tmp_path):
    for command in (["verify"], ["restore", "--yes"]):
        result = cli(app, "backup", *command, str(tmp_path / "no-existe.db"))
        assert result.exit_code == 1 and "no existe el archivo de copia" in result.output
        assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    junk = tmp_path / "notas.db"
    junk.write_text("esto no es una copia")
    result = cli(app, "backup", "verify", str(junk))
    assert result.exit_code == 1 and "no es una copia de SIPROC" in result.output
    # a folder that cannot be created: nothing written, a clear message
    blocker = tmp_path / "archivo"
    blocker.write_text("")
    result = cli(app, "backup", "create", "--to", str(blocker / "copias"))
    assert result.exit_code == 1 and "no se creó ninguna copia" in result.output


def test_postgresql_backup_and_restore_roundtrip(new_pg_database, tmp_path, monkeypatch):
    """Runs in every pass where a PostgreSQL server answers (the SQLite pass too): pg_dump of a database holding
    real work, pg_restore into a new database, same rows and decrypted fields, audit chain intact."""
    from app.auth.services import create_user
    from app.modeler.services import deploy_from_files
    from app.reference.models import Office
    from app.reference.services import load_reference

    source = make_app(new_pg_database(), tmp_path / "origen")
    target = make_app(new_pg_database(), tmp_path / "destino")
    try:
        with source.app_context():
            upgrade()
            load_reference(source.config["REFERENCE_DIR"])
            deploy_from_files(source.config["BPMN_DIR"], source.config["FORMS_DIR"])
            office = db.session.scalar(sa.select(Office).where(Office.code == "TAP"))
            create_user("oficial.tap", "Oficial Tap", PASSWORD, "oficial", office)
            db.session.commit()
            client = source.test_client()
            assert client.post("/login", data={"username": "oficial.tap", "password": PASSWORD}).status_code == 302
            work(client)
            db.session.remove()

        # without pg_dump: a clear message, exit code 1, nothing written
        monkeypatch.setenv("PATH", str(tmp_path / "sin-herramientas"))
        missing = cli(source, "backup", "create", "--to", str(tmp_path / "nada"))
        assert missing.exit_code == 1 and "no se encontró pg_dump" in missing.output
        assert not any((tmp_path / "nada").iterdir())
        monkeypatch.undo()

        path, manifest = backup_now(source, tmp_path / "copias")
        assert path.suffix == ".dump" and manifest["dialect"] == "postgresql"
        assert manifest["row_counts"]["cases"] == 1 and manifest["alembic_revision"] == head_revision(source)
        assert "127.0.0.1" in manifest["database"]
        verified = cli(source, "backup", "verify", str(path))
        assert verified.exit_code == 0 and "pg_restore --list" in verified.output, verified.output

        restored = cli(target, "backup", "restore", str(path), "--yes")
        assert restored.exit_code == 0, restored.output
        assert_same_data(source, target, expect_cases=1)

        # restoring again over a database that already holds the data: --clean replaces it, still equal
        again = cli(target, "backup", "restore", str(path), "--yes")
        assert again.exit_code == 0, again.output
        assert_same_data(source, target, expect_cases=1)

        flip_one_byte(path)
        tampered = cli(target, "backup", "restore", str(path), "--yes")
        assert tampered.exit_code == 1 and "no coincide" in tampered.output
    finally:
        dispose(source)
        dispose(target)
