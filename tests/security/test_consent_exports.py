"""Consent binds exports (named purposes), ids from the URL are bounded, file names and free text carry no
control or bidi-override characters, and a closed case's data are read-only (notes and documents still go in)."""
import csv
import io
import json
import re
from urllib.parse import unquote

import openpyxl
import pytest

from app.audit.models import AuditEvent
from app.cases.models import (
    CONSENT_NAMED_EXPORT,
    CONSENT_SHARING,
    Attachment,
    Case,
    CaseConsent,
    CaseNote,
    Person,
    Referral,
)
from app.core.text import clean_filename, strip_controls
from app.extensions import db
from app.workflow.models import WorkflowInstance
from tests.conftest import flashes
from tests.helpers import EVALUACION_REMITIR, REMISION, case_of, register_case, single_open_task, submit

PERIOD = "desde=2026-01&hasta=2026-03"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MASKED = "(sin consentimiento de exportación)"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u200e\u200f\u2066\u2067\u2068\u2069"


def _audits(action):
    return [json.loads(e.details_json) for e in db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def _consents(case) -> dict:
    return {c.purpose: (c.given, c.source, c.recorded_by_id) for c in db.session.scalars(
        db.select(CaseConsent).where(CaseConsent.case_id == case.id))}


def _consent_to_export(number):
    case_id = db.session.scalar(db.select(Case.id).where(Case.number == number))
    db.session.add(CaseConsent(case_id=case_id, purpose=CONSENT_NAMED_EXPORT, given=True, source="registro"))
    db.session.commit()


# ------------------------------------------------------------------------------------------------ purposes
def test_registration_records_both_purposes_with_who_and_when(login, users):
    officer = login("oficial.tap")
    both = case_of(register_case(officer, consentimiento_compartir="y", consentimiento_exportacion="y"))
    me = users["oficial.tap"].id
    assert _consents(both) == {CONSENT_SHARING: (True, "registro", me), CONSENT_NAMED_EXPORT: (True, "registro", me)}
    assert both.consent_to_share  # the per-case fields referrals read are kept
    neither = case_of(register_case(officer, dni="0801199012345", nombres="Otra", primer_apellido="Persona"))
    assert _consents(neither) == {CONSENT_SHARING: (False, "registro", me),
                                  CONSENT_NAMED_EXPORT: (False, "registro", me)}
    assert not neither.consent_to_share
    # consent given when referring is the sharing purpose only, never named exports
    instance = db.session.scalar(db.select(WorkflowInstance).where(WorkflowInstance.case_id == neither.id))
    for data in (EVALUACION_REMITIR, REMISION):
        submit(officer, single_open_task(instance_id=instance.id), data)
    db.session.expire_all()
    assert _consents(neither) == {CONSENT_SHARING: (True, "remision", me),
                                  CONSENT_NAMED_EXPORT: (False, "registro", me)}


def test_a_supervisor_override_covers_sharing_and_not_exports(login, users):
    case = case_of(register_case(login("oficial.tap")))
    response = login("consul.tap").post(f"/casos/{case.id}/consentimiento",
                                        data={"motivo": "Riesgo inminente para la vida de la persona."})
    assert response.status_code == 302
    db.session.expire_all()
    assert _consents(case)[CONSENT_SHARING] == (True, "supervisor_override", users["consul.tap"].id)
    assert _consents(case)[CONSENT_NAMED_EXPORT][0] is False


# ------------------------------------------------------------------------------------------------ exports
def test_case_list_masks_persons_without_export_consent_and_says_how_many(casefile, login):
    _consent_to_export("T-1")
    response = login("analista").get(f"/estadisticas/casos.csv?{PERIOD}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    cases = {r[0]: r[8] for r in rows[1:-2]}
    assert cases == {"T-1": "Persona 1 Prueba", "T-2": MASKED, "T-3": MASKED, "T-4": MASKED, "T-7": MASKED}
    assert rows[-2] == [] and rows[-1] == [
        "Filas: 5. Sin consentimiento de exportación nominal (nombre de la persona omitido): 4."]
    assert not any("Persona 2" in cell for row in rows for cell in row)
    audit = _audits("cases_exported")[-1]
    assert (audit["casos"], audit["nombres_omitidos_sin_consentimiento"]) == (5, 4)

    # masking keeps every row (statistics stay complete); the XLSX says the same
    book = openpyxl.load_workbook(io.BytesIO(login("consul.tap").get(f"/estadisticas/casos.xlsx?{PERIOD}").data))
    values = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    assert {v[0]: v[8] for v in values[1:-2]} == {"T-1": "Persona 1 Prueba", "T-2": MASKED, "T-3": MASKED,
                                                  "T-7": MASKED}  # Tapachula only
    assert values[-1][0] == "Filas: 4. Sin consentimiento de exportación nominal (nombre de la persona omitido): 3."
    audit = _audits("cases_exported")[-1]
    assert (audit["formato"], audit["casos"], audit["nombres_omitidos_sin_consentimiento"]) == ("xlsx", 4, 3)


def test_refused_or_withdrawn_export_consent_masks_and_anonymised_stays_anonymised(casefile, login):
    _consent_to_export("T-1")
    _consent_to_export("T-2")
    db.session.scalar(db.select(CaseConsent).join(Case, Case.id == CaseConsent.case_id)
                      .where(Case.number == "T-2")).given = False  # withdrawn
    person = db.session.get(Person, db.session.scalar(db.select(Case.person_id).where(Case.number == "T-3")))
    person.anonymised_at = person.created_at
    db.session.commit()
    rows = list(csv.reader(io.StringIO(login("analista").get(f"/estadisticas/casos.csv?{PERIOD}")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    cases = {r[0]: r[8] for r in rows[1:-2]}
    assert (cases["T-1"], cases["T-2"], cases["T-3"]) == ("Persona 1 Prueba", MASKED, "(anonimizada)")
    assert rows[-1][0].endswith(": 3.")  # T-2, T-4, T-7
    assert _audits("cases_exported")[-1]["nombres_omitidos_sin_consentimiento"] == 3


def test_a_supervisor_of_another_office_still_exports_only_their_office(casefile, login):
    _consent_to_export("T-1")
    houston = login("consul.hou")
    refused = houston.get(f"/estadisticas/casos.csv?{PERIOD}&oficina={casefile['TAP'].id}")
    assert refused.status_code == 400 and "Solo puede ver las cifras de su oficina." in refused.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(houston.get(f"/estadisticas/casos.csv?{PERIOD}")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:-2]] == ["T-4"] and rows[1][8] == MASKED
    assert rows[-1][0].startswith("Filas: 1.")
    assert [a["casos"] for a in _audits("cases_exported")] == [1]  # the refused request exported nothing


# ------------------------------------------------------------------------------------------------ bounded ids
BIG = "9" * 40


@pytest.mark.parametrize("url", [
    f"/estadisticas/?oficina={BIG}", "/estadisticas/?oficina=-3", f"/estadisticas/?edad={BIG}",
    "/estadisticas/?edad=-1", "/estadisticas/?edad=²", f"/estadisticas/informe?oficina={BIG}",
    f"/estadisticas/casos.csv?oficina={BIG}", f"/estadisticas/publicacion.csv?oficina={BIG}",
])
def test_huge_or_negative_numbers_on_statistics_pages_are_explained(casefile, login, url):
    response = login("analista").get(url)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "La oficina elegida no existe." in text or "El grupo de edad elegido no es válido." in text


@pytest.mark.parametrize("url,status", [
    (f"/casos/?pagina={BIG}", 200), ("/casos/?pagina=-3", 200), (f"/casos/{BIG}", 404), ("/casos/-1", 404),
    (f"/casos/1/documentos/{BIG}", 404), (f"/tareas/{BIG}", 404),
])
def test_huge_or_negative_ids_on_the_case_list_are_never_a_500(login, url, status):
    login("oficial.tap").get("/casos/")
    response = login("oficial.tap").get(url)
    assert response.status_code == status
    if status == 404:
        assert "no existe" in response.get_data(as_text=True)


# ------------------------------------------------------------------------------------------------ control chars
def test_the_text_helpers():
    assert strip_controls(f"a{BIDI}b\x00\x07\nc\td\r\ne") == "ab\nc\td\ne"
    assert clean_filename("factura\u202efdp.exe") == "facturafdp.exe"
    assert clean_filename("a\x00b.pdf") == "ab.pdf"
    assert clean_filename('..\\..\\x/"y\u2066z\u2069".pdf') == "yz .pdf"  # no path, no quotes
    assert clean_filename("\u202e\u200f") == ""
    long = clean_filename("x" * 300 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")


def _upload(client, case, name, data=PDF):
    return client.post(f"/casos/{case.id}/documentos", data={"archivo": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_uploaded_names_lose_control_and_bidi_characters_stored_and_served(login):
    officer = login("oficial.tap")
    case = case_of(register_case(officer))
    # the override hid the real extension: once removed, .exe is refused
    refused = _upload(officer, case, "factura\u202efdp.exe", b"MZ\x90\x00")
    assert any("Tipo de archivo no permitido" in f for f in flashes(refused.get_data(as_text=True)))
    for sent, kept in (("informe\u202egnp.pdf", "informegnp.pdf"), ("a\x00b.pdf", "ab.pdf"),
                       (f"acta{BIDI}.pdf", "acta.pdf")):
        assert "Documento guardado." in flashes(_upload(officer, case, sent).get_data(as_text=True))
        attachment = db.session.scalar(db.select(Attachment).order_by(Attachment.id.desc()))
        assert attachment.filename == kept
        with officer.get(f"/casos/{case.id}/documentos/{attachment.id}") as download:
            header = download.headers["Content-Disposition"]
        assert kept in unquote(header) and not re.search(r"[\x00-\x1f\u200e\u200f\u202a-\u202e\u2066-\u2069]",
                                                         unquote(header))
    # a name stored before this rule is cleaned when sent
    attachment.filename = "viejo\u202egnp.pdf"
    db.session.commit()
    with officer.get(f"/casos/{case.id}/documentos/{attachment.id}") as download:
        header = download.headers["Content-Disposition"]
    assert "viejognp.pdf" in unquote(header) and "\u202e" not in unquote(header)
    assert len(db.session.scalars(db.select(Attachment)).all()) == 3


def test_free_text_fields_lose_bidi_overrides_but_keep_lines_and_tabs(login):
    officer = login("oficial.tap")
    case = case_of(register_case(officer, relato="Retenido\u202e en la estación\r\nsegunda línea\tcon tabulador"))
    assert case.summary == "Retenido en la estación\nsegunda línea\tcon tabulador"
    assert case.person.given_names == "José Ángel"
    spoofed = case_of(register_case(officer, dni="0801199012345", nombres="Ana\u202e\u2066", primer_apellido="Ruiz"))
    assert spoofed.person.given_names == "Ana"
    officer.post(f"/casos/{case.id}/notas", data={"texto": "Llamó\u202e la madre\nhoy"})
    assert db.session.scalar(db.select(CaseNote.text).where(CaseNote.case_id == case.id)) == "Llamó la madre\nhoy"


# ------------------------------------------------------------------------------------------------ closed cases
CLOSED_RULE = "Un caso cerrado es de solo lectura"


def test_a_closed_case_takes_notes_and_documents_but_its_data_are_read_only(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    for data in (EVALUACION_REMITIR, REMISION):
        submit(officer, single_open_task(instance_id=instance.id), data)
    case = case_of(instance)
    case.status, case.closed_at = "cerrado", case.opened_at
    db.session.commit()
    referral = db.session.scalar(db.select(Referral).where(Referral.case_id == case.id))

    note = officer.post(f"/casos/{case.id}/notas", data={"texto": "Seguimiento tras el cierre."},
                        follow_redirects=True)
    assert "Nota añadida." in flashes(note.get_data(as_text=True))
    assert "Documento guardado." in flashes(_upload(officer, case, "constancia.pdf").get_data(as_text=True))

    for response in (officer.get(f"/casos/{case.id}/persona"),
                     officer.post(f"/casos/{case.id}/persona", data={"nombres": "Otro", "primer_apellido": "X"}),
                     officer.post(f"/casos/{case.id}/remisiones/{referral.id}", data={"estado": "aceptada"}),
                     officer.post(f"/casos/{case.id}/traslado", data={"oficina": "1", "motivo": "Se mudó."}),
                     login("consul.tap").post(f"/casos/{case.id}/consentimiento",
                                              data={"motivo": "Motivo largo suficiente."},
                                              follow_redirects=True)):
        assert response.status_code in (200, 409)
        assert CLOSED_RULE in response.get_data(as_text=True)
    db.session.expire_all()
    assert referral.status == "enviada" and case.person.given_names == "José Ángel"
    assert case.consent_override_at is None
    assert db.session.scalar(db.select(db.func.count()).select_from(CaseNote).where(CaseNote.case_id == case.id)) == 1


# ------------------------------------------------------------------------------------------------ migration
def test_the_migration_carries_sharing_consent_over_and_grants_no_named_export(app, login, users,
                                                                              empty_database, tmp_path):
    """Cases of before e14a00000004: consent to share -> compartir_instituciones ("migracion"); a supervisor's
    override -> compartir_instituciones ("supervisor_override"); none -> no row; exportacion_nominal: never."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from tests.conftest import make_app

    officer = login("oficial.tap")
    for number in range(3):
        register_case(officer, dni=f"08011990123{number + 45:02d}", nombres=["Ana", "Berta", "Carla"][number],
                      primer_apellido=["Ruiz", "Soto", "Vega"][number],
                      fecha_nacimiento=f"199{number}-03-0{number + 1}")
    rows = {table.name: [dict(r) for r in db.session.execute(sa.select(table)).mappings()]
            for table in db.metadata.sorted_tables}
    consented, overridden, nothing = sorted(rows["cases"], key=lambda c: c["id"])
    consented.update(consent_to_share=True, consent_given_by="La persona", consent_given_at=consented["opened_at"])
    overridden.update(consent_to_share=False, consent_override_by_id=users["consul.tap"].id,
                      consent_override_at=overridden["opened_at"], consent_override_reason="Riesgo inminente.")
    nothing.update(consent_to_share=False)
    db.session.remove()

    old = make_app(empty_database, tmp_path / "instance")
    with old.app_context():
        try:
            upgrade(revision="e14a00000003")
            before = sa.MetaData()
            before.reflect(bind=db.engine)
            assert "case_consents" not in before.tables
            with db.engine.begin() as connection:
                for table in before.sorted_tables:  # what the migrations wrote themselves (audit rows) stays
                    if table.name not in ("alembic_version", "audit_events") and rows.get(table.name):
                        connection.execute(table.insert(), [{c: row.get(c) for c in table.columns.keys()}
                                                            for row in rows[table.name]])
            upgrade(revision="e14a00000004")
            with db.engine.connect() as connection:
                found = connection.execute(sa.text(
                    "SELECT case_id, purpose, given, recorded_by_id, source FROM case_consents ORDER BY case_id"
                )).all()
            assert [(r.case_id, r.purpose, bool(r.given), r.recorded_by_id, r.source) for r in found] == [
                (consented["id"], CONSENT_SHARING, True, None, "migracion"),
                (overridden["id"], CONSENT_SHARING, True, users["consul.tap"].id, "supervisor_override")]
        finally:
            db.session.remove()
            db.engine.dispose()
