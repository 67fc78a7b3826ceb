"""Persons: creation from intake data, duplicate candidates, edits; one person per DNI."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from rapidfuzz import fuzz
from sqlalchemy import or_

from ..core import clock, crypto
from ..core.errors import DomainError
from ..core.ids import parse_id
from ..core.text import normalize
from ..extensions import db
from ..reference.models import Department, Municipality, VulnerabilityMarker
from .identity import format_dni, normalize_passport, normalize_phone, parse_dni
from .models import Case, Person, PersonPhone

NAME_THRESHOLD = 82          # token_sort_ratio of normalized full names
NAME_ONLY_THRESHOLD = 93     # when neither side has a birth date or age
MAX_CANDIDATES = 5


class PersonDecisionNeeded(DomainError):
    """Similar persons exist: the officer must link one of them or confirm a new person."""

    status_code = 409
    flash_category = "warning"

    def __init__(self, candidates):
        super().__init__(_("Hay personas registradas con nombre y fecha de nacimiento parecidos. Indique si es "
                           "una de ellas o confirme que es una persona nueva. No se guardó nada."))
        self.candidates = candidates


@dataclass
class Candidate:
    """A similar person. `visible` is False when every case of the person is in an office the user may not
    view: the page then shows only that a match exists elsewhere, and `token` (opaque) to request the link."""

    person: Person
    score: int
    cases: int
    visible: bool = True
    token: str | None = None
    requested: bool = False


@dataclass
class PersonResult:
    person: Person
    created: bool
    linked_by: str | None = None  # "dni" or "decision"
    warnings: list[str] = field(default_factory=list)


def _municipality_exists(code) -> bool:
    return db.session.get(Municipality, code) is not None


def person_for_intake(data: dict, decision: str | None, region: str | None, user=None) -> PersonResult:
    """The intake's person: linked by DNI, or by the officer's decision among candidates, or new.

    The decision may only name a candidate the user may see (a person with a case in an office the user
    views); a person known only to other offices is linked through a PersonLinkRequest, never directly.
    """
    dni = parse_dni(data.get("dni"), _municipality_exists)
    warnings = dni.warnings if dni else []
    if dni:
        existing = db.session.scalar(db.select(Person).where(Person.dni_hash == crypto.search_hash(dni.digits)))
        if existing is not None:
            return PersonResult(existing, False, "dni", warnings)
    if decision and decision != "nueva":
        chosen = db.session.get(Person, parse_id(decision)) if parse_id(decision) else None
        allowed = {c.person.id for c in duplicate_candidates(data, user) if c.visible}
        if chosen is None or chosen.id not in allowed:
            raise DomainError(_("La persona elegida no está entre las coincidencias."))
        return PersonResult(chosen, False, "decision", warnings)
    if decision != "nueva":
        candidates = duplicate_candidates(data, user)
        if candidates:
            raise PersonDecisionNeeded(candidates)
    person = Person(dni=dni.digits if dni else None)
    apply_person_data(person, data, region)
    db.session.add(person)
    db.session.flush()
    return PersonResult(person, True, None, warnings)


def duplicate_candidates(data: dict, user=None) -> list[Candidate]:
    """Persons with a similar name (either surname order) and the same or a close birth date or age.

    With a user, each candidate says whether the user may see it (see `person_visible_to`); without one
    (internal use only) every candidate is visible.
    """
    first, second = normalize(data.get("primer_apellido")), normalize(data.get("segundo_apellido"))
    birth = date.fromisoformat(data["fecha_nacimiento"]) if data.get("fecha_nacimiento") else None
    keys = [k for k in (first, second) if k]
    conditions = [Person.first_surname_key.in_(keys), Person.second_surname_key.in_(keys)]
    if birth:
        conditions.append(Person.birth_date == birth)
    pool = db.session.scalars(db.select(Person).where(or_(*conditions)).limit(500)).all()
    wanted = normalize(" ".join(filter(None, (data.get("nombres"), data.get("primer_apellido"),
                                              data.get("segundo_apellido")))))
    found = []
    for person in pool:
        score = int(fuzz.token_sort_ratio(wanted, person.search_text))
        close = _dates_close(birth, data.get("edad_estimada"), person)
        if (close and score >= NAME_THRESHOLD) or (close is None and score >= NAME_ONLY_THRESHOLD):
            found.append((score, person))
    found.sort(key=lambda pair: -pair[0])
    counts = _case_counts([p.id for _s, p in found[:MAX_CANDIDATES]])
    return [Candidate(p, s, counts.get(p.id, 0), user is None or person_visible_to(user, p))
            for s, p in found[:MAX_CANDIDATES]]


def case_offices(person: Person) -> set[int]:
    """The offices holding a case of the person."""
    return set(db.session.scalars(db.select(Case.office_id).where(Case.person_id == person.id)).all())


def person_visible_to(user, person: Person) -> bool:
    """Central users see every person; others the persons with a case in their own office."""
    return bool(user.is_central or user.office_id in case_offices(person))


def record_office_id(person: Person) -> int | None:
    """The office that registered the person (its earliest case): the only one that enters contact data."""
    return db.session.scalar(db.select(Case.office_id).where(Case.person_id == person.id)
                             .order_by(Case.id).limit(1))


# Fields every office linked to a person shares: who the person is. Everything else (location, address,
# phones, family contact, gender identity, vulnerabilities) belongs to the office that registered the person.
IDENTITY_FIELDS = ("nombres", "primer_apellido", "segundo_apellido", "sexo", "fecha_nacimiento", "fecha_estimada",
                   "edad_estimada", "nacionalidad", "dni", "pasaporte", "departamento_origen", "municipio_origen")
OTHER_OFFICE_FIELDS = ("identidad_genero", "pais_ubicacion", "ciudad_ubicacion", "direccion_extranjero", "telefono",
                       "telefono_alterno", "contacto_familiar", "parentesco_contacto", "telefono_contacto",
                       "vulnerabilidades")


def masked_fields(user, person: Person) -> set[str]:
    """Form fields the user must not see: the registering office's data, when the user cannot view that office."""
    owner = record_office_id(person)
    if user.is_central or owner is None or owner == user.office_id:
        return set()
    return set(OTHER_OFFICE_FIELDS)


def person_values(person: Person) -> dict:
    """The person as persona.json form data."""
    phones = [p.number for p in person.phones]
    return {
        "nombres": person.given_names, "primer_apellido": person.first_surname,
        "segundo_apellido": person.second_surname, "sexo": person.sex, "identidad_genero": person.gender_identity,
        "fecha_nacimiento": person.birth_date.isoformat() if person.birth_date else None,
        "fecha_estimada": person.birth_date_estimated, "edad_estimada": person.estimated_age,
        "nacionalidad": person.nationality, "dni": person.dni_display, "pasaporte": person.passport_number,
        "departamento_origen": person.origin_department_code, "municipio_origen": person.origin_municipality_code,
        "pais_ubicacion": person.current_country, "ciudad_ubicacion": person.current_city,
        "direccion_extranjero": person.address_abroad, "telefono": phones[0] if phones else None,
        "telefono_alterno": phones[1] if len(phones) > 1 else None, "contacto_familiar": person.family_contact_name,
        "parentesco_contacto": person.family_contact_relationship, "telefono_contacto": person.family_contact_phone,
        "vulnerabilidades": sorted(m.code for m in person.vulnerability_markers),
    }


def _dates_close(birth: date | None, age, person: Person) -> bool | None:
    """True/False when both sides say something about age; None when one side says nothing."""
    today = clock.now().date()
    if birth and person.birth_date:
        return abs(birth - person.birth_date) <= timedelta(days=366)
    mine = (today.year - birth.year) if birth else age
    theirs = person.age_on(today)
    if mine is None or theirs is None:
        return None
    return abs(int(mine) - int(theirs)) <= 2


def _case_counts(person_ids):
    if not person_ids:
        return {}
    rows = db.session.execute(db.select(Case.person_id, db.func.count(Case.id))
                              .where(Case.person_id.in_(person_ids)).group_by(Case.person_id))
    return dict(rows.all())


def apply_person_data(person: Person, data: dict, region: str | None, keep=()) -> list[str]:
    """Write form data onto a person (new or edited); validates identity fields; returns warnings.

    Fields named in `keep` (masked for the editor) keep their stored values whatever the form says.
    """
    if keep:
        data = {**data, **{k: v for k, v in person_values(person).items() if k in keep}}
    warnings = []
    if "dni" in data:
        dni = parse_dni(data.get("dni"), _municipality_exists)
        new_dni = dni.digits if dni else None
        if new_dni and new_dni != person.dni:
            other = db.session.scalar(db.select(Person).where(Person.dni_hash == crypto.search_hash(new_dni)))
            if other is not None and other is not person:
                message = _("Ya existe otra persona con el DNI %(dni)s.", dni=format_dni(new_dni))
                raise DomainError(message, {"dni": message})
        person.dni = new_dni
        warnings.extend(dni.warnings if dni else [])
    person.given_names = data["nombres"].strip()
    person.first_surname = data["primer_apellido"].strip()
    person.second_surname = (data.get("segundo_apellido") or "").strip() or None
    person.sex = data["sexo"]
    person.gender_identity = data.get("identidad_genero")
    person.birth_date = date.fromisoformat(data["fecha_nacimiento"]) if data.get("fecha_nacimiento") else None
    person.birth_date_estimated = bool(data.get("fecha_estimada")) and person.birth_date is not None
    person.estimated_age = data.get("edad_estimada") if person.birth_date is None else None
    person.nationality = data.get("nacionalidad") or "HN"
    person.passport_number = normalize_passport(data.get("pasaporte"))
    _set_origin(person, data.get("departamento_origen"), data.get("municipio_origen"))
    person.current_country = data.get("pais_ubicacion")
    person.current_city = data.get("ciudad_ubicacion")
    person.address_abroad = data.get("direccion_extranjero")
    person.family_contact_name = data.get("contacto_familiar")
    person.family_contact_relationship = data.get("parentesco_contacto")
    contact_phone = normalize_phone(data.get("telefono_contacto"), "HN")
    person.family_contact_phone = contact_phone[0] if contact_phone else None
    if "telefono" not in keep and "telefono_alterno" not in keep:
        _set_phones(person, [data.get("telefono"), data.get("telefono_alterno")], region)
    _set_vulnerabilities(person, data.get("vulnerabilidades") or [])
    refresh_search_keys(person)
    person.updated_at = clock.now()
    return warnings


def refresh_search_keys(person: Person):
    person.search_text = normalize(person.full_name)
    person.first_surname_key = normalize(person.first_surname)
    person.second_surname_key = normalize(person.second_surname)


def _set_origin(person, department, municipality):
    if municipality:
        found = db.session.get(Municipality, municipality)
        if found is None:
            message = _("El municipio de origen no existe.")
            raise DomainError(message, {"municipio_origen": message})
        if department and department != found.department_code:
            message = _("El municipio no pertenece al departamento indicado.")
            raise DomainError(message, {"municipio_origen": message})
        department = found.department_code
    if department and db.session.get(Department, department) is None:
        message = _("El departamento de origen no existe.")
        raise DomainError(message, {"departamento_origen": message})
    person.origin_department_code = department or None
    person.origin_municipality_code = municipality or None


def _set_phones(person, numbers, region):
    parsed = [normalize_phone(n, region) for n in numbers if n]
    person.phones = [PersonPhone(number=shown, digits=digits) for shown, digits in parsed if shown]


def _set_vulnerabilities(person, codes):
    markers = db.session.scalars(db.select(VulnerabilityMarker).where(VulnerabilityMarker.code.in_(codes))).all()
    if len(markers) != len(set(codes)):
        raise DomainError(_("Una condición de vulnerabilidad no existe."))
    person.vulnerability_markers = list(markers)


def refresh_search_hashes() -> int:
    """Recompute the keyed hashes of DNI and passport numbers (they depend on the primary key)."""
    count = 0
    for person in db.session.scalars(db.select(Person).where(
            or_(Person.dni.is_not(None), Person.passport_number.is_not(None)))):
        dni_hash, passport_hash = crypto.search_hash(person.dni), crypto.search_hash(person.passport_number)
        if (person.dni_hash, person.passport_hash) != (dni_hash, passport_hash):
            person.dni_hash, person.passport_hash = dni_hash, passport_hash
            count += 1
    db.session.flush()
    return count
