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

    def __init__(self, candidates):
        super().__init__(_("Hay personas registradas con nombre y fecha de nacimiento parecidos. Indique si es "
                           "una de ellas o confirme que es una persona nueva. No se guardó nada."))
        self.candidates = candidates


@dataclass
class Candidate:
    person: Person
    score: int
    cases: int


@dataclass
class PersonResult:
    person: Person
    created: bool
    linked_by: str | None = None  # "dni" or "decision"
    warnings: list[str] = field(default_factory=list)


def _municipality_exists(code) -> bool:
    return db.session.get(Municipality, code) is not None


def person_for_intake(data: dict, decision: str | None, region: str | None) -> PersonResult:
    """The intake's person: linked by DNI, or by the officer's decision among candidates, or new."""
    dni = parse_dni(data.get("dni"), _municipality_exists)
    warnings = dni.warnings if dni else []
    if dni:
        existing = db.session.scalar(db.select(Person).where(Person.dni_hash == crypto.search_hash(dni.digits)))
        if existing is not None:
            return PersonResult(existing, False, "dni", warnings)
    if decision and decision != "nueva":
        chosen = db.session.get(Person, parse_id(decision)) if parse_id(decision) else None
        if chosen is None or chosen.id not in {c.person.id for c in duplicate_candidates(data)}:
            raise DomainError(_("La persona elegida no está entre las coincidencias."))
        return PersonResult(chosen, False, "decision", warnings)
    if decision != "nueva":
        candidates = duplicate_candidates(data)
        if candidates:
            raise PersonDecisionNeeded(candidates)
    person = Person(dni=dni.digits if dni else None)
    apply_person_data(person, data, region)
    db.session.add(person)
    db.session.flush()
    return PersonResult(person, True, None, warnings)


def duplicate_candidates(data: dict) -> list[Candidate]:
    """Persons with a similar name (either surname order) and the same or a close birth date or age."""
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
    return [Candidate(p, s, counts.get(p.id, 0)) for s, p in found[:MAX_CANDIDATES]]


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


def apply_person_data(person: Person, data: dict, region: str | None) -> list[str]:
    """Write form data onto a person (new or edited); validates identity fields; returns warnings."""
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
