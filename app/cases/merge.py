"""Merging two records of one person, and an administrator's undo of a mistaken merge.

The merged-away person keeps its row (`merged_into_id` names the survivor; its URL redirects there) without DNI
or passport, so the survivor may take the real numbers (one person per DNI). Cases, phones, vulnerability markers
and link requests move to the survivor. A PersonMerge row keeps both persons as they were (encrypted), the field
choices and the ids that moved: what `undo` needs. Who may merge: a supervisor, for two persons whose every case is
in the supervisor's office; a supervisor of the central office (DGPHM) for any two persons, across offices.
"""
import hashlib
import json
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, update

from ..audit import services as audit
from ..auth import policy, roles
from ..core import crypto
from ..core.errors import Conflict, DomainError, NotAllowed
from ..core.text import normalize
from ..extensions import db
from ..reference.models import VulnerabilityMarker
from .models import SEXES, Case, Person, PersonLinkRequest, PersonMerge
from .persons import case_offices, person_visible_to, refresh_search_keys
from .services import record_event

for _code, _label in {
    "persons_merged": "Personas fusionadas",
    "person_merge_undone": "Fusión de personas deshecha",
    "person_merge_compared": "Comparación de personas para fusionar",
    "person_merge_searched": "Búsqueda de persona para fusionar",
}.items():
    audit.ACTIONS.setdefault(_code, _label)

# The fields a merge chooses, one side each: (form key, label, Person attributes chosen together).
FIELDS = (
    ("nombres", _l("Nombres"), ("given_names",)),
    ("primer_apellido", _l("Primer apellido"), ("first_surname",)),
    ("segundo_apellido", _l("Segundo apellido"), ("second_surname",)),
    ("sexo", _l("Sexo"), ("sex",)),
    ("identidad_genero", _l("Identidad de género"), ("gender_identity",)),
    ("nacimiento", _l("Fecha de nacimiento o edad"), ("birth_date", "birth_date_estimated", "estimated_age")),
    ("nacionalidad", _l("Nacionalidad"), ("nationality",)),
    ("dni", _l("DNI"), ("dni",)),
    ("pasaporte", _l("Pasaporte"), ("passport_number",)),
    ("origen", _l("Lugar de origen"), ("origin_department_code", "origin_municipality_code")),
    ("ubicacion", _l("Ubicación actual"), ("current_country", "current_city")),
    ("direccion", _l("Dirección en el extranjero"), ("address_abroad",)),
    ("contacto_familiar", _l("Familiar en Honduras"),
     ("family_contact_name", "family_contact_relationship", "family_contact_phone")),
)
ATTRIBUTES = tuple(attr for _key, _label, attrs in FIELDS for attr in attrs)
SIDES = ("a", "b")
MIN_REASON, MAX_REASON = 10, 500
MAX_CHAIN = 50


# --- who may ------------------------------------------------------------------------------------------------

def survivor_of(person: Person) -> Person:
    """The person a merged-away record now lives in (itself when it was never merged)."""
    seen = 0
    while person.merged_into_id is not None and seen < MAX_CHAIN:
        person = db.session.get(Person, person.merged_into_id)
        seen += 1
    return person


@policy.predicate
def can_view_persons(user) -> bool:
    """The person page: officers, supervisors and administrators. Analysts (statistics) and process owners
    (diagrams) have no need to know persons."""
    return policy.has_role(user, roles.OFICIAL, roles.SUPERVISOR, roles.ADMIN)


@policy.predicate
def can_view_person(user, person) -> bool:
    """Central users and the offices holding a case of the person (of its survivor, once merged)."""
    return can_view_persons(user) and person_visible_to(user, survivor_of(person))


@policy.predicate
def can_merge_persons(user) -> bool:
    """Supervisors merge the persons of their office; a supervisor of the central office, any persons."""
    return policy.has_role(user, roles.SUPERVISOR)


def may_merge(user, person) -> bool:
    return can_merge_persons(user) and can_view_person(user, person)


def check_pair(user, first: Person, second: Person) -> None:
    """Refuse a merge that cannot be made (DomainError with a Spanish message; nothing changes)."""
    if first.id == second.id:
        raise DomainError(_("No se puede fusionar una persona consigo misma. No se guardó nada."))
    for person in (first, second):
        if person.merged_into_id is not None:
            raise DomainError(_("La persona n.º %(id)d ya fue fusionada en la persona n.º %(into)d: fusione la "
                                "persona resultante. No se guardó nada.", id=person.id, into=person.merged_into_id))
        if person.anonymised_at is not None:
            raise DomainError(_("La persona n.º %(id)d fue anonimizada por retención y no se puede fusionar. No se "
                                "guardó nada.", id=person.id))
    if not user.is_central and (case_offices(first) | case_offices(second)) - {user.office_id}:
        raise NotAllowed(_("Una de las dos personas tiene casos en otra oficina: la fusión entre oficinas la hace "
                           "la Dirección (un supervisor de la DGPHM). No se guardó nada."))


# --- the two versions ---------------------------------------------------------------------------------------

def snapshot(person: Person) -> dict:
    """Everything a merge may change on a person, as JSON-ready values."""
    values = {attr: getattr(person, attr) for attr in ATTRIBUTES}
    values["birth_date"] = person.birth_date.isoformat() if person.birth_date else None
    values["phones"] = [[p.id, p.number, p.digits, p.label] for p in person.phones]
    values["markers"] = sorted(m.code for m in person.vulnerability_markers)
    values["merged_into_id"] = person.merged_into_id
    values["updated_at"] = person.updated_at.isoformat() if person.updated_at else None
    return values


def fingerprint(first: Person, second: Person) -> str:
    """The optimistic lock of the comparison page: changes when either person changes."""
    body = json.dumps([first.id, snapshot(first), second.id, snapshot(second)], sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def shown_values(person: Person) -> dict[str, str]:
    """Each merge field of a person as the comparison page shows it."""
    if person.birth_date:
        birth = person.birth_date.strftime("%d/%m/%Y") + (f" ({_('aproximada')})" if person.birth_date_estimated
                                                          else "")
    elif person.estimated_age is not None:
        birth = _("edad estimada %(a)d", a=person.estimated_age)
    else:
        birth = ""
    if person.origin_municipality:
        origin = f"{person.origin_municipality.name}, {person.origin_municipality.department.name}"
    else:
        origin = person.origin_department.name if person.origin_department else ""
    contact = ""
    if person.family_contact_name:
        contact = person.family_contact_name + (f" ({person.family_contact_relationship})"
                                                if person.family_contact_relationship else "")
        contact += f" · {person.family_contact_phone}" if person.family_contact_phone else ""
    place = (person.current_city or "") + (f" ({person.current_country})" if person.current_country else "")
    return {
        "nombres": person.given_names, "primer_apellido": person.first_surname,
        "segundo_apellido": person.second_surname or "", "sexo": str(SEXES.get(person.sex, person.sex)),
        "identidad_genero": person.gender_identity or "", "nacimiento": birth, "nacionalidad": person.nationality,
        "dni": person.dni_display or "", "pasaporte": person.passport_number or "", "origen": origin,
        "ubicacion": place.strip(), "direccion": person.address_abroad or "", "contacto_familiar": contact,
    }


def comparison(first: Person, second: Person) -> list[dict]:
    """Rows of the comparison page: each field's two values and the side proposed (a non-empty value, A first)."""
    a, b = shown_values(first), shown_values(second)
    rows = []
    for key, label, _attrs in FIELDS:
        proposed = "a" if a[key] or not b[key] else "b"
        rows.append({"key": key, "label": label, "a": a[key], "b": b[key], "same": a[key] == b[key],
                     "proposed": proposed})
    return rows


# --- finding the other person ---------------------------------------------------------------------------------

def candidates(user, person: Person, query: str, limit: int = 20) -> list[Person]:
    """Persons the user may see and merge with `person`, by person number, DNI, passport or name."""
    query = (query or "").strip()[:100]
    if not query or (len(query) < 2 and not query.isdigit()):
        return []
    options = []
    compact = query.replace("-", "").replace(" ", "")
    if compact.isdigit() and len(compact) <= 9:
        options.append(Person.id == int(compact))
    if compact.isdigit() and len(compact) == 13:
        options.append(Person.dni_hash == crypto.search_hash(compact))
    if compact.isalnum() and 6 <= len(compact) <= 12 and any(ch.isdigit() for ch in compact):
        options.append(Person.passport_hash == crypto.search_hash(compact.upper()))
    tokens = [t for t in normalize(query).split() if len(t) >= 2 and not t.isdigit()]
    if tokens:
        options.append(and_(*[Person.search_text.like(f"%{_escape(t)}%", escape="\\") for t in tokens]))
    if not options:
        return []
    select = db.select(Person).where(or_(*options), Person.id != person.id, Person.merged_into_id.is_(None),
                                     Person.anonymised_at.is_(None))
    if not user.is_central:
        select = select.where(Person.id.in_(db.select(Case.person_id).where(Case.office_id == user.office_id)))
    return db.session.scalars(select.order_by(Person.id).limit(limit)).all()


def _escape(token):
    return token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- merge ----------------------------------------------------------------------------------------------------

def merge(user, first: Person, second: Person, form, now) -> PersonMerge:
    """Merge two persons as the comparison form says: `conserva` (a|b, whose number survives), `campo_<key>`
    (a|b) for every field, `motivo`, and `version` (the fingerprint the page was built from). Flushes."""
    check_pair(user, first, second)
    if form.get("version") != fingerprint(first, second):
        raise Conflict(_("Una de las dos personas cambió mientras las comparaba (otra fusión o una edición). Vuelva "
                         "a abrir la comparación. No se guardó nada."))
    sides = {"a": first, "b": second}
    keep = form.get("conserva")
    if keep not in sides:
        raise DomainError(_("Elija qué número de persona se conserva. No se guardó nada."))
    survivor, merged = sides[keep], sides["b" if keep == "a" else "a"]
    choices = {}
    for key, label, _attrs in FIELDS:
        side = form.get(f"campo_{key}")
        if side not in sides:
            raise DomainError(_("El valor elegido para «%(field)s» no pertenece a ninguna de las dos personas. No se "
                                "guardó nada.", field=label))
        choices[key] = side
    reason = _reason(form.get("motivo"))
    values = {attr: getattr(sides[choices[key]], attr) for key, _label, attrs in FIELDS for attr in attrs}
    before = {"survivor": snapshot(survivor), "merged": snapshot(merged), "choices": choices}
    _claim(survivor, merged, now)
    merged.dni, merged.passport_number = None, None  # the survivor may take them (one person per DNI)
    merged.merged_into_id, merged.updated_at = survivor.id, now
    db.session.flush()
    for attr, value in values.items():
        setattr(survivor, attr, value)
    refresh_search_keys(survivor)
    survivor.updated_at = now
    moved = _move(survivor, merged, now)
    record = PersonMerge(survivor_id=survivor.id, merged_id=merged.id, merged_by_id=user.id, merged_at=now,
                         reason=reason, snapshot=json.dumps(before, ensure_ascii=False, default=str),
                         moved_json=json.dumps(moved))
    db.session.add(record)
    db.session.flush()
    title = _("Registro duplicado de la persona fusionado (persona n.º %(m)d en n.º %(s)d)", m=merged.id,
              s=survivor.id)
    for case_id in _case_ids(survivor):
        record_event(case_id, "person_merged", title, user.id, now)
    audit.record("persons_merged", object_type="person", object_id=survivor.id, actor=user,
                 details={"fusión": record.id, "fusionada": merged.id, **moved})
    _tell_other_offices(user, record, now)
    return record


def _tell_other_offices(user, record: PersonMerge, now) -> None:
    """The supervisors of every other office holding a case of the survivor learn that its person changed."""
    from ..auth.services import supervisors_of
    from .signals import tell

    told = {user.id}
    for case in db.session.scalars(db.select(Case).where(Case.person_id == record.survivor_id,
                                                         Case.office_id != user.office_id).order_by(Case.id)):
        for supervisor in supervisors_of(case.office_id):
            if supervisor.id in told:
                continue
            told.add(supervisor.id)
            tell(supervisor, kind="persona_editada", case_id=case.id, link=f"/casos/{case.id}", now=now,
                 title=_("Registros de persona fusionados · %(n)s", n=case.number),
                 body=_("%(office)s fusionó dos registros de la persona del caso %(n)s (persona n.º %(m)d en la "
                        "n.º %(s)d). Revise sus datos.", office=user.office.name, n=case.number,
                        m=record.merged_id, s=record.survivor_id),
                 dedup_key=f"persona_fusionada:{record.id}:{supervisor.id}")


def _reason(text) -> str:
    reason = " ".join((text or "").split())
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise DomainError(_("Explique el motivo (entre %(low)d y %(high)d caracteres). No se guardó nada.",
                            low=MIN_REASON, high=MAX_REASON))
    return reason


def _claim(survivor: Person, merged: Person, now, undoing=False) -> None:
    """Take both rows with conditional updates, in id order (no deadlock between two crossing merges): the
    second of two simultaneous merges or undos of the same persons finds the condition false and is refused."""
    expected = {survivor.id: Person.merged_into_id.is_(None),
                merged.id: (Person.merged_into_id == survivor.id) if undoing else Person.merged_into_id.is_(None)}
    for person_id in sorted(expected):
        result = db.session.execute(update(Person).where(Person.id == person_id, expected[person_id])
                                    .values(updated_at=now).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise Conflict(_("Otra persona acaba de fusionar o de deshacer la fusión de una de estas personas. "
                             "Vuelva a cargar la página. No se guardó nada."))


def _move(survivor: Person, merged: Person, now) -> dict:
    cases = db.session.scalars(db.select(Case).where(Case.person_id == merged.id).order_by(Case.id)).all()
    for case in cases:
        case.person, case.updated_at = survivor, now
    have = {p.digits for p in survivor.phones}
    phones = [p for p in merged.phones if p.digits not in have]
    for phone in phones:
        merged.phones.remove(phone)
        survivor.phones.append(phone)
    present = {m.code for m in survivor.vulnerability_markers}
    added = [m for m in merged.vulnerability_markers if m.code not in present]
    survivor.vulnerability_markers = [*survivor.vulnerability_markers, *added]
    merged.vulnerability_markers = []
    links = db.session.scalars(db.select(PersonLinkRequest).where(PersonLinkRequest.person_id == merged.id)).all()
    for link in links:
        link.person_id = survivor.id
    db.session.flush()
    return {"casos": [c.id for c in cases], "teléfonos": [p.id for p in phones],
            "marcadores": sorted(m.code for m in added), "vínculos": [link.id for link in links]}


def _case_ids(person: Person) -> list[int]:
    return db.session.scalars(db.select(Case.id).where(Case.person_id == person.id).order_by(Case.id)).all()


# --- undo -----------------------------------------------------------------------------------------------------

def undo(user, record: PersonMerge, reason_text, now) -> PersonMerge:
    """Put both persons back as they were before `record` (administrators only). Refused when the merge was
    undone already, when either person was merged again since (undo that one first), when a moved case no
    longer belongs to the survivor, or when a DNI/passport of the snapshot now belongs to a third person.
    Cases opened for the survivor after the merge stay with it; the survivor's state just before the undo is
    kept in the record (encrypted)."""
    if not policy.is_admin(user):
        raise NotAllowed(_("Solo un administrador puede deshacer una fusión."))
    if record.undone_at is not None:
        raise DomainError(_("Esta fusión ya se deshizo. No se guardó nada."))
    survivor, merged = db.session.get(Person, record.survivor_id), db.session.get(Person, record.merged_id)
    later = db.session.scalar(db.select(PersonMerge.id).where(
        PersonMerge.id > record.id, PersonMerge.undone_at.is_(None),
        or_(PersonMerge.survivor_id.in_((survivor.id, merged.id)), PersonMerge.merged_id.in_((survivor.id, merged.id))))
        .order_by(PersonMerge.id).limit(1))
    if later is not None or survivor.merged_into_id is not None or merged.merged_into_id != survivor.id:
        raise DomainError(_("Una de las dos personas se fusionó de nuevo después de esta fusión: deshaga primero la "
                            "fusión posterior. No se guardó nada."))
    moved = record.moved
    cases = db.session.scalars(db.select(Case).where(Case.id.in_(moved.get("casos", [])))).all()
    if len(cases) != len(moved.get("casos", [])) or any(c.person_id != survivor.id for c in cases):
        raise DomainError(_("Un caso de esta fusión ya no pertenece a la persona resultante: no se puede deshacer "
                            "automáticamente. No se guardó nada."))
    reason = _reason(reason_text)
    kept = json.loads(record.snapshot)
    old_survivor, old_merged = kept["survivor"], kept["merged"]
    for value, column in ((old_survivor["dni"], Person.dni_hash), (old_merged["dni"], Person.dni_hash)):
        holder = db.session.scalar(db.select(Person.id).where(column == crypto.search_hash(value))) if value else None
        if holder is not None and holder not in (survivor.id, merged.id):
            raise DomainError(_("El DNI de una de las dos personas pertenece ahora a la persona n.º %(id)d: no se "
                                "puede deshacer. No se guardó nada.", id=holder))
    kept["before_undo"] = snapshot(survivor)
    _claim(survivor, merged, now, undoing=True)
    survivor.dni = None  # frees the DNI the survivor took from the merged person
    db.session.flush()
    _restore(survivor, old_survivor, now)
    db.session.flush()
    _restore(merged, old_merged, now)
    merged.merged_into_id = None
    for case in cases:
        case.person, case.updated_at = merged, now
    moved_phones = set(moved.get("teléfonos", []))
    for phone in [p for p in survivor.phones if p.id in moved_phones]:
        survivor.phones.remove(phone)
        merged.phones.append(phone)
    added = set(moved.get("marcadores", []))
    survivor.vulnerability_markers = [m for m in survivor.vulnerability_markers if m.code not in added]
    merged.vulnerability_markers = _markers(old_merged["markers"])
    for link in db.session.scalars(db.select(PersonLinkRequest).where(
            PersonLinkRequest.id.in_(moved.get("vínculos", [])), PersonLinkRequest.person_id == survivor.id)):
        link.person_id = merged.id
    record.undone_at, record.undone_by_id, record.undo_reason = now, user.id, reason
    record.snapshot = json.dumps(kept, ensure_ascii=False, default=str)
    db.session.flush()
    title = _("Fusión de personas deshecha (persona n.º %(m)d separada de n.º %(s)d)", m=merged.id, s=survivor.id)
    for case_id in [*_case_ids(survivor), *_case_ids(merged)]:
        record_event(case_id, "person_merge_undone", title, user.id, now)
    audit.record("person_merge_undone", object_type="person", object_id=survivor.id, actor=user,
                 details={"fusión": record.id, "separada": merged.id, "casos": [c.id for c in cases]})
    return record


def _restore(person: Person, values: dict, now) -> None:
    for attr in ATTRIBUTES:
        value = values.get(attr)
        if attr == "birth_date" and value:
            value = date.fromisoformat(value)
        setattr(person, attr, value)
    refresh_search_keys(person)
    person.updated_at = now


def _markers(codes) -> list[VulnerabilityMarker]:
    return db.session.scalars(db.select(VulnerabilityMarker).where(VulnerabilityMarker.code.in_(codes))).all()


def merges_of(person: Person) -> list[PersonMerge]:
    """The merges into this person, newest first (the person page's history)."""
    return db.session.scalars(db.select(PersonMerge).where(PersonMerge.survivor_id == person.id)
                              .order_by(PersonMerge.merged_at.desc(), PersonMerge.id.desc())).all()

