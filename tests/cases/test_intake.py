"""Intake: the person is created or linked (DNI, or the officer's choice among similar persons)."""
from app.cases.models import Case, CaseEvent, Person
from app.extensions import db
from tests.conftest import flashes
from tests.helpers import REGISTRO, single_open_task, start_case, submit

FULL = {
    **REGISTRO,
    "categorias_secundarias": ["DOC"], "area_legal": "MIGRATORIO", "pasaporte": "e1234567",
    "telefono": "+52 962 123 4567", "telefono_alterno": "9988-7766", "contacto_familiar": "Rosa Núñez",
    "parentesco_contacto": "madre", "telefono_contacto": "3344-5566", "direccion_extranjero": "Albergue, Tapachula",
    "pais_evento": "MX", "estado_evento": "MX-CHP", "ciudad_evento": "Tapachula",
    "consentimiento_compartir": "y", "consentimiento_otorgado_por": "La persona",
}


def _register(client, data, expect=302, **extra):
    task = start_case(client)
    response = client.post(f"/tareas/{task.id}", data={**data, **extra})
    assert response.status_code == expect, response.get_data(as_text=True)[:300]
    return task, response


def test_intake_records_the_whole_person_and_case(login):
    officer = login("oficial.tap")
    _register(officer, FULL)
    person = db.session.scalar(db.select(Person))
    case = db.session.scalar(db.select(Case))
    assert (person.dni, person.passport_number, person.origin_department_code) == ("0501198802231", "E1234567", "05")
    assert [p.digits for p in person.phones] == ["529621234567", "50499887766"]
    assert person.family_contact_phone == "+504 3344-5566" and person.family_contact_name == "Rosa Núñez"
    assert [m.code for m in person.vulnerability_markers] == ["SIN_DOCUMENTOS"]
    assert person.search_text == "jose angel hernandez nunez"
    assert [c.code for c in case.secondary_categories] == ["DOC"] and case.legal_area_code == "MIGRATORIO"
    assert (case.event_country, case.event_state, case.event_city) == ("MX", "MX-CHP", "Tapachula")
    assert case.consent_to_share and case.consent_given_by == "La persona" and case.consent_given_at
    page = officer.get(f"/casos/{case.id}").get_data(as_text=True)
    for shown in ("0501-1988-02231", "E1234567", "+52 962 123 4567", "Rosa Núñez", "Migratorio", "MX-CHP"):
        assert shown in page


def test_existing_dni_links_the_person_and_says_so(login):
    officer = login("oficial.tap")
    _register(officer, FULL)
    _, response = _register(officer, {**REGISTRO, "dni": "0501198802231", "nombres": "José"})
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 1
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 2
    follow = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert any("ya estaba registrada" in f for f in flashes(follow))
    kinds = db.session.scalars(db.select(CaseEvent.kind)).all()
    assert "person_linked" in kinds


def test_similar_name_and_close_birth_date_shows_candidates_before_creating(login):
    officer = login("oficial.tap")
    _register(officer, FULL)
    similar = {**REGISTRO, "dni": "", "nombres": "Jose Angel", "segundo_apellido": "Nunes",
               "fecha_nacimiento": "1988-08-02"}
    task, response = _register(officer, similar, expect=409)
    html = response.get_data(as_text=True)
    assert 'data-testid="candidates"' in html and "José Ángel Hernández Núñez" in html
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 1
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 1
    assert single_open_task(instance_id=task.instance_id).id == task.id

    existing = db.session.scalar(db.select(Person))
    submit(officer, task, {**similar, "siproc_persona": str(existing.id)})
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 1
    assert db.session.scalars(db.select(Case.person_id)).all() == [existing.id, existing.id]


def test_officer_can_confirm_a_new_person(login):
    officer = login("oficial.tap")
    _register(officer, FULL)
    similar = {**REGISTRO, "dni": "", "fecha_nacimiento": "1988-07-30"}
    task, _ = _register(officer, similar, expect=409)
    submit(officer, task, {**similar, "siproc_persona": "nueva"})
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 2


def test_different_birth_year_is_not_a_candidate(login):
    officer = login("oficial.tap")
    _register(officer, FULL)
    _register(officer, {**REGISTRO, "dni": "", "fecha_nacimiento": "1960-01-01"})
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 2


def test_intake_bad_input_is_refused_with_nothing_saved(login):
    officer = login("oficial.tap")
    cases = [
        ({"dni": "0801-199-12345"}, "El DNI debe tener 13 dígitos"),
        ({"dni": "2201199012345"}, "departamento inexistente"),
        ({"fecha_nacimiento": "2999-01-01"}, "La fecha no puede ser futura."),
        ({"fecha_nacimiento": "", "edad_estimada": "121"}, "Debe estar entre 0 y 120."),
        ({"municipio_origen": "9999"}, "Opción inválida."),
        ({"estado_evento": "US-TX", "pais_evento": "MX"}, "no pertenece al país del evento"),
        ({"pasaporte": "12"}, "de 6 a 12 letras"),
        ({"telefono": "12"}, "El teléfono no es válido."),
    ]
    for change, message in cases:
        task, response = _register(officer, {**REGISTRO, **change}, expect=422)
        assert message in response.get_data(as_text=True), (change, message)
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 0


def test_unknown_municipality_in_dni_warns_but_saves(login):
    officer = login("oficial.tap")
    _, response = _register(officer, {**REGISTRO, "dni": "0899-1990-12345"})
    follow = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert any("0899" in f and "catálogo" in f for f in flashes(follow))
    assert db.session.scalar(db.select(Person.dni)) == "0899199012345"
