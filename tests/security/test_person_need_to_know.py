"""Need-to-know for persons across offices (issue 14.1): duplicate hints, link requests, shared persons."""
import re

import pytest

from app.audit.models import AuditEvent
from app.cases.models import Case, CaseEvent, Person, PersonLinkRequest
from app.core import crypto
from app.extensions import db
from app.notifications.models import Notification
from tests.conftest import flashes
from tests.helpers import REGISTRO, start_case, submit

HOUSTON = {
    **REGISTRO, "nombres": "Delmy Suyapa", "primer_apellido": "Flores", "segundo_apellido": "", "sexo": "F",
    "fecha_nacimiento": "1990-09-09", "dni": "0501-1990-07777", "pasaporte": "F7654321",
    "pais_ubicacion": "US", "ciudad_ubicacion": "Houston", "direccion_extranjero": "1200 Calle Principal, Houston",
    "telefono": "+1 713 555 0101", "contacto_familiar": "Marta Reyes", "parentesco_contacto": "madre",
    "telefono_contacto": "3344-5566", "relato": "Detenida en Houston.",
}
HOUSTON_SECRETS = ("1200 Calle Principal", "555-0101", "555 0101", "Marta Reyes", "3344-5566")
# What the Tapachula officer types: the same birth date, a close spelling that is not Houston's.
TYPED = {**REGISTRO, "nombres": "Delmi Suyapa", "primer_apellido": "Florez", "segundo_apellido": "", "sexo": "F",
         "fecha_nacimiento": "1990-09-09", "dni": "", "relato": "Retenida en Tapachula."}
TOKEN = re.compile(r'name="token" value="([^"]+)"')


def _houston_person(login):
    submit(login("oficial.hou"), start_case(login("oficial.hou")), HOUSTON)
    return db.session.scalar(db.select(Person).where(Person.first_surname == "Flores"))


def _hint(officer):
    task = start_case(officer)
    response = officer.post(f"/tareas/{task.id}", data=TYPED)
    assert response.status_code == 409, response.get_data(as_text=True)[:500]
    return task, response.get_data(as_text=True)


def _request_link(login):
    person = _houston_person(login)
    officer = login("oficial.tap")
    task, html = _hint(officer)
    token = TOKEN.search(html).group(1)
    response = officer.post(f"/casos/vinculos/tarea/{task.id}", data={**TYPED, "token": token})
    assert response.status_code == 303
    db.session.expire_all()
    return person, officer, task


def _register_new(officer, task):
    submit(officer, task, {**TYPED, "siproc_persona": "nueva"})
    db.session.expire_all()
    return db.session.scalar(db.select(Case).where(Case.number.like("TAP-%")))


def _actions(case_id=None):
    query = db.select(AuditEvent.action)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    return db.session.scalars(query).all()


def test_candidate_of_another_office_shows_no_identity(login):
    person = _houston_person(login)
    _task, html = _hint(login("oficial.tap"))
    assert "Posible coincidencia registrada en otra oficina" in html and "Solicitar vínculo" in html
    for leaked in ("Delmy", "Suyapa Flores", "09/09/1990", "1 caso", "similitud", "Houston",
                   f'value="{person.id}"', f"persona-{person.id}"):
        assert leaked not in html, leaked
    token = TOKEN.search(html).group(1)
    assert crypto.is_encrypted(token) and "Delmy" not in crypto.decrypt(token)  # opaque, names nobody


def test_candidate_of_own_office_still_shows_as_before(login):
    _houston_person(login)
    officer = login("oficial.hou")
    task = start_case(officer)
    html = officer.post(f"/tareas/{task.id}", data=TYPED).get_data(as_text=True)
    assert "Delmy Suyapa Flores" in html and "Posible coincidencia registrada en otra oficina" not in html


def test_posting_another_offices_person_directly_is_refused(login):
    person = _houston_person(login)
    officer = login("oficial.tap")
    task, _html = _hint(officer)
    response = submit(officer, task, {**TYPED, "siproc_persona": str(person.id)})
    assert any("no está entre las coincidencias" in f for f in flashes(officer.get(
        response.headers["Location"]).get_data(as_text=True)))
    assert db.session.scalar(db.select(db.func.count(Case.id)).where(Case.person_id == person.id)) == 1
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 1


def test_forged_or_foreign_token_is_refused(login):
    person = _houston_person(login)
    officer = login("oficial.tap")
    task, html = _hint(officer)
    token = TOKEN.search(html).group(1)
    other = start_case(login("oficial2.tap"))
    for client, task_id, value in ((officer, task.id, str(person.id)), (officer, task.id, '{"p": 1}'),
                                   (officer, task.id, token[:-4] + "AAAA"), (officer, other.id, token)):
        client.post(f"/casos/vinculos/tarea/{task_id}", data={"token": value})
    assert db.session.scalar(db.select(db.func.count(PersonLinkRequest.id))) == 0


def test_link_request_approved_by_the_owning_supervisor(login, users):
    person, officer, task = _request_link(login)
    link = db.session.scalar(db.select(PersonLinkRequest))
    assert (link.status, link.person_id, link.requested_by_id) == ("pendiente", person.id, users["oficial.tap"].id)
    assert "person_link_requested" in _actions()
    notices = db.session.scalars(db.select(Notification).where(Notification.kind == "vinculo_solicitado")).all()
    assert [n.user_id for n in notices] == [users["consul.hou"].id]
    assert notices[0].link == "/casos/vinculos" and "Delmy" not in notices[0].title + notices[0].body
    page = officer.get(f"/tareas/{task.id}").get_data(as_text=True)  # the draft keeps what was typed
    assert "Delmi Suyapa" in page

    case = _register_new(officer, task)
    provisional = case.person_id
    assert provisional != person.id and db.session.get(PersonLinkRequest, link.id).case_id == case.id
    own = officer.get("/casos/vinculos").get_data(as_text=True)
    assert "Persona registrada en otra oficina" in own and "Delmy" not in own

    consul = login("consul.hou")
    listing = consul.get("/casos/vinculos").get_data(as_text=True)
    assert "Delmy Suyapa Flores" in listing and "link_requests_viewed" in _actions()
    assert consul.post(f"/casos/vinculos/{link.id}/decision", data={"decision": "aprobar"}).status_code == 302
    db.session.expire_all()
    link = db.session.get(PersonLinkRequest, link.id)
    assert (link.status, link.decided_by_id) == ("aprobada", users["consul.hou"].id) and link.decided_at
    assert db.session.get(Case, case.id).person_id == person.id
    assert db.session.get(Person, provisional) is None  # the provisional duplicate is gone
    assert "person_linked" in db.session.scalars(db.select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert {"person_link_decided", "person_linked"} <= set(_actions(case.id))
    told = db.session.scalar(db.select(Notification).where(Notification.kind == "vinculo_resuelto"))
    assert told.user_id == users["oficial.tap"].id and told.link == f"/casos/{case.id}"


def test_link_request_rejected_keeps_the_case_apart(login, users):
    person, officer, task = _request_link(login)
    case = _register_new(officer, task)
    link = db.session.scalar(db.select(PersonLinkRequest))
    consul = login("consul.hou")
    consul.post(f"/casos/vinculos/{link.id}/decision", data={"decision": "rechazar"})  # a reason is required
    db.session.expire_all()
    assert db.session.get(PersonLinkRequest, link.id).status == "pendiente"
    consul.post(f"/casos/vinculos/{link.id}/decision", data={"decision": "rechazar", "nota": "No es la misma"})
    db.session.expire_all()
    assert db.session.get(PersonLinkRequest, link.id).status == "rechazada"
    assert db.session.get(Case, case.id).person_id != person.id
    told = db.session.scalar(db.select(Notification).where(Notification.kind == "vinculo_resuelto"))
    assert told.user_id == users["oficial.tap"].id and "No es la misma" in told.body


def test_approval_before_registration_links_at_registration(login):
    person, officer, task = _request_link(login)
    link = db.session.scalar(db.select(PersonLinkRequest))
    login("admin").post(f"/casos/vinculos/{link.id}/decision", data={"decision": "aprobar"})
    case = _register_new(officer, task)
    assert case.person_id == person.id
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 1


@pytest.mark.parametrize("username,allowed", [
    ("oficial.tap", False), ("oficial2.tap", False), ("consul.tap", False), ("oficial.hou", False),
    ("consul.hou", True), ("analista", True), ("gestor", True), ("admin", True)])
def test_who_may_decide_a_link_request(login, username, allowed):
    _request_link(login)
    link = db.session.scalar(db.select(PersonLinkRequest))
    client = login(username)
    listing = client.get("/casos/vinculos")
    assert listing.status_code == 200
    assert ("Delmy Suyapa Flores" in listing.get_data(as_text=True)) is allowed
    response = client.post(f"/casos/vinculos/{link.id}/decision", data={"decision": "aprobar"})
    assert response.status_code == (302 if allowed else 403)
    db.session.expire_all()
    assert db.session.get(PersonLinkRequest, link.id).status == ("aprobada" if allowed else "pendiente")


def _linked_by_dni(login):
    person = _houston_person(login)
    officer = login("oficial.tap")
    submit(officer, start_case(officer), {**REGISTRO, "dni": HOUSTON["dni"], "nombres": "Delmy Suyapa",
                                          "primer_apellido": "Flores", "segundo_apellido": "", "sexo": "F",
                                          "fecha_nacimiento": "1990-09-09", "telefono": "+52 962 111 2222"})
    db.session.expire_all()
    tap_case = db.session.scalar(db.select(Case).where(Case.number.like("TAP-%")))
    hou_case = db.session.scalar(db.select(Case).where(Case.number.like("HOU-%")))
    assert tap_case.person_id == person.id == hou_case.person_id
    return person, officer, tap_case, hou_case


def test_dni_link_masks_the_other_offices_contact_data(login):
    _person, officer, tap_case, _hou_case = _linked_by_dni(login)
    for url in (f"/casos/{tap_case.id}/persona", f"/casos/{tap_case.id}"):
        html = officer.get(url).get_data(as_text=True)
        assert "Delmy" in html and "0501-1990-07777" in html and "registrado por otra oficina" in html
        for secret in HOUSTON_SECRETS:
            assert secret not in html, (url, secret)
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(
        AuditEvent.action == "person_viewed", AuditEvent.case_id == tap_case.id)) == 1


def test_houston_still_sees_its_own_contact_data(login):
    _person, _officer, _tap_case, hou_case = _linked_by_dni(login)
    html = login("oficial.hou").get(f"/casos/{hou_case.id}/persona").get_data(as_text=True)
    assert "Marta Reyes" in html and "registrado por otra oficina" not in html


def test_identity_edit_of_a_shared_person_is_recorded_everywhere_and_notified(login, users):
    person, officer, tap_case, hou_case = _linked_by_dni(login)
    edit = {"nombres": "Delmy Suyapa", "primer_apellido": "Flores", "segundo_apellido": "Zelaya", "sexo": "F",
            "fecha_nacimiento": "1990-09-09", "nacionalidad": "HN", "dni": HOUSTON["dni"],
            "telefono": "+52 962 000 0000", "contacto_familiar": "Intruso"}  # masked fields: ignored
    response = officer.post(f"/casos/{tap_case.id}/persona", data=edit)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert person.second_surname == "Zelaya"
    assert person.family_contact_name == "Marta Reyes" and [p.number for p in person.phones] == ["+1 713-555-0101"]
    hou_events = db.session.scalars(db.select(CaseEvent).where(CaseEvent.case_id == hou_case.id,
                                                               CaseEvent.kind == "person_edited")).all()
    assert len(hou_events) == 1 and "Segundo apellido" in hou_events[0].title
    assert "Zelaya" not in hou_events[0].title + str(hou_events[0].details)
    assert "person_edited" in _actions(hou_case.id) and "person_edited" in _actions(tap_case.id)
    notice = db.session.scalar(db.select(Notification).where(Notification.kind == "persona_editada"))
    assert notice.user_id == users["consul.hou"].id and notice.case_id == hou_case.id
    history = login("consul.hou").get(f"/casos/{hou_case.id}").get_data(as_text=True)
    assert "Segundo apellido" in history


@pytest.mark.parametrize("username", ["oficial.hou", "consul.hou", "analista", "gestor", "admin", "oficial2.tap"])
def test_person_page_of_another_office_or_role(login, username):
    _person, _officer, tap_case, _hou_case = _linked_by_dni(login)
    response = login(username).get(f"/casos/{tap_case.id}/persona")
    assert response.status_code == (200 if username == "oficial2.tap" else 403)
