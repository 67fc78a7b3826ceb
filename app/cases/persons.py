"""Persons: creation from intake data, duplicate candidates (see matching.py), edits; one person per DNI."""
import logging
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_

from ..core import clock, crypto
from ..core.errors import DomainError
from ..core.ids import parse_id
from ..core.text import normalize
from ..extensions import db
from ..reference.models import Department, Municipality, VulnerabilityMarker
from . import matching
from .identity import format_dni, normalize_passport, normalize_phone, parse_dni
from .models import Case, Person, PersonPhone

MAX_CANDIDATES = 5
# name matches more than this below the best one of the same strength are not shown: the weaker the evidence
# (tier 0: an identifier or the exact date; 1: a year off or a slip; 2: an age or nothing), the closer they must be
SCORE_MARGIN = {0: 3.0, 1: 2.0, 2: 1.0}
POOL_CAP = 5000  # rows one block may bring; more is logged (at 1M persons the largest blocks hold ~3,000)
log = logging.getLogger(__name__)


class PersonDecisionNeeded(DomainError):
    """Similar persons exist: the officer must link one of them or confirm a new person."""

    status_code = 409
    flash_category = "warning"

    def __init__(self, candidates):
        super().__init__(_("Hay personas registradas que podrían ser esta misma persona; cada coincidencia dice "
                           "por qué. Indique si es una de ellas o confirme que es una persona nueva. "
                           "No se guardó nada."))
        self.candidates = candidates


@dataclass
class Candidate:
    """A similar person. `visible` is False when every case of the person is in an office the user may not
    view: the page then shows only that a match exists elsewhere, and `token` (opaque) to request the link.
    `reasons` say in Spanish why the person is a candidate («mismo pasaporte», «nombre y fecha de nacimiento
    parecidos»...); `kinds` the same as codes (dni, passport, phone, family_phone, name)."""

    person: Person
    score: int
    cases: int
    visible: bool = True
    token: str | None = None
    requested: bool = False
    reasons: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)


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
    A passport or phone match is never linked silently: it is a candidate with its reason, and the officer
    decides (a passport can be renewed under a new number and numbers are mistyped; a phone is shared).
    """
    dni = parse_dni(data.get("dni"), _municipality_exists)
    warnings = dni.warnings if dni else []
    if dni:
        existing = db.session.scalar(db.select(Person).where(Person.dni_hash == crypto.search_hash(dni.digits)))
        if existing is not None:
            return PersonResult(_surviving(existing), False, "dni", warnings)
    if decision and decision != "nueva":
        chosen = db.session.get(Person, parse_id(decision)) if parse_id(decision) else None
        allowed = {c.person.id for c in duplicate_candidates(data, user, region=region) if c.visible}
        if chosen is None or chosen.id not in allowed:
            raise DomainError(_("La persona elegida no está entre las coincidencias."))
        return PersonResult(chosen, False, "decision", warnings)
    candidates = duplicate_candidates(data, user, region=region)
    if decision != "nueva" and candidates:
        raise PersonDecisionNeeded(candidates)
    if any("passport" in c.kinds for c in candidates):
        warnings = [*warnings, _("Se registró una persona nueva aunque otra persona registrada tiene el mismo "
                                 "número de pasaporte; si es la misma persona, pida que se fusionen.")]
    person = Person(dni=dni.digits if dni else None)
    apply_person_data(person, data, region)
    db.session.add(person)
    db.session.flush()
    return PersonResult(person, True, None, warnings)


def _surviving(person: Person) -> Person:
    """A merged-away person stands for the person it was merged into."""
    seen = set()
    while getattr(person, "merged_into_id", None) and person.id not in seen:
        seen.add(person.id)
        person = db.session.get(Person, person.merged_into_id) or person
    return person


# -- duplicate detection ---------------------------------------------------------------------------------
_POOL_COLUMNS = (Person.id, Person.given_names, Person.first_surname, Person.second_surname, Person.birth_date,
                 Person.estimated_age, Person.origin_municipality_code, Person.origin_department_code)
_IDENTIFIER_RANK = {"dni": 0, "passport": 1, "phone": 2, "family_phone": 2}


@dataclass
class _Query:
    parts: matching.NameParts
    birth: date | None
    age: int | None
    today: date
    dni_hash: str | None
    passport_hash: str | None
    phones: set[str]
    family_phone: str | None
    municipality: str | None = None
    department: str | None = None


def _query_of(data: dict, region: str | None) -> _Query:
    """What the form says about the person, for matching: bad values count as absent (the form reports them)."""
    today = clock.now().date()
    birth = _as_date(data.get("fecha_nacimiento"))
    age = _as_int(data.get("edad_estimada")) if birth is None else None
    dni = re.sub(r"\D", "", str(data.get("dni") or ""))[:13]
    try:
        passport = normalize_passport(str(data.get("pasaporte") or "")[:40])
    except DomainError:
        passport = None
    phones = {matching.phone_digits(str(data.get(k) or ""), region) for k in ("telefono", "telefono_alterno")}
    family = matching.phone_digits(str(data.get("telefono_contacto") or ""), "HN")
    municipality = _code(data.get("municipio_origen"), 4)
    department = _code(data.get("departamento_origen"), 2) or (municipality[:2] if municipality else None)
    return _Query(matching.name_parts(_text(data.get("nombres")), _text(data.get("primer_apellido")),
                                      _text(data.get("segundo_apellido"))),
                  birth, age, today, crypto.search_hash(dni) if len(dni) == 13 else None,
                  crypto.search_hash(passport), phones - {None}, family, municipality, department)


def _code(value, length: int) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    return text if len(text) == length and text.isdigit() else None


def _text(value) -> str:
    """A name field as matching reads it: text only, cut to a name's length (the scores are cached by name)."""
    return value[:matching.MAX_NAME_CHARS] if isinstance(value, str) else ""


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _as_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= 130 else None


def _live(query):
    """Persons that still stand for themselves (a merged-away person is never a candidate)."""
    return query.where(Person.merged_into_id.is_(None))


def _year_condition(q: _Query):
    if q.birth:
        low, high = q.birth.year - 1, q.birth.year + 1
    elif q.age is not None:
        low, high = q.today.year - q.age - 3, q.today.year - q.age + 2
    else:
        return None
    return or_(Person.birth_year.between(low, high), Person.birth_year.is_(None))


def _name_blocks(q: _Query) -> list:
    """The WHERE clauses of the name blocks; each is served by one of the persons' match indexes."""
    given = sorted(matching.given_sounds(q.parts))
    surnames = sorted(matching.surname_sounds(q.parts))
    year = _year_condition(q)
    blocks = []
    if year is None:  # no birth date nor age: a name alone must match whole (given name and both surnames)
        if given and surnames:
            other = Person.second_surname_sound.in_(surnames) if len(surnames) >= 2 else \
                or_(Person.second_surname_sound == "", Person.second_surname_sound.is_(None))
            blocks.append(and_(Person.given_name_sound.in_(given), Person.first_surname_sound.in_(surnames), other))
        return blocks
    # the given name and either surname, with the birth year (a name spelt otherwise with the exact date is
    # found by the birth-date block below; with a weaker date the whole name must match anyway)
    if given and surnames:
        blocks.append(and_(Person.given_name_sound.in_(given), Person.first_surname_sound.in_(surnames), year))
        blocks.append(and_(Person.given_name_sound.in_(given), Person.second_surname_sound.in_(surnames), year))
    if q.birth:
        dates = [d for d in (q.birth, matching.swapped_date(q.birth), matching.shifted_year(q.birth, -1),
                             matching.shifted_year(q.birth, 1)) if d]
        keyed = [c for c in (Person.given_name_sound.in_(given) if given else None,
                             Person.first_surname_sound.in_(surnames) if surnames else None,
                             Person.second_surname_sound.in_(surnames) if surnames else None) if c is not None]
        if keyed:
            blocks.append(and_(Person.birth_date.in_(dates), or_(*keyed)))
    return blocks


def _identifier_hits(q: _Query) -> dict[int, set[str]]:
    """person id -> kinds of identifier the query shares with them (dni, passport, phone, family_phone)."""
    hits: dict[int, set[str]] = {}

    def add(kind, ids):
        for person_id in ids:
            hits.setdefault(person_id, set()).add(kind)

    if q.dni_hash:
        add("dni", db.session.scalars(_live(db.select(Person.id).where(Person.dni_hash == q.dni_hash))))
    if q.passport_hash:
        add("passport", db.session.scalars(_live(db.select(Person.id).where(Person.passport_hash == q.passport_hash))
                                           .limit(POOL_CAP)))
    if q.phones:
        add("phone", db.session.scalars(_live(db.select(PersonPhone.person_id).join(Person)
                                              .where(PersonPhone.digits.in_(sorted(q.phones)))).limit(POOL_CAP)))
        add("phone_is_their_family", db.session.scalars(_live(db.select(Person.id).where(
            Person.family_phone_digits.in_(sorted(q.phones)))).limit(POOL_CAP)))
    if q.family_phone:
        add("family_is_their_phone", db.session.scalars(_live(db.select(PersonPhone.person_id).join(Person)
                                                              .where(PersonPhone.digits == q.family_phone))
                                                        .limit(POOL_CAP)))
        add("family_phone", db.session.scalars(_live(db.select(Person.id).where(
            Person.family_phone_digits == q.family_phone)).limit(POOL_CAP)))
    return hits


def _pool(q: _Query, extra_ids) -> dict[int, tuple]:
    """The persons the blocks find (plain rows of the columns scoring needs), each block bounded."""
    rows: dict[int, tuple] = {}
    for block in _name_blocks(q):
        found = db.session.execute(_live(db.select(*_POOL_COLUMNS).where(block)).limit(POOL_CAP + 1)).all()
        if len(found) > POOL_CAP:
            log.warning("duplicate detection: a name block holds more than %s persons; the candidates may be "
                        "incomplete (a common name with no birth date or age)", POOL_CAP)
        rows.update((row.id, tuple(row)) for row in found[:POOL_CAP])
    missing = [i for i in extra_ids if i not in rows]
    if missing:
        rows.update((row.id, tuple(row)) for row in db.session.execute(
            db.select(*_POOL_COLUMNS).where(Person.id.in_(missing))))
    return rows


ORIGIN_BONUS = {"municipality": 1.5, "department": 0.5, "other": -2.0}


def _origin(q: _Query, municipality: str | None, department: str | None) -> str | None:
    """How the origins compare: same municipality, same department, another department, or unknown (None)."""
    if q.municipality and municipality and q.municipality == municipality:
        return "municipality"
    if q.department and department:
        return "department" if q.department == department else "other"
    return None


_DATE_REASONS = {
    matching.EXACT: _l("misma fecha de nacimiento"),
    matching.SWAPPED: _l("fecha de nacimiento con día y mes invertidos"),
    matching.YEAR_OFF: _l("fecha de nacimiento con un año de diferencia"),
    matching.CLOSE: _l("fecha de nacimiento cercana"),
    matching.AGE: _l("edad parecida"),
    matching.UNKNOWN: _l("sin fecha de nacimiento para comparar: solo el nombre"),
}
_NAME_NOTES = {
    "nickname": _l("un nombre es apodo del otro"),
    "surname_missing": _l("falta uno de los apellidos"),
    "surnames_swapped": _l("apellidos en otro orden"),
    "given_order": _l("nombres en otro orden"),
}
_IDENTIFIER_REASONS = {
    "dni": _l("mismo DNI"),
    "passport": _l("mismo pasaporte"),
    "phone": _l("mismo teléfono"),
    "phone_is_their_family": _l("su teléfono es el del contacto familiar de esta persona"),
    "family_is_their_phone": _l("el teléfono del contacto familiar es el de esta persona"),
    "family_phone": _l("mismo teléfono del contacto familiar"),
}


def _assess(q: _Query, row: tuple, identifiers: set[str]) -> tuple[float, list[str], set[str], int | None] | None:
    """(score, reasons, kinds, tier) of one pooled person, or None when they are not a candidate. The tier says
    how strong the evidence is (0 strongest); None for a family-phone warning alone, which is always shown."""
    _id, given, first, second, birth, age, municipality, department = row
    relation = matching.date_relation(q.birth, q.age, birth, age, q.today)
    floor = matching.NAME_FLOOR.get(relation)
    if floor is None and not identifiers:  # born far apart: no need to compare the names
        return None
    name = matching.name_similarity(q.parts, matching.name_parts(given, first, second))
    by_name = floor is not None and name.score >= floor and name.given >= matching.GIVEN_FLOOR
    origin = _origin(q, municipality, department)
    if by_name and matching.TIER[relation] > 0:  # the date says less: the whole name must be there and alike,
        by_name = name.given >= matching.GIVEN_FLOOR_WEAK and "surname_missing" not in name.notes \
            and origin != "other"  # and they must not come from another department
    if not by_name and not identifiers:
        return None
    reasons = [str(_IDENTIFIER_REASONS[k]) for k in sorted(identifiers, key=list(_IDENTIFIER_REASONS).index)]
    kinds = {"family_phone" if k.startswith(("family", "phone_is")) else k for k in identifiers}
    if by_name:
        kinds.add("name")
        reasons.append(str(_l("nombre y fecha de nacimiento parecidos")) if relation != matching.UNKNOWN
                       else str(_l("nombre parecido")))
        reasons.append(str(_DATE_REASONS[relation]))
        reasons.extend(str(_NAME_NOTES[n]) for n in sorted(name.notes) if n in _NAME_NOTES)
        if origin == "municipality":
            reasons.append(str(_l("mismo municipio de origen")))
    bonus = matching.date_bonus(relation, q.birth, q.age, birth, age, q.today) if by_name else -10
    bonus += ORIGIN_BONUS.get(origin, 0.0)
    tiers = [matching.TIER[relation]] if by_name else []
    if kinds & {"dni", "passport", "phone"}:
        tiers.append(0)
    return name.score + bonus, reasons, kinds, min(tiers) if tiers else None


def duplicate_candidates(data: dict, user=None, region: str | None = None) -> list[Candidate]:
    """Persons who may be the one in `data`: same DNI, passport or phone (a family contact's phone too), or a
    similar name (surnames in either order or one missing, accents, typos, nicknames) with a close birth date.

    The lookup reads only the persons its indexed blocks find (sound keys of the names with the birth year,
    the exact birth date, identifiers' keyed hashes and phone digits), whatever the size of the database.
    With a user, each candidate says whether the user may see it (see `person_visible_to`); without one
    (internal use only) every candidate is visible. Merged-away persons are never candidates.
    """
    q = _query_of(data, region)
    identifiers = _identifier_hits(q)
    pool = _pool(q, identifiers) if (q.parts.given or q.parts.surnames or identifiers) else {}
    assessed = [(person_id, _assess(q, row, identifiers.get(person_id, set()))) for person_id, row in pool.items()]
    assessed = [(person_id, a) for person_id, a in assessed if a is not None]
    # only the strongest evidence found: a namesake born a year later is no candidate beside the person with
    # the same birth date or passport (family-phone warnings stay whatever else is found)
    strongest = min((a[3] for _pid, a in assessed if a[3] is not None), default=None)
    best = max((a[0] for _pid, a in assessed if a[3] == strongest), default=0)
    found = []
    for person_id, (score, reasons, kinds, tier) in assessed:
        by_identifier = bool(kinds & {"dni", "passport", "phone", "family_phone"})
        if by_identifier or (tier == strongest and score >= best - SCORE_MARGIN[tier]):
            rank = min((_IDENTIFIER_RANK.get(k, 3) for k in kinds), default=3)
            found.append((rank, -score, person_id, score, reasons, kinds))
    found.sort()
    chosen = found[:MAX_CANDIDATES]
    if not chosen:
        return []
    persons = {p.id: p for p in db.session.scalars(db.select(Person).where(Person.id.in_([c[2] for c in chosen])))}
    counts = _case_counts(list(persons))
    return [Candidate(persons[pid], min(100, int(round(score))), counts.get(pid, 0),
                      user is None or person_visible_to(user, persons[pid]), reasons=reasons, kinds=kinds)
            for _rank, _neg, pid, score, reasons, kinds in chosen if pid in persons]


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
    """The person's search text and duplicate-detection keys, from its names, birth data and family phone."""
    person.search_text = normalize(person.full_name)
    person.first_surname_key = normalize(person.first_surname)
    person.second_surname_key = normalize(person.second_surname)
    for column, value in matching.stored_keys(person.given_names, person.first_surname,
                                              person.second_surname).items():
        setattr(person, column, value)
    registered = (person.created_at or clock.now()).year
    person.birth_year = matching.birth_year(person.birth_date, person.estimated_age, registered)
    person.family_phone_digits = matching.phone_digits(person.family_contact_phone)


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
