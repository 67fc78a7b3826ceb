"""The case file: referrals, assistance, follow-ups, notes, documents, person edits, search, transfers."""
import io
from pathlib import Path

import pytest

from app.cases.models import Assistance, Attachment, Case, CaseTransfer, FollowUp, Person, Referral
from app.extensions import db
from tests.conftest import flashes
from tests.helpers import (
    ATENCION,
    EVALUACION_REMITIR,
    REMISION,
    RESPUESTA_ACEPTADA,
    SEGUIMIENTO_FIN,
    case_of,
    register_case,
    single_open_task,
    submit,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_workflow_steps_write_referrals_assistance_and_follow_ups(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    for data in (EVALUACION_REMITIR, REMISION):
        submit(officer, single_open_task(instance_id=instance.id), data)
    referral = db.session.scalar(db.select(Referral))
    assert (referral.institution_code, referral.status, str(referral.sent_at)) == ("INM-MX", "enviada", "2026-11-20")
    assert case_of(instance).consent_to_share  # the referral form recorded the consent
    submit(officer, single_open_task(instance_id=instance.id), RESPUESTA_ACEPTADA)
    db.session.expire_all()
    assert referral.status == "aceptada" and str(referral.response_at) == "2026-11-21"
    submit(officer, single_open_task(instance_id=instance.id), ATENCION)
    assistance = db.session.scalar(db.select(Assistance))
    assert (assistance.kind, assistance.amount_minor, assistance.currency, assistance.funding_source) == (
        "documentacion", 25050, "MXN", "FOSMIH")
    submit(officer, single_open_task(instance_id=instance.id), {**SEGUIMIENTO_FIN, "proxima_fecha": "2026-12-10"})
    follow_up = db.session.scalar(db.select(FollowUp))
    assert (follow_up.method, str(follow_up.next_on)) == ("llamada", "2026-12-10")
    page = officer.get(f"/casos/{case_of(instance).id}").get_data(as_text=True)
    for shown in ("INM México", "Aceptada", "250.50 MXN (FOSMIH)", "Llegó bien"):
        assert shown in page


def test_rejected_referral_keeps_its_reason(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    for data in (EVALUACION_REMITIR, REMISION):
        submit(officer, single_open_task(instance_id=instance.id), data)
    submit(officer, single_open_task(instance_id=instance.id),
           {**RESPUESTA_ACEPTADA, "respuesta": "rechazada", "motivo_rechazo": "Sin cupo en albergue"})
    referral = db.session.scalar(db.select(Referral))
    assert referral.status == "rechazada" and referral.rejection_reason == "Sin cupo en albergue"


def test_referral_without_institution_is_refused(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    task = single_open_task(instance_id=instance.id)
    response = submit(officer, task, {**REMISION, "remisiones-0-institucion": ""}, expect=422)
    assert "Este campo es obligatorio." in response.get_data(as_text=True)  # the row's institution
    nothing = submit(officer, task, {"fecha_envio": "2026-11-20", "consentimiento": "y"}, expect=422)
    assert "Añada al menos 1" in nothing.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Referral.id))) == 0


def test_referral_status_moves_on_from_the_case_page(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    for data in (EVALUACION_REMITIR, REMISION, RESPUESTA_ACEPTADA):
        submit(officer, single_open_task(instance_id=instance.id), data)
    case, referral = case_of(instance), db.session.scalar(db.select(Referral))
    url = f"/casos/{case.id}/remisiones/{referral.id}"
    bad = officer.post(url, data={"estado": "atendida", "texto": ""}, follow_redirects=True)
    assert any("Indique el resultado de la atención." in f for f in flashes(bad.get_data(as_text=True)))
    officer.post(url, data={"estado": "atendida", "texto": "Retorno realizado el 25/11"})
    db.session.expire_all()
    assert referral.status == "atendida" and referral.outcome == "Retorno realizado el 25/11"
    again = officer.post(url, data={"estado": "revocada", "texto": "x"}, follow_redirects=True)
    assert any("no puede pasar" in f for f in flashes(again.get_data(as_text=True)))
    assert login("oficial.hou").post(url, data={"estado": "revocada", "texto": "x"}).status_code == 403


def test_notes(login):
    officer = login("oficial.tap")
    case = case_of(register_case(officer))
    officer.post(f"/casos/{case.id}/notas", data={"texto": "Llamó la madre <b>hoy</b>"})
    page = officer.get(f"/casos/{case.id}").get_data(as_text=True)
    assert "Llamó la madre &lt;b&gt;hoy&lt;/b&gt;" in page
    empty = officer.post(f"/casos/{case.id}/notas", data={"texto": "  "}, follow_redirects=True)
    assert any("La nota está vacía." in f for f in flashes(empty.get_data(as_text=True)))
    assert login("analista").post(f"/casos/{case.id}/notas", data={"texto": "x"}).status_code == 403


def _upload(client, case, name, data, **extra):
    return client.post(f"/casos/{case.id}/documentos", data={"archivo": (io.BytesIO(data), name), **extra},
                       content_type="multipart/form-data", follow_redirects=True)


def test_documents_are_stored_by_hash_and_downloaded_only_by_allowed_users(login, app):
    officer = login("oficial.tap")
    case = case_of(register_case(officer))
    response = _upload(officer, case, "acta <defunción>.pdf", PDF, descripcion="Acta")
    assert "Documento guardado." in flashes(response.get_data(as_text=True))
    attachment = db.session.scalar(db.select(Attachment))
    stored = Path(app.instance_path) / "uploads" / attachment.sha256[:2] / attachment.sha256
    assert stored.read_bytes() == PDF and attachment.size == len(PDF)
    url = f"/casos/{case.id}/documentos/{attachment.id}"
    download = officer.get(url)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    with login("analista").get(url) as central:
        assert central.status_code == 200
    assert login("oficial.hou").get(url).status_code == 403
    other = case_of(register_case(officer, dni="0801199012345", nombres="Otra", primer_apellido="Persona"))
    assert officer.get(f"/casos/{other.id}/documentos/{attachment.id}").status_code == 404


@pytest.mark.parametrize("name,data,message", [
    ("grande.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "supera el límite de 10 MB"),
    ("script.exe", b"MZ\x90\x00", "Tipo de archivo no permitido"),
    ("falso.pdf", b"<html><script>alert(1)</script>", "no corresponde a su extensión"),
    ("vacio.pdf", b"", "está vacío"),
])
def test_bad_documents_are_refused(login, name, data, message):
    officer = login("oficial.tap")
    case = case_of(register_case(officer))
    response = _upload(officer, case, name, data)
    assert any(message in f for f in flashes(response.get_data(as_text=True))), flashes(response.get_data(as_text=True))
    assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0


def test_person_edit_and_a_second_person_with_the_same_dni(login):
    officer = login("oficial.tap")
    first = case_of(register_case(officer))
    second = case_of(register_case(officer, dni="", nombres="María", primer_apellido="Castro", segundo_apellido="",
                                 fecha_nacimiento="1970-01-01", sexo="F"))
    form = officer.get(f"/casos/{second.id}/persona")
    assert form.status_code == 200 and "María" in form.get_data(as_text=True)
    base = {"nombres": "María", "primer_apellido": "Castro", "sexo": "F", "nacionalidad": "HN",
            "fecha_nacimiento": "1970-01-01"}
    refused = officer.post(f"/casos/{second.id}/persona", data={**base, "dni": "0501-1988-02231"})
    assert refused.status_code == 422 and "Ya existe otra persona con el DNI 0501-1988-02231." in refused.get_data(
        as_text=True)
    db.session.expire_all()
    assert db.session.get(Person, second.person_id).dni is None
    ok = officer.post(f"/casos/{second.id}/persona", data={**base, "nombres": "María José", "dni": "0801197012345"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, second.person_id).full_name == "María José Castro"
    assert db.session.get(Person, first.person_id).dni == "0501198802231"
    assert login("analista").get(f"/casos/{second.id}/persona").status_code == 403


@pytest.mark.parametrize("query", [
    "jose hernandez", "JOSÉ ÁNGEL", "nunez hernandez", "hern", "0501198802231", "0501-1988-02231", "e1234567",
    "962 123 4567", "+52 962 123 4567",
])
def test_search_finds_the_case_by_any_identifier(login, query):
    officer = login("oficial.tap")
    case = case_of(register_case(officer, pasaporte="E1234567", telefono="+52 962 123 4567"))
    response = officer.get("/casos/buscar", query_string={"q": query})
    assert case.number in response.get_data(as_text=True), query


def test_search_by_case_number_and_scope(login):
    officer = login("oficial.tap")
    case = case_of(register_case(officer))
    short = case.number.rsplit("-", 1)[0] + "-1"
    assert case.number in officer.get("/casos/buscar", query_string={"q": short}).get_data(as_text=True)
    assert case.number in officer.get("/casos/buscar", query_string={"q": case.number.lower()}).get_data(as_text=True)
    assert case.number not in login("oficial.hou").get("/casos/buscar", query_string={"q": "hernandez"}).get_data(
        as_text=True)
    assert case.number in login("analista").get("/casos/buscar", query_string={"q": "hernandez"}).get_data(as_text=True)
    for junk in ("", "%", "_", "a", "' OR 1=1 --", "x" * 500):
        assert officer.get("/casos/buscar", query_string={"q": junk}).status_code == 200


def test_transfer_request_acceptance_moves_the_case_and_its_tasks(login):
    officer, consul_hou = login("oficial.tap"), login("consul.hou")
    instance = register_case(officer)
    case = case_of(instance)
    assert consul_hou.get(f"/casos/{case.id}").status_code == 403
    officer.post(f"/casos/{case.id}/traslado", data={"oficina": _office("HOU"), "motivo": "Se mudó a Houston"})
    transfer = db.session.scalar(db.select(CaseTransfer))
    assert transfer.status == "solicitado"
    assert consul_hou.get(f"/casos/{case.id}").status_code == 200  # to decide, the receiving supervisor can read it
    assert case.number in consul_hou.get("/traslados/").get_data(as_text=True)
    decision = f"/traslados/{transfer.id}/decision"
    assert login("oficial.hou").post(decision, data={"decision": "aceptar"}).status_code == 403
    assert officer.post(f"/traslados/{transfer.id}/decision", data={"decision": "aceptar"}).status_code == 403
    consul_hou.post(f"/traslados/{transfer.id}/decision", data={"decision": "aceptar"})
    case = case_of(instance)
    assert case.office.code == "HOU" and case.number.startswith("TAP-")
    task = single_open_task(instance_id=instance.id)
    assert task.office_id == case.office_id
    assert task.title in login("oficial.hou").get("/tareas/").get_data(as_text=True)
    assert officer.get(f"/tareas/{task.id}").status_code == 403
    page = consul_hou.get(f"/casos/{case.id}").get_data(as_text=True)
    assert "Traslado solicitado" in page and "Traslado aceptado" in page


def test_transfer_refusal_needs_a_reason_and_keeps_the_case(login):
    officer, consul_hou = login("oficial.tap"), login("consul.hou")
    case = case_of(register_case(officer))
    officer.post(f"/casos/{case.id}/traslado", data={"oficina": _office("HOU"), "motivo": "Se mudó a Houston"})
    transfer = db.session.scalar(db.select(CaseTransfer))
    response = consul_hou.post(f"/traslados/{transfer.id}/decision", data={"decision": "rechazar", "nota": ""},
                               follow_redirects=True)
    assert any("Indique el motivo del rechazo." in f for f in flashes(response.get_data(as_text=True)))
    consul_hou.post(f"/traslados/{transfer.id}/decision", data={"decision": "rechazar", "nota": "No es nuestra zona"})
    db.session.expire_all()
    assert transfer.status == "rechazado" and db.session.get(Case, case.id).office.code == "TAP"
    assert consul_hou.get(f"/casos/{case.id}").status_code == 403
    bad = officer.post(f"/casos/{case.id}/traslado", data={"oficina": "", "motivo": "x"}, follow_redirects=True)
    assert any("Elija la oficina de destino." in f for f in flashes(bad.get_data(as_text=True)))


def _office(code):
    from app.reference.models import Office

    return db.session.scalar(db.select(Office.id).where(Office.code == code))
