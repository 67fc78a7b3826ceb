"""The person page /personas/<id>: identity, contacts, documents and every case, scoped by office and role."""
import io

from app.audit.models import AuditEvent
from app.cases.models import Person
from app.extensions import db
from tests.helpers import case_of, register_case

CONTACT = {"contacto_familiar": "Rosa Núñez", "parentesco_contacto": "madre", "telefono_contacto": "3344-5566",
           "pasaporte": "E1234567", "direccion_extranjero": "Albergue Belén, Tapachula"}


def _shared_person(login):
    """One person registered in Tapachula (with family contact and a document), later seen again in Houston
    (linked by DNI): a case in each office."""
    tap = login("oficial.tap")
    tap_case = case_of(register_case(tap, **CONTACT))
    tap.post(f"/casos/{tap_case.id}/documentos", content_type="multipart/form-data",
             data={"archivo": (io.BytesIO(b"%PDF-1.4 acta"), "acta-nacimiento.pdf"), "descripcion": "Partida"})
    hou_case = case_of(register_case(login("oficial.hou"), categoria="DET", pais_ubicacion="US",
                                     ciudad_ubicacion="Houston", relato="Detenido en Houston."))
    db.session.expire_all()
    assert tap_case.person_id == hou_case.person_id
    return db.session.get(Person, tap_case.person_id), tap_case, hou_case


def test_the_registering_office_sees_everything_and_only_a_count_of_the_other_office(login):
    person, tap_case, hou_case = _shared_person(login)
    page = login("oficial.tap").get(f"/personas/{person.id}").get_data(as_text=True)
    for shown in ("José Ángel Hernández Núñez", "0501-1988-02231", "E1234567", "Rosa Núñez", "3344-5566",
                  "Albergue Belén", tap_case.number, "Retorno y deportación", "acta-nacimiento.pdf",
                  f"/casos/{tap_case.id}\""):
        assert shown in page, shown
    assert "1 caso en otra oficina: Consulado General en Houston" in page
    for hidden in (hou_case.number, "Privación de libertad", f"/casos/{hou_case.id}\""):
        assert hidden not in page, hidden


def test_the_other_office_sees_identity_and_its_case_but_not_the_registering_office_contacts(login):
    person, tap_case, hou_case = _shared_person(login)
    page = login("oficial.hou").get(f"/personas/{person.id}").get_data(as_text=True)
    for shown in ("José Ángel Hernández Núñez", "0501-1988-02231", hou_case.number, "Privación de libertad",
                  "1 caso en otra oficina: Consulado General en Tapachula"):
        assert shown in page, shown
    for hidden in ("Rosa Núñez", "3344-5566", "Albergue Belén", tap_case.number, "acta-nacimiento.pdf",
                   "Retorno y deportación"):
        assert hidden not in page, hidden
    assert 'data-testid="masked-contact"' in page


def test_central_administrator_sees_every_case_analyst_and_process_owner_do_not_see_persons(login):
    person, tap_case, hou_case = _shared_person(login)
    page = login("admin").get(f"/personas/{person.id}").get_data(as_text=True)
    assert tap_case.number in page and hou_case.number in page and "Rosa Núñez" in page
    assert "otra oficina:" not in page
    for username in ("analista", "gestor"):
        response = login(username).get(f"/personas/{person.id}")
        assert response.status_code == 403 and "Hernández" not in response.get_data(as_text=True)


def test_a_person_known_only_to_another_office_is_refused_without_data(login):
    case = case_of(register_case(login("oficial.tap")))
    for username in ("oficial.hou", "consul.hou"):
        response = login(username).get(f"/personas/{case.person_id}")
        assert response.status_code == 403
        assert "Hernández" not in response.get_data(as_text=True)
    assert login("oficial.tap").get("/personas/987654").status_code == 404


def test_viewing_the_person_page_is_audited_on_each_case_shown(login):
    person, tap_case, hou_case = _shared_person(login)
    login("consul.hou").get(f"/personas/{person.id}")
    rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "person_viewed",
                                                          AuditEvent.actor_name == "consul.hou")).all()
    assert [(r.case_id, r.object_type, r.object_id) for r in rows] == [(hou_case.id, "person", str(person.id))]
    assert rows[0].details["ocultos"]  # the registering office's fields were withheld, and that is on record
    # and it appears in the access log of the Houston case, as opening the case would
    log = login("consul.hou").get(f"/casos/{hou_case.id}/accesos").get_data(as_text=True)
    assert "Consulta de datos de persona" in log


def test_the_case_page_links_the_person_and_counts_the_other_cases(login):
    person, tap_case, hou_case = _shared_person(login)
    page = login("oficial.tap").get(f"/casos/{tap_case.id}").get_data(as_text=True)
    assert f'href="/personas/{person.id}"' in page and "Otros casos de esta persona: 1" in page
    # an analyst may read the case but has no person page: no link
    page = login("analista").get(f"/casos/{tap_case.id}").get_data(as_text=True)
    assert f"/personas/{person.id}" not in page


def test_search_results_link_to_the_person_page(login):
    case = case_of(register_case(login("oficial.tap")))
    page = login("consul.tap").get("/casos/buscar?q=0501-1988-02231").get_data(as_text=True)
    assert f'href="/personas/{case.person_id}"' in page and case.number in page
    assert f"/personas/{case.person_id}" not in login("analista").get("/casos/buscar?q=hernandez").get_data(
        as_text=True)

