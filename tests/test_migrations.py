"""The migration chain, on SQLite and on PostgreSQL (when a server answers on 127.0.0.1:5432, or the one named by
SIPROC_TEST_POSTGRESQL): every revision upgrades and downgrades one step at a time and each downgrade gives back
exactly the schema of the revision below; a database holding the first release's data reaches head with its data
intact and usable by today's code; at head the models and the schema do not drift apart."""
import itertools
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from app.extensions import db
from tests.conftest import PASSWORD, make_app
from tests.helpers import EVALUACION_REMITIR, register_case, single_open_task, submit

FIRST_REVISION = "46e20cda6bd5"
MIGRATIONS = Path(__file__).resolve().parent.parent / "app" / "migrations"


# ------------------------------------------------------------------------------------------------ databases
# empty_database (an empty SQLite file, or a throwaway PostgreSQL database) is a fixture of tests/conftest.py.


@pytest.fixture
def empty_app(empty_database, tmp_path):
    """An app on the empty database, its app context pushed (on top of any other app's)."""
    app = make_app(empty_database, tmp_path / "instance")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


# ------------------------------------------------------------------------------------------------ helpers
def chain() -> list[str]:
    """The revisions from the first to head, in order."""
    script = ScriptDirectory(str(MIGRATIONS))
    return [r.revision for r in script.walk_revisions()][::-1]


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema() -> dict:
    """Tables, columns, keys, indexes and triggers of the app's database, in a comparable form."""
    inspector = sa.inspect(db.engine)
    found = {}
    for table in inspector.get_table_names():
        found[table] = {
            "columns": {c["name"]: (str(c["type"]), c["nullable"], str(c.get("default"))) for c in
                        inspector.get_columns(table)},
            "pk": tuple(inspector.get_pk_constraint(table)["constrained_columns"]),
            "fks": sorted((fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"],
                           tuple(fk["referred_columns"])) for fk in inspector.get_foreign_keys(table)),
            "indexes": sorted((i["name"], tuple(str(c) for c in (i.get("expressions") or i["column_names"])),
                               bool(i["unique"])) for i in inspector.get_indexes(table)),
            "uniques": sorted((u["name"] or "", tuple(u["column_names"]))
                              for u in inspector.get_unique_constraints(table)),
        }
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        found["(triggers)"] = sorted(connection.exec_driver_sql(query).scalars())
    return found


def drift(app) -> list:
    """What autogenerate would write for today's models against the database (empty: no drift)."""
    options = dict(app.extensions["migrate"].configure_args)
    options.pop("render_as_batch", None)
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts=options), db.metadata)


# ------------------------------------------------------------------------------------------------ the chain
def test_the_chain_is_linear_from_the_first_release_to_one_head():
    script = ScriptDirectory(str(MIGRATIONS))
    assert len(script.get_heads()) == 1
    revisions = chain()
    assert revisions[0] == FIRST_REVISION
    for below, above in itertools.pairwise(revisions):
        assert script.get_revision(above).down_revision == below
    for path in (MIGRATIONS / "versions").glob("*.py"):
        revision = re.search(r"^revision = ['\"](\w+)['\"]", path.read_text(), re.M).group(1)
        assert revision in path.name and revision in revisions


def test_each_migration_upgrades_and_downgrades_one_step_at_a_time(empty_app):
    revisions = chain()
    schemas = {None: schema()}
    for revision in revisions:
        upgrade(revision=revision)
        assert current_revision() == revision
        schemas[revision] = schema()
    audit_triggers = {"sqlite": ["audit_events_no_delete", "audit_events_seal_only"],
                      "postgresql": ["audit_events_append_only"]}[db.engine.dialect.name]
    assert schemas[revisions[-1]]["(triggers)"] == audit_triggers, "the audit trail lost its append-only triggers"

    for below, revision in reversed(list(itertools.pairwise([None, *revisions]))):
        downgrade(revision=below or "base")
        assert current_revision() == below
        after = schema()
        if below is None:  # only Alembic's own (empty) table is left
            assert set(after) == {"alembic_version", "(triggers)"} and after["(triggers)"] == []
        else:
            assert after == schemas[below], f"downgrade of {revision} did not give back the schema of {below}"

    upgrade()
    assert current_revision() == revisions[-1]
    assert schema() == schemas[revisions[-1]]
    assert drift(empty_app) == []


def test_at_head_the_models_and_the_schema_agree(empty_app):
    upgrade()
    assert drift(empty_app) == []
    result = empty_app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------------------------------------ old data
FIRST_RELEASE_PASSWORD = "clave-del-primer-release-2026"
PHONE = "+52 962 555 0101"


def _first_release_rows(app, login) -> tuple[dict, dict]:
    """Real work from today's code (a case registered through the web, its workflow state, projections and
    catalogues), read in plain form: every table's rows with encrypted columns decrypted, as the first release
    (no encryption) stored them. Also what today's code computed, to compare the migrations' backfills with."""
    instance = register_case(login("oficial.tap"))
    rows = {table.name: [dict(r) for r in db.session.execute(sa.select(table)).mappings()]
            for table in db.metadata.sorted_tables}
    person_id = rows["cases"][0]["person_id"]
    expected = {
        "instance_id": instance.id,
        "case": rows["cases"][0],
        "person": next(p for p in rows["persons"] if p["id"] == person_id),
        "markers": sorted(m["marker_code"] for m in rows["person_vulnerabilities"] if m["person_id"] == person_id),
        # open tasks (the inbox): completed ones keep what they had when done, the backfill fills them all
        "tasks": {t["id"]: (t["category_code"], t["priority"]) for t in rows["human_tasks"] if not t["completed_at"]},
        "facts": rows["case_facts"],
    }
    db.session.remove()
    return rows, expected


def _load_first_release(rows: dict, expected: dict) -> None:
    """INSERTs matching the schema of the first revision (reflected from the database itself)."""
    from app.auth.passwords import hash_password

    old = sa.MetaData()
    old.reflect(bind=db.engine)
    person_id = expected["person"]["id"]
    with db.engine.begin() as connection:
        for table in old.sorted_tables:
            if table.name == "alembic_version" or not rows.get(table.name):
                continue
            values = [{c: row.get(c) for c in table.columns.keys()} for row in rows[table.name]]
            if table.name == "persons":  # first release: phone and markers on the person row
                for value in values:
                    value["phone"] = PHONE if value["id"] == person_id else None
                    value["vulnerability_json"] = json.dumps(expected["markers"] if value["id"] == person_id else [])
            if table.name == "users":
                for value in values:
                    if value["username"] == "oficial.tap":
                        value["password_hash"] = hash_password(FIRST_RELEASE_PASSWORD)
            connection.execute(table.insert(), values)
        if connection.dialect.name == "postgresql":  # as a real database would have them: past the last id
            for table in old.sorted_tables:
                if "id" in table.columns and isinstance(table.c.id.type, sa.Integer) and rows.get(table.name):
                    connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                               f"(SELECT max(id) FROM {table.name}))")


@pytest.fixture
def first_release(app, login, empty_database, tmp_path):
    """(app, expected): a database made at the first revision, filled with the first release's rows by plain
    INSERTs, then upgraded to head; its app context is pushed."""
    rows, expected = _first_release_rows(app, login)
    old = make_app(empty_database, tmp_path / "instance")
    with old.app_context():
        try:
            upgrade(revision=FIRST_REVISION)
            assert "phone" in {c["name"] for c in sa.inspect(db.engine).get_columns("persons")}
            _load_first_release(rows, expected)
            upgrade()
            assert current_revision() == chain()[-1]
            yield old, expected
        finally:
            db.session.remove()
            db.engine.dispose()


def test_data_of_the_first_release_survives_every_migration_and_stays_usable(first_release):
    from app.auth.models import User
    from app.cases.models import Case, Person
    from app.core import crypto
    from app.stats.facts import CaseFact
    from app.workflow.models import HumanTask

    old, expected = first_release
    assert drift(old) == []

    # the case file survived, read through today's ORM
    case = db.session.get(Case, expected["case"]["id"])
    assert (case.number, case.summary, case.status) == (
        expected["case"]["number"], expected["case"]["summary"], expected["case"]["status"])
    assert case.consent_to_share is False
    person = db.session.get(Person, expected["person"]["id"])
    for field in ("given_names", "first_surname", "second_surname", "dni", "birth_date", "sex",
                  "origin_municipality_code"):
        assert getattr(person, field) == expected["person"][field], field
    # ... and the migrations filled what later releases added, as today's code does
    for field in ("search_text", "first_surname_key", "second_surname_key", "origin_department_code"):
        assert getattr(person, field) == expected["person"][field], field
    assert [(p.number, p.digits) for p in person.phones] == [(PHONE, "529625550101")]
    assert sorted(m.code for m in person.vulnerability_markers) == expected["markers"] != []
    tasks = {t.id: (t.category_code, t.priority) for t in db.session.scalars(
        sa.select(HumanTask).where(HumanTask.completed_at.is_(None)))}
    assert tasks == expected["tasks"] and len(tasks) == 1
    # case_facts: one row per case, filled by the statistics migration's backfill (the age band apart: see
    # test_first_release_cases_keep_their_age_band_in_the_statistics)
    facts = [{c.name: getattr(f, c.name) for c in CaseFact.__table__.columns if c.name != "age_band"}
             for f in db.session.scalars(sa.select(CaseFact))]
    assert facts == [{k: v for k, v in expected["facts"][0].items() if k != "age_band"}]
    db.session.remove()

    # the upgrade steps of `make db`: catalogues topped up, plaintext encrypted, audit chain sound
    runner = old.test_cli_runner()
    for command in (["siproc", "load-reference"], ["siproc", "keys", "rotate", "--plaintext-only"],
                    ["siproc", "audit", "verify"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, (command, result.output)
    with db.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT dni FROM persons WHERE id = :id"),
                                    {"id": expected["person"]["id"]}).scalar()
    assert crypto.is_encrypted(stored)
    person = db.session.get(Person, expected["person"]["id"])
    assert person.dni == expected["person"]["dni"] and person.dni_hash == crypto.search_hash(person.dni)
    db.session.remove()

    # the officer of the first release logs in with the password of then and carries the case on
    client = old.test_client()
    response = client.post("/login", data={"username": "oficial.tap", "password": FIRST_RELEASE_PASSWORD})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    stale = old.test_client().post("/login", data={"username": "oficial.tap", "password": PASSWORD})
    assert stale.status_code != 302  # the template's password is not this user's: the stored hash is used
    task = single_open_task(instance_id=expected["instance_id"])
    submit(client, task, EVALUACION_REMITIR)
    follow = single_open_task(instance_id=expected["instance_id"])
    assert follow.id != task.id and follow.category_code == expected["case"]["category_code"]
    assert follow.priority == 3 and db.session.get(Case, expected["case"]["id"]).risk_level == "alto"
    user = db.session.scalar(sa.select(User).where(User.username == "oficial.tap"))
    assert user.last_login_at is not None


def test_first_release_cases_keep_their_age_band_in_the_statistics(first_release):
    from app.cases.models import Case
    from app.stats.facts import CaseFact

    _old, expected = first_release
    assert db.session.get(Case, expected["case"]["id"]).age_at_opening == expected["case"]["age_at_opening"]
    assert db.session.get(CaseFact, expected["case"]["id"]).age_band == expected["facts"][0]["age_band"]
