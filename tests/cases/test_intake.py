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


# ---------------------------------------------------------------------------------------------- issue 17.3
MARIA = {**REGISTRO, "nombres": "María José", "primer_apellido": "López", "segundo_apellido": "Martínez",
         "sexo": "F", "fecha_nacimiento": "1991-05-14", "dni": "", "municipio_origen": "0801"}


def _count(model):
    return db.session.scalar(db.select(db.func.count(model.id)))


def test_second_surname_left_out_asks_for_a_decision_with_the_reason(login):
    officer = login("oficial.tap")
    _register(officer, MARIA)
    task, response = _register(officer, {**MARIA, "segundo_apellido": ""}, expect=409)
    html = response.get_data(as_text=True)
    assert 'data-testid="candidates"' in html and "María José López Martínez" in html
    assert "nombre y fecha de nacimiento parecidos" in html and "falta uno de los apellidos" in html
    assert (_count(Person), _count(Case)) == (1, 1)
    existing = db.session.scalar(db.select(Person))
    submit(officer, task, {**MARIA, "segundo_apellido": "", "siproc_persona": str(existing.id)})
    assert (_count(Person), _count(Case)) == (1, 2)


def test_same_passport_under_another_name_is_never_a_silent_second_person(login):
    officer = login("oficial.tap")
    _register(officer, {**MARIA, "pasaporte": "F1234567"})
    other_name = {**REGISTRO, "nombres": "Karla", "primer_apellido": "Zelaya", "segundo_apellido": "", "sexo": "F",
                  "fecha_nacimiento": "1985-01-01", "dni": "", "pasaporte": "f123-4567"}
    task, response = _register(officer, other_name, expect=409)
    html = response.get_data(as_text=True)
    assert "mismo pasaporte" in html and "María José López Martínez" in html
    assert _count(Person) == 1
    # the officer decides it is another person: saved, and told the passport is shared
    response = submit(officer, task, {**other_name, "siproc_persona": "nueva"})
    assert _count(Person) == 2
    follow = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert any("mismo número de pasaporte" in f for f in flashes(follow))


def test_same_passport_can_be_linked_by_the_officer(login):
    officer = login("oficial.tap")
    _register(officer, {**MARIA, "pasaporte": "F1234567"})
    existing = db.session.scalar(db.select(Person))
    other_name = {**MARIA, "nombres": "Marijose", "primer_apellido": "Lopes", "segundo_apellido": "",
                  "fecha_nacimiento": "", "edad_estimada": "40", "pasaporte": "F1234567"}
    task, _ = _register(officer, other_name, expect=409)
    submit(officer, task, {**other_name, "siproc_persona": str(existing.id)})
    assert _count(Person) == 1 and db.session.scalars(db.select(Case.person_id)).all() == [existing.id] * 2


def test_phone_of_an_existing_family_contact_warns(login):
    officer = login("oficial.tap")
    _register(officer, {**MARIA, "contacto_familiar": "Rosa Martínez", "telefono_contacto": "2233-4455"})
    mother = {**REGISTRO, "nombres": "Rosa", "primer_apellido": "Martínez", "segundo_apellido": "Cruz",
              "sexo": "F", "fecha_nacimiento": "1965-02-02", "dni": "", "telefono": "+504 2233-4455"}
    task, response = _register(officer, mother, expect=409)
    html = response.get_data(as_text=True)
    assert "su teléfono es el del contacto familiar de esta persona" in html
    assert _count(Person) == 1
    submit(officer, task, {**mother, "siproc_persona": "nueva"})
    assert _count(Person) == 2


def test_reasons_of_another_offices_candidate_are_not_shown(login):
    _register(login("oficial.hou"), {**MARIA, "pasaporte": "F1234567", "pais_ubicacion": "US",
                                     "ciudad_ubicacion": "Houston"})
    officer = login("oficial.tap")
    _, response = _register(officer, {**MARIA, "segundo_apellido": "", "pasaporte": "F1234567"}, expect=409)
    html = response.get_data(as_text=True)
    assert 'data-testid="hidden-candidate"' in html
    for leaked in ("mismo pasaporte", "falta uno de los apellidos", "Martínez", 'data-testid="candidate-reasons"'):
        assert leaked not in html, leaked
