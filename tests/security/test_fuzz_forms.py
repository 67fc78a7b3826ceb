"""Hypothesis-generated input on every case and task form endpoint: a Spanish answer, never a 500."""
import io

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.cases.models import Attachment, Case, CaseTransfer, Referral
from app.extensions import db
from app.reference.models import Department
from app.workflow.models import WorkflowInstance
from tests.helpers import (
    EVALUACION_REMITIR,
    REGISTRO,
    REMISION,
    RESPUESTA_ACEPTADA,
    register_case,
    single_open_task,
    start_case,
    submit,
)

WEIRD = st.sampled_from(["", " ", "0", "-1", "1e309", "NaN", "99999999999999999999", "2026-02-30", "9999-12-31",
                         "<script>alert(1)</script>", "' OR 1=1 --", "\x00", "%s%s%n", "../../etc/passwd",
                         "１２３４", "🙂" * 50, "a" * 6000, "0801-1990-12345", "MX-CHP", "si", "no", "y"])
ANY = st.one_of(st.text(max_size=200), WEIRD)
FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _attachments(case) -> int:
    return db.session.scalar(db.select(db.func.count(Attachment.id)).where(Attachment.case_id == case.id))


def _case_with_referral(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_REMITIR)
    submit(officer, single_open_task(instance_id=instance.id), REMISION)
    return officer, db.session.get(Case, db.session.get(WorkflowInstance, instance.id).case_id)


@pytest.fixture
def officer_and_case(login):
    return _case_with_referral(login)


@FUZZ
@given(values=st.dictionaries(st.sampled_from(sorted(REGISTRO) + ["siproc_persona", "dni", "pasaporte",
                                                                 "estado_evento", "edad_estimada"]), ANY))
@example(values={})  # positive control: the valid registration itself goes through
def test_registration_form(login, values):
    officer = login("oficial.tap")
    task = start_case(officer)
    response = officer.post(f"/tareas/{task.id}", data={**REGISTRO, **values})
    assert response.status_code in (400, 302, 409, 422)
    if not values:
        assert response.status_code == 302 and single_open_task(instance_id=task.instance_id).id != task.id


@FUZZ
@given(values=st.dictionaries(st.sampled_from(["institucion", "servicio_solicitado", "fecha_envio", "consentimiento",
                                               "consentimiento_otorgado_por", "respuesta", "motivo_rechazo",
                                               "remitir_otra", "fecha_respuesta"]), ANY))
@example(values=RESPUESTA_ACEPTADA)  # positive control: a valid answer to the referral is accepted
def test_referral_and_response_forms(officer_and_case, values):
    officer, case = officer_and_case
    task = single_open_task(case_id=case.id)
    status = officer.post(f"/tareas/{task.id}", data=values).status_code
    assert status in (400, 302, 422)
    if values == RESPUESTA_ACEPTADA:
        assert status == 302 and single_open_task(case_id=case.id).id != task.id


def _expected(status, *values):
    """What the endpoint answers: `status`, or 400 when a value holds a NUL character (refused before the view)."""
    return 400 if any("\x00" in str(v) for v in values) else status


@FUZZ
@given(text=ANY, state=ANY, office=ANY, reason=ANY, decision=ANY)
def test_case_page_forms(officer_and_case, login, text, state, office, reason, decision):
    officer, case = officer_and_case
    referral_id = db.session.scalar(db.select(Referral.id).where(Referral.case_id == case.id))
    assert officer.post(f"/casos/{case.id}/notas", data={"texto": text}).status_code == _expected(302, text)
    assert officer.post(f"/casos/{case.id}/remisiones/{referral_id}",
                        data={"estado": state, "texto": text}).status_code == _expected(302, state, text)
    assert officer.post(f"/casos/{case.id}/traslado",
                        data={"oficina": office, "motivo": reason}).status_code == _expected(302, office, reason)
    assert login("consul.tap").post(f"/casos/{case.id}/consentimiento",
                                    data={"motivo": reason}).status_code == _expected(302, reason)
    transfer = db.session.scalar(db.select(CaseTransfer.id).where(CaseTransfer.status == "solicitado"))
    if transfer:
        assert login("consul.hou").post(f"/traslados/{transfer}/decision",
                                        data={"decision": decision, "nota": text}).status_code in (400, 302, 403)


@FUZZ
@given(name=st.text(max_size=120), data=st.binary(max_size=2048), description=ANY)
@example(name="informe.pdf", data=PDF, description="Informe médico")  # positive control: a valid PDF is kept
def test_upload(officer_and_case, name, data, description):
    officer, case = officer_and_case
    before = _attachments(case)
    response = officer.post(f"/casos/{case.id}/documentos", data={"archivo": (io.BytesIO(data), name or "x"),
                                                                   "descripcion": description},
                            content_type="multipart/form-data")
    assert response.status_code in (302, 400)
    if data == PDF and name == "informe.pdf":
        assert _attachments(case) == before + 1


@FUZZ
@given(values=st.dictionaries(st.sampled_from(["nombres", "primer_apellido", "sexo", "dni", "pasaporte",
                                               "fecha_nacimiento", "municipio_origen", "departamento_origen",
                                               "telefono", "vulnerabilidades", "nacionalidad", "edad_estimada"]), ANY))
@example(values={"nombres": "Josefina"})  # positive control: a valid edit is saved
def test_person_form(officer_and_case, values):
    officer, case = officer_and_case
    base = {"nombres": "José", "primer_apellido": "Hernández", "sexo": "M"}
    status = officer.post(f"/casos/{case.id}/persona", data={**base, **values}).status_code
    assert status in (400, 302, 422)
    if values == {"nombres": "Josefina"}:
        db.session.expire_all()
        assert status == 302 and db.session.get(Case, case.id).person.given_names == "Josefina"


@FUZZ
@given(query=ANY, page=ANY)
def test_search_and_lists(login, query, page):
    client = login("oficial.tap")
    assert client.get("/casos/buscar", query_string={"q": query}).status_code == _expected(200, query)
    assert client.get("/tareas/", query_string={"pagina": page}).status_code == _expected(200, page)
    assert client.get("/casos/", query_string={"pagina": page}).status_code == _expected(200, page)


NEW_DEPARTMENT = {"code": "19", "name": "Departamento de prueba"}
CATALOGUE_FIELDS = ["code", "name", "name_en", "short_name", "kind", "country", "state_or_department", "city",
                    "timezone", "confidence", "categories", "typical_subtypes", "typical_referrals"]


@FUZZ
@given(slug=st.sampled_from(["oficinas", "departamentos", "municipios", "instituciones", "categorias",
                             "areas-legales", "vulnerabilidades", "no-existe"]),
       values=st.dictionaries(st.sampled_from(CATALOGUE_FIELDS), ANY), key=ANY)
@example(slug="departamentos", values=NEW_DEPARTMENT, key="19")  # positive control: a valid new row is saved
def test_catalogue_forms(login, slug, values, key):
    admin = login("admin")
    created = admin.post(f"/admin/catalogos/{slug}/nuevo", data=values).status_code
    assert created in (400, 302, 404, 422)
    if values == NEW_DEPARTMENT:
        assert created == 302 and db.session.get(Department, "19").name == "Departamento de prueba"
    edited = admin.post(f"/admin/catalogos/{slug}/{key or 'X'}/editar", data=values)
    assert edited.status_code in (400, 302, 404, 405, 422)
    if "\x00" in (key or ""):
        assert edited.status_code == 400
