"""Merging two records of one person through the web: who may, what moves, what statistics see, bad input, races,
and the administrator's undo. Persons in Tapachula (TAP) and Houston (HOU)."""
import json
import re
from datetime import date

import pytest

from app.audit.models import AuditEvent
from app.auth.services import create_user
from app.cases import merge
from app.cases.models import Case, CaseEvent, Person, PersonMerge, PersonPhone
from app.cases.persons import refresh_search_keys
from app.core import clock, crypto
from app.core.errors import Conflict
from app.extensions import db
from app.reference.models import Office, VulnerabilityMarker
from app.stats.models import CaseFact
from tests.conftest import PASSWORD, flashes
from tests.helpers import snapshot, utc

FIELD_KEYS = [key for key, _label, _attrs in merge.FIELDS]
REASON = "Misma persona registrada dos veces en la entrevista"
_numbers = iter(range(1, 10_000))


def _office(code):
    return db.session.scalar(db.select(Office).where(Office.code == code))


def _person(office_code, names="María José", first="López", second=None, sex="F", dni=None, passport=None,
            birth=date(1990, 5, 1), phones=(), markers=(), contact=None, category="RET", also_in=()):
    """A person with one case in `office_code` (and one more in each office of `also_in`), written directly."""
    person = Person(given_names=names, first_surname=first, second_surname=second, sex=sex, birth_date=birth,
                    dni=dni, passport_number=passport, family_contact_name=contact, nationality="HN")
    refresh_search_keys(person)
    person.phones = [PersonPhone(number=f"+{p}", digits=p) for p in phones]
    person.vulnerability_markers = [db.session.get(VulnerabilityMarker, m) for m in markers]
    db.session.add(person)
    db.session.flush()
    for code in (office_code, *also_in):
        n = next(_numbers)
        db.session.add(Case(number=f"{code}-2026-{90000 + n}", office_id=_office(code).id, person_id=person.id,
                            category_code=category, summary="Hechos de prueba.", status="en_atencion",
                            opened_at=utc(2026, 11, 1 + n % 27, 15), age_at_opening=36))
    db.session.commit()
    return person.id


def _cases(person_id):
    db.session.expire_all()
    return db.session.scalars(db.select(Case.id).where(Case.person_id == person_id).order_by(Case.id)).all()


def _form(client, a, b, **changes):
    """What the comparison page proposes, with `changes` applied (a tampered or edited form)."""
    page = client.get(f"/personas/{a}/fusionar/{b}")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    version = re.search(r'name="version" value="([0-9a-f]+)"', page.get_data(as_text=True)).group(1)
    data = {"conserva": "a", "motivo": REASON, "version": version, **{f"campo_{k}": "a" for k in FIELD_KEYS}}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _merge(client, a, b, **changes):
    return client.post(f"/personas/{a}/fusionar/{b}", data=_form(client, a, b, **changes), follow_redirects=True)


def _state():
    """Every row a merge or an undo may touch."""
    return (snapshot(Person), snapshot(Case), snapshot(PersonPhone), snapshot(PersonMerge), snapshot(CaseFact),
            sorted(db.session.execute(db.select(db.metadata.tables["person_vulnerabilities"])).all()))


def _distinct_persons():
    """A statistic of distinct persons: the persons the case statistics count."""
    return db.session.scalar(db.select(db.func.count(db.distinct(Case.person_id)))
                             .select_from(CaseFact).join(Case, Case.id == CaseFact.case_id))


@pytest.fixture
def central(app):
    """A supervisor of the directorate (DGPHM): the central user who merges across offices."""
    create_user("consul.dgphm", "Supervisora Dgphm", PASSWORD, "supervisor", _office("DGPHM"))
    db.session.commit()
    return "consul.dgphm"


@pytest.fixture
def pair(app):
    """Two TAP records of one woman: A without DNI (sex not specified), B with DNI, passport and both surnames."""
    a = _person("TAP", sex="X", phones=["50499887766"], markers=["SIN_DOCUMENTOS"], contact="Rosa López")
    b = _person("TAP", second="Martínez", dni="0801199012345", passport="E7654321", phones=["529621234567"],
                markers=["EMBARAZO"])
    return a, b


def test_a_supervisor_merges_two_records_choosing_each_field(login, pair):
    a, b = pair
    cases_a, cases_b = _cases(a), _cases(b)
    persons_before = _distinct_persons()
    supervisor = login("consul.tap")
    page = supervisor.get(f"/personas/{a}/fusionar/{b}").get_data(as_text=True)
    assert all(shown in page for shown in ("0801-1990-12345", "E7654321", "Martínez", "Rosa López"))
    response = _merge(supervisor, a, b, campo_dni="b", campo_pasaporte="b", campo_segundo_apellido="b",
                      campo_sexo="b")
    assert response.status_code == 200
    assert f"la persona n.º {b} ahora forma parte de la n.º {a}" in " ".join(flashes(response.get_data(as_text=True)))
    db.session.expire_all()
    survivor, merged = db.session.get(Person, a), db.session.get(Person, b)
    assert (survivor.full_name, survivor.sex, survivor.dni, survivor.passport_number) == (
        "María José López Martínez", "F", "0801199012345", "E7654321")
    assert survivor.family_contact_name == "Rosa López"  # A's value, chosen by default
    assert survivor.dni_hash == crypto.search_hash("0801199012345") and survivor.search_text.endswith("martinez")
    assert (merged.merged_into_id, merged.dni, merged.dni_hash, merged.passport_hash) == (a, None, None, None)
    assert _cases(a) == sorted(cases_a + cases_b) and _cases(b) == []
    assert sorted(p.digits for p in survivor.phones) == ["50499887766", "529621234567"] and merged.phones == []
    assert sorted(m.code for m in survivor.vulnerability_markers) == ["EMBARAZO", "SIN_DOCUMENTOS"]
    # statistics follow: one person fewer, and the moved case counts with the survivor's chosen sex
    assert _distinct_persons() == persons_before - 1
    assert {f.sex for f in db.session.scalars(db.select(CaseFact).where(CaseFact.case_id.in_(cases_a + cases_b)))} \
        == {"F"}
    # the record keeps both versions (encrypted) and what moved
    record = db.session.scalar(db.select(PersonMerge))
    raw = db.session.execute(db.text("SELECT snapshot, reason FROM person_merges")).one()
    assert crypto.is_encrypted(raw.snapshot) and crypto.is_encrypted(raw.reason)
    kept = json.loads(record.snapshot)
    assert kept["survivor"]["sex"] == "X" and kept["merged"]["dni"] == "0801199012345"
    assert kept["choices"]["dni"] == "b" and record.moved["casos"] == cases_b and record.reason == REASON
    audit = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "persons_merged"))
    assert audit.actor_name == "consul.tap" and audit.details["casos"] == cases_b
    assert db.session.scalar(db.select(db.func.count(CaseEvent.id)).where(CaseEvent.kind == "person_merged")) == 2
    # the merged-away number leads to the survivor; the survivor's page lists both cases and the merge
    moved = supervisor.get(f"/personas/{b}")
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"/personas/{a}")
    page = supervisor.get(f"/personas/{a}").get_data(as_text=True)
    assert all(db.session.get(Case, c).number in page for c in cases_a + cases_b)
    assert f"Persona n.º {b} fusionada" in page and "Deshacer fusión" not in page  # undo is the administrator's
    # the survivor is found by the real DNI
    assert db.session.get(Case, cases_a[0]).number in supervisor.get("/casos/buscar?q=0801199012345").get_data(
        as_text=True)


def test_the_survivor_can_be_the_other_record(login, pair):
    a, b = pair
    _merge(login("consul.tap"), a, b, conserva="b", campo_dni="b")
    db.session.expire_all()
    assert db.session.get(Person, a).merged_into_id == b and db.session.get(Person, b).dni == "0801199012345"
    assert db.session.get(Person, b).sex == "X"  # the other fields from A as chosen, the number of B kept
    assert db.session.get(Person, b).second_surname is None


def test_the_merged_away_page_redirects_only_for_whoever_may_see_the_survivor(login, pair):
    a, b = pair
    _merge(login("consul.tap"), a, b)
    for username in ("oficial.hou", "consul.hou", "analista"):
        response = login(username).get(f"/personas/{b}")
        assert response.status_code == 403 and "María" not in response.get_data(as_text=True)
    assert login("oficial.tap").get(f"/personas/{b}").status_code == 302


@pytest.mark.parametrize("case", ["itself", "into_merged", "merged_into_other", "tampered_value", "tampered_side",
                                  "missing_field", "no_reason", "stale_page", "no_survivor"])
def test_bad_merges_are_refused_in_spanish_and_change_nothing(login, pair, case):
    a, b = pair
    supervisor = login("consul.tap")
    c = _person("TAP", names="Ana", first="Pérez")
    if case in ("into_merged", "merged_into_other"):
        _merge(supervisor, a, b)
    before = _state()
    if case == "itself":
        response = supervisor.post(f"/personas/{a}/fusionar/{a}", data={"conserva": "a", "motivo": REASON},
                                   follow_redirects=True)
        expected = "No se puede fusionar una persona consigo misma."
        assert "consigo misma" in " ".join(flashes(supervisor.get(f"/personas/{a}/fusionar/{a}",
                                                                  follow_redirects=True).get_data(as_text=True)))
    elif case in ("into_merged", "merged_into_other"):
        first, second = (c, b) if case == "into_merged" else (b, c)
        form = {"conserva": "a", "motivo": REASON, "version": "x", **{f"campo_{k}": "a" for k in FIELD_KEYS}}
        response = supervisor.post(f"/personas/{first}/fusionar/{second}", data=form, follow_redirects=True)
        expected = f"La persona n.º {b} ya fue fusionada en la persona n.º {a}"
    elif case == "tampered_value":
        response = _merge(supervisor, a, c, campo_nombres="Juana")
        expected = "El valor elegido para «Nombres» no pertenece a ninguna de las dos personas."
    elif case == "tampered_side":
        response = _merge(supervisor, a, c, campo_dni="c")
        expected = "El valor elegido para «DNI» no pertenece a ninguna de las dos personas."
    elif case == "missing_field":
        response = _merge(supervisor, a, c, campo_contacto_familiar=None)
        expected = "El valor elegido para «Familiar en Honduras» no pertenece a ninguna de las dos personas."
    elif case == "no_reason":
        response = _merge(supervisor, a, c, motivo="  corto ")
        expected = "Explique el motivo (entre 10 y 500 caracteres)."
    elif case == "stale_page":
        response = _merge(supervisor, a, c, version="0" * 32)
        expected = "Una de las dos personas cambió mientras las comparaba"
    else:
        response = _merge(supervisor, a, c, conserva="z")
        expected = "Elija qué número de persona se conserva."
    assert response.status_code == 200
    shown = " ".join(flashes(response.get_data(as_text=True)))
    assert expected in shown and "No se guardó nada." in shown, shown
    assert _state() == before


def test_an_officer_may_not_merge(login, pair):
    a, b = pair
    officer = login("oficial.tap")
    form = _form(login("consul.tap"), a, b)
    before = _state()
    assert officer.get(f"/personas/{a}/fusionar/{b}").status_code == 403
    assert officer.post(f"/personas/{a}/fusionar/{b}", data=form).status_code == 403
    assert 'data-testid="merge-link"' not in officer.get(f"/personas/{a}").get_data(as_text=True)
    assert _state() == before


def test_a_person_known_only_to_another_office_is_not_found_and_not_disclosed(login, pair):
    a, _b = pair
    houston = _person("HOU", names="Carmen", first="Zelaya", dni="0501197500001")
    supervisor = login("consul.tap")
    before = _state()
    for response in (supervisor.get(f"/personas/{a}/fusionar/{houston}"),
                     supervisor.post(f"/personas/{a}/fusionar/{houston}", data={"conserva": "a", "motivo": REASON})):
        assert response.status_code == 404 and "Zelaya" not in response.get_data(as_text=True)
    response = supervisor.post(f"/personas/{houston}/fusionar/{a}", data={"conserva": "a", "motivo": REASON})
    assert response.status_code == 403 and "Zelaya" not in response.get_data(as_text=True)
    # nor is she among the persons the supervisor may search for
    for query in ("Zelaya", "0501-1975-00001", str(houston)):
        page = supervisor.get(f"/personas/{a}/fusionar?q={query}").get_data(as_text=True)
        assert "Carmen" not in page and "Ninguna persona que usted pueda ver" in page
    assert _state() == before


def test_the_merge_search_finds_visible_persons_by_number_dni_and_name(login, pair):
    a, b = pair
    supervisor = login("consul.tap")
    for query in (str(b), "0801-1990-12345", "lopez martinez", "E7654321"):
        page = supervisor.get(f"/personas/{a}/fusionar?q={query}").get_data(as_text=True)
        assert f"/personas/{a}/fusionar/{b}" in page, query
    assert f"/fusionar/{a}\"" not in supervisor.get(f"/personas/{a}/fusionar?q=lopez").get_data(as_text=True)


def test_a_cross_office_merge_is_for_the_directorate(login, central):
    """Decision: a supervisor merges only persons whose every case is in the supervisor's office; a person with
    cases in Houston too is merged by a DGPHM supervisor, and Houston still sees no Tapachula contact data."""
    shared = _person("TAP", contact="Rosa López", also_in=("HOU",))
    duplicate = _person("TAP", second="Martínez", dni="0801199012345")
    tap_supervisor = login("consul.tap")
    before = _state()
    response = tap_supervisor.post(f"/personas/{shared}/fusionar/{duplicate}",
                                   data=_form(central_client := login(central), shared, duplicate))
    assert response.status_code == 403
    assert "la fusión entre oficinas la hace la Dirección" in response.get_data(as_text=True)
    assert tap_supervisor.get(f"/personas/{duplicate}/fusionar/{shared}").status_code == 403
    assert _state() == before
    response = _merge(central_client, shared, duplicate, campo_dni="b", campo_segundo_apellido="b")
    assert "ahora forma parte" in " ".join(flashes(response.get_data(as_text=True)))
    db.session.expire_all()
    assert len(_cases(shared)) == 3 and db.session.get(Person, shared).dni == "0801199012345"
    page = login("consul.hou").get(f"/personas/{shared}").get_data(as_text=True)
    assert "2 casos en otra oficina: Consulado General en Tapachula" in page and "0801-1990-12345" in page
    assert "Rosa López" not in page and 'data-testid="masked-contact"' in page
    assert login("consul.hou").get(f"/personas/{duplicate}").status_code == 302  # the survivor has a HOU case
    # both offices' supervisors are told (the person of their cases changed), not the one who merged
    from app.notifications.models import Notification

    told = {n.user.username: n.title for n in db.session.scalars(db.select(Notification))}
    assert set(told) == {"consul.tap", "consul.hou"} and "Registros de persona fusionados" in told["consul.hou"]


def test_two_supervisors_merging_the_same_pair_at_once(login, pair, app):
    """Both opened the comparison; the second submit is refused with a clear message and changes nothing."""
    a, b = pair
    create_user("consul2.tap", "Consul Dos", PASSWORD, "supervisor", _office("TAP"))
    db.session.commit()
    first, second = login("consul.tap"), login("consul2.tap")
    form_first, form_second = _form(first, a, b), _form(second, a, b, conserva="b")
    assert first.post(f"/personas/{a}/fusionar/{b}", data=form_first).status_code == 302
    before = _state()
    response = second.post(f"/personas/{a}/fusionar/{b}", data=form_second, follow_redirects=True)
    assert f"La persona n.º {b} ya fue fusionada" in " ".join(flashes(response.get_data(as_text=True)))
    assert _state() == before and db.session.scalar(db.select(db.func.count(PersonMerge.id))) == 1


def test_the_row_guard_refuses_a_merge_committed_by_someone_else_meanwhile(app, pair, users):
    """What the web test cannot time: the other merge commits after this one read both persons."""
    a, b = pair
    first, second = db.session.get(Person, a), db.session.get(Person, b)
    form = {"conserva": "a", "motivo": REASON, "version": merge.fingerprint(first, second),
            **{f"campo_{k}": "a" for k in FIELD_KEYS}}
    db.session.execute(db.update(Person).where(Person.id == b).values(merged_into_id=a)
                       .execution_options(synchronize_session=False))  # our copy of B still says "not merged"
    with pytest.raises(Conflict, match="Otra persona acaba de fusionar"):
        merge.merge(users["consul.tap"], first, second, form, clock.now())
    db.session.rollback()


def test_the_administrator_undoes_a_mistaken_merge(login, pair):
    a, b = pair
    cases_a, cases_b = _cases(a), _cases(b)
    original = _state()
    persons_before = _distinct_persons()
    _merge(login("consul.tap"), a, b, campo_dni="b", campo_sexo="b", campo_segundo_apellido="b")
    record = db.session.scalar(db.select(PersonMerge))
    assert login("consul.tap").post(f"/personas/fusiones/{record.id}/deshacer", data={"motivo": REASON}
                                    ).status_code == 403
    admin = login("admin")
    page = admin.get(f"/personas/{a}").get_data(as_text=True)
    assert "Deshacer fusión" in page
    response = admin.post(f"/personas/fusiones/{record.id}/deshacer", data={"motivo": "Son hermanas gemelas"},
                          follow_redirects=True)
    assert "Fusión deshecha" in " ".join(flashes(response.get_data(as_text=True)))
    db.session.expire_all()
    survivor, merged = db.session.get(Person, a), db.session.get(Person, b)
    assert (survivor.dni, survivor.sex, survivor.second_surname, survivor.merged_into_id) == (None, "X", None, None)
    assert (merged.dni, merged.dni_hash, merged.passport_number, merged.merged_into_id) == (
        "0801199012345", crypto.search_hash("0801199012345"), "E7654321", None)
    assert _cases(a) == cases_a and _cases(b) == cases_b
    assert [p.digits for p in survivor.phones] == ["50499887766"] and [p.digits for p in merged.phones] == [
        "529621234567"]
    assert [m.code for m in survivor.vulnerability_markers] == ["SIN_DOCUMENTOS"]
    assert [m.code for m in merged.vulnerability_markers] == ["EMBARAZO"]
    assert _distinct_persons() == persons_before
    assert {f.case_id: f.sex for f in db.session.scalars(db.select(CaseFact))}[cases_a[0]] == "X"
    assert db.session.get(PersonMerge, record.id).undone_at is not None
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "person_merge_undone")) is not None
    assert login("consul.tap").get(f"/personas/{b}").status_code == 200  # B is a person of its own again
    # persons, cases and phones are as they were (phones by value: the moved phone row went back)
    persons_now = {p[0]: p for p in snapshot(Person)}
    persons_then = {p[0]: p for p in original[0]}
    columns = [c.key for c in Person.__table__.columns]
    kept = [i for i, c in enumerate(columns) if c not in ("updated_at",)]
    assert {k: [v[i] for i in kept] for k, v in persons_now.items()} == {
        k: [v[i] for i in kept] for k, v in persons_then.items()}
    # undoing twice is refused
    before = _state()
    response = admin.post(f"/personas/fusiones/{record.id}/deshacer", data={"motivo": REASON}, follow_redirects=True)
    assert "Esta fusión ya se deshizo." in " ".join(flashes(response.get_data(as_text=True)))
    assert _state() == before


def test_undo_is_refused_while_a_later_merge_of_the_survivor_stands(login, pair):
    a, b = pair
    c = _person("TAP", names="María", first="López", second="Martínez")
    supervisor, admin = login("consul.tap"), login("admin")
    _merge(supervisor, a, b)
    _merge(supervisor, a, c)
    first, second = db.session.scalars(db.select(PersonMerge).order_by(PersonMerge.id)).all()
    before = _state()
    response = admin.post(f"/personas/fusiones/{first.id}/deshacer", data={"motivo": REASON}, follow_redirects=True)
    assert "deshaga primero la fusión posterior" in " ".join(flashes(response.get_data(as_text=True)))
    response = admin.post(f"/personas/fusiones/{first.id}/deshacer", data={"motivo": "x"}, follow_redirects=True)
    assert _state() == before
    for record in (second, first):  # newest first: both undo
        response = admin.post(f"/personas/fusiones/{record.id}/deshacer", data={"motivo": REASON},
                              follow_redirects=True)
        assert "Fusión deshecha" in " ".join(flashes(response.get_data(as_text=True)))
    db.session.expire_all()
    assert all(db.session.get(Person, p).merged_into_id is None for p in (a, b, c))
    assert len(_cases(a)) == len(_cases(b)) == len(_cases(c)) == 1


def test_undo_without_a_reason_changes_nothing(login, pair):
    a, b = pair
    _merge(login("consul.tap"), a, b)
    record = db.session.scalar(db.select(PersonMerge))
    before = _state()
    response = login("admin").post(f"/personas/fusiones/{record.id}/deshacer", data={"motivo": ""},
                                   follow_redirects=True)
    assert "Explique el motivo" in " ".join(flashes(response.get_data(as_text=True)))
    assert _state() == before
    assert login("admin").post("/personas/fusiones/987654/deshacer", data={"motivo": REASON}).status_code == 404
