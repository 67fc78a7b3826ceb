"""Find cases by case number, DNI (any format), passport, phone or name (accent- and case-insensitive)."""
import re

from sqlalchemy import and_, or_

from ..core import crypto
from ..core.text import normalize
from ..extensions import db
from .identity import phone_search_digits
from .models import Case, Person, PersonPhone
from .services import cases_in_scope

MAX_RESULTS = 50
_CASE_NUMBER = re.compile(r"^([A-Za-z][A-Za-z-]*)-(\d{4})-(\d{1,5})$")
_DNI = re.compile(r"^\d{4}-?\d{4}-?\d{5}$")
_PASSPORT = re.compile(r"^[A-Za-z0-9]{6,12}$")


def search_cases(user, query: str) -> list[Case]:
    """Cases in the user's scope matching the query, newest first; empty for an empty query."""
    query = (query or "").strip()[:100]
    if len(query) < 2:
        return []
    condition = _condition(query)
    if condition is None:
        return []
    select = (cases_in_scope(user).join(Person, Case.person_id == Person.id).where(condition)
              .limit(MAX_RESULTS))
    return db.session.scalars(select).unique().all()


def query_kinds(query: str) -> list[str]:
    """What a query was matched as, for the audit trail: "numero", "dni", "pasaporte", "telefono", "nombre"
    (several when ambiguous; empty when too short). The query itself is never recorded."""
    query = (query or "").strip()[:100]
    if len(query) < 2:
        return []
    kinds = []
    if _CASE_NUMBER.match(query):
        kinds.append("numero")
    if _DNI.match(query):
        kinds.append("dni")
    if _PASSPORT.match(query) and any(ch.isdigit() for ch in query):
        kinds.append("pasaporte")
    if phone_search_digits(query):
        kinds.append("telefono")
    if any(len(t) >= 2 and not t.isdigit() for t in normalize(re.sub(r"[^\w\s]", " ", query)).split()):
        kinds.append("nombre")
    return kinds


def _condition(query):
    options = []
    number = _CASE_NUMBER.match(query)
    if number:
        prefix, year, serial = number.groups()
        options.append(Case.number == f"{prefix.upper()}-{year}-{int(serial):05d}")
    if _DNI.match(query):
        options.append(Person.dni_hash == crypto.search_hash(query.replace("-", "")))
    if _PASSPORT.match(query) and any(ch.isdigit() for ch in query):
        options.append(Person.passport_hash == crypto.search_hash(query.upper()))
    digits = phone_search_digits(query)
    if digits:
        phones = db.select(PersonPhone.person_id).where(PersonPhone.digits.like(f"%{digits}"))
        options.append(Person.id.in_(phones))
    tokens = [t for t in normalize(re.sub(r"[^\w\s]", " ", query)).split() if len(t) >= 2 and not t.isdigit()]
    if tokens:
        options.append(and_(*[Person.search_text.like(f"%{_escape(t)}%", escape="\\") for t in tokens]))
    return or_(*options) if options else None


def _escape(token):
    return token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
