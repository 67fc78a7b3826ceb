"""Encryption at rest, consent gating, and retention with anonymisation."""
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases.models import Attachment, Case, CaseNote, Person, Referral
from app.core import clock, crypto
from app.extensions import db
from app.workflow.models import WorkflowInstance
from tests.conftest import flashes
from tests.helpers import (
    APROBAR,
    ATENCION,
    EVALUACION_REMITIR,
    EVALUACION_SIN_REMISION,
    PROPUESTA,
    REMISION,
    SEGUIMIENTO_FIN,
    register_case,
    single_open_task,
    submit,
)

PDF = b"%PDF-1.4\n%%EOF\n"


def _case(instance) -> Case:
    db.session.expire_all()
    return db.session.get(Case, db.session.get(WorkflowInstance, instance.id).case_id)


def raw(table, column, key, value):
    return db.session.execute(sa.text(f"SELECT {column} FROM {table} WHERE {key} = :v"), {"v": value}).scalar()


def test_sensitive_fields_are_ciphertext_in_the_database_and_dni_search_still_works(login):
    officer = login("oficial.tap")
    instance = register_case(officer, pasaporte="E1234567")
    case = _case(instance)
    officer.post(f"/casos/{case.id}/notas", data={"texto": "La madre vive en Olanchito"})
    person_id = case.person_id
    for table, column, key, value in (("persons", "dni", "id", person_id),
                                      ("persons", "passport_number", "id", person_id),
                                      ("cases", "summary", "id", case.id), ("case_notes", "text", "case_id", case.id),
                                      ("workflow_instances", "state_json", "id", instance.id)):
        stored = raw(table, column, key, value)
        assert crypto.is_encrypted(stored), (table, column)
    assert "0501198802231" not in raw("persons", "dni", "id", person_id)
    details = db.session.execute(sa.text("SELECT details_json FROM case_events WHERE case_id = :c"),
                                 {"c": case.id}).scalars().all()
    assert details and all(crypto.is_encrypted(d) for d in details)
    assert db.session.get(Person, person_id).dni == "0501198802231"  # read back in clear by the app
    assert case.number in officer.get("/casos/buscar", query_string={"q": "0501-1988-02231"}).get_data(as_text=True)
    assert case.number in officer.get("/casos/buscar", query_string={"q": "E1234567"}).get_data(as_text=True)


def test_key_rotation_reencrypts_and_keeps_search(app, login):
    officer = login("oficial.tap")
    case = _case(register_case(officer))
    before = raw("persons", "dni", "id", case.person_id)
    new_key = crypto.generate_key()
    old_keys = app.config["ENCRYPTION_KEYS"]
    crypto.configure([new_key, *old_keys])
    try:
        result = app.test_cli_runner().invoke(args=["siproc", "keys", "rotate"])
        assert result.exit_code == 0, result.output
        after = raw("persons", "dni", "id", case.person_id)
        assert after != before
        crypto.configure([new_key])  # the old key is gone: everything must still read
        db.session.expire_all()
        assert db.session.get(Person, case.person_id).dni == "0501198802231"
        assert db.session.get(Case, case.id).summary.startswith("Retenido")
        found = db.session.scalar(db.select(Person).where(Person.dni_hash == crypto.search_hash("0501198802231")))
        assert found is not None
        assert db.session.scalar(db.select(AuditEvent.action).where(AuditEvent.action == "keys_rotated"))
    finally:
        crypto.configure(old_keys)


def test_plaintext_left_by_older_versions_is_read_and_then_encrypted(app, login):
    officer = login("oficial.tap")
    case = _case(register_case(officer))
    db.session.execute(sa.text("UPDATE cases SET summary = 'texto antiguo' WHERE id = :id"), {"id": case.id})
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Case, case.id).summary == "texto antiguo"
    app.test_cli_runner().invoke(args=["siproc", "keys", "rotate", "--plaintext-only"])
    assert crypto.is_encrypted(raw("cases", "summary", "id", case.id))


def test_referral_without_consent_needs_a_supervisor_override_with_a_reason(login):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer)
    case = _case(instance)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    task = single_open_task(instance_id=instance.id)
    no_consent = {k: v for k, v in REMISION.items() if k != "consentimiento"}
    submit(officer, task, no_consent, expect=422)
    assert officer.post(f"/casos/{case.id}/consentimiento", data={"motivo": "Persona inconsciente"}).status_code == 403
    short = consul.post(f"/casos/{case.id}/consentimiento", data={"motivo": "urgente"}, follow_redirects=True)
    assert any("al menos 10 caracteres" in f for f in flashes(short.get_data(as_text=True)))
    consul.post(f"/casos/{case.id}/consentimiento", data={"motivo": "Persona hospitalizada e inconsciente"})
    submit(officer, task, no_consent)
    assert db.session.scalar(db.select(db.func.count(Referral.id))) == 1
    case = _case(instance)
    assert case.consent_override_reason == "Persona hospitalizada e inconsciente" and not case.consent_to_share
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "consent_override")).case_id == case.id
    assert "remisión autorizada por un supervisor" in officer.get(f"/casos/{case.id}").get_data(as_text=True)


def _closed_case(login, **overrides):
    officer, consul = login("oficial.tap"), login("consul.tap")
    instance = register_case(officer, **overrides)
    for data in (EVALUACION_SIN_REMISION, ATENCION, SEGUIMIENTO_FIN, PROPUESTA):
        submit(officer, single_open_task(instance_id=instance.id), data)
    submit(consul, single_open_task(instance_id=instance.id), APROBAR)
    case = _case(instance)
    officer.post(f"/casos/{case.id}/notas", data={"texto": "Dirección de la hermana en Houston"})
    import io

    officer.post(f"/casos/{case.id}/documentos", data={"archivo": (io.BytesIO(PDF), "dni.pdf")},
                 content_type="multipart/form-data")
    return instance, _case(instance)


def test_retention_preview_then_anonymisation_keeps_statistics_only(app, login):
    instance, case = _closed_case(login, telefono="+52 962 123 4567")
    admin = login("admin")
    assert case.number not in admin.get("/admin/retencion/").get_data(as_text=True)
    clock.travel(timedelta(days=365 * 10 + 5))
    admin = login("admin")  # the session opened before the jump expired (idle timeout)
    preview = admin.get("/admin/retencion/").get_data(as_text=True)
    assert case.number in preview and "1 caso se anonimizará" in preview
    assert db.session.get(Case, case.id).anonymised_at is None  # the preview changes nothing

    stats_before = (case.person.sex, case.age_at_opening, case.person.origin_department_code, case.category_code,
                    case.opened_at, case.closed_at, case.office_id)
    attachment = db.session.scalar(db.select(Attachment))
    stored = Path(app.instance_path) / "uploads" / attachment.sha256[:2] / attachment.sha256
    assert stored.exists()
    admin.post("/admin/retencion/aplicar")
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    person = case.person
    assert (person.sex, case.age_at_opening, person.origin_department_code, case.category_code, case.opened_at,
            case.closed_at, case.office_id) == stats_before
    assert case.age_at_opening == 38
    assert person.full_name == "Persona anonimizada —" and person.dni is None and person.phones == []
    assert person.birth_date is None and person.search_text == "" and person.origin_municipality_code is None
    assert case.summary == "[anonimizado]" and case.anonymised_at is not None
    assert db.session.scalar(db.select(CaseNote.text)) == "[anonimizado]"
    assert not stored.exists() and db.session.get(Attachment, attachment.id).deleted_at is not None
    assert db.session.get(WorkflowInstance, instance.id).state_json == ""
    assert "Hernández" not in login("oficial.tap").get(f"/casos/{case.id}").get_data(as_text=True)
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "retention_applied"))
    assert event.details["casos"] == 1 and case.number in event.details["números"]
    assert "0 casos se anonimizarán" in admin.get("/admin/retencion/").get_data(as_text=True)


def test_a_person_with_a_case_still_open_keeps_their_identity(app, login):
    _, closed = _closed_case(login)
    register_case(login("oficial.tap"), dni="0501198802231")  # same person, new open case
    clock.travel(timedelta(days=365 * 10 + 5))
    login("admin").post("/admin/retencion/aplicar")
    db.session.expire_all()
    assert db.session.get(Case, closed.id).summary == "[anonimizado]"
    assert db.session.get(Person, closed.person_id).dni == "0501198802231"


def test_retention_pages_are_admin_only(login):
    for username in ("oficial.tap", "consul.tap", "analista", "gestor"):
        client = login(username)
        assert client.get("/admin/retencion/").status_code == 403
        assert client.post("/admin/retencion/aplicar").status_code == 403
