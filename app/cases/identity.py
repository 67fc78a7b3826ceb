"""Honduran identity data: DNI, passport and phone numbers, validated and normalized."""
import re
from dataclasses import dataclass, field

import phonenumbers
from flask_babel import gettext as _

from ..core import clock
from ..core.errors import DomainError
from ..formschema.compiler import field_check

_DNI_INPUT = re.compile(r"^(\d{13}|\d{4}-\d{4}-\d{5})$")
_PASSPORT = re.compile(r"^[A-Z0-9]{6,12}$")


@dataclass
class Dni:
    digits: str
    warnings: list[str] = field(default_factory=list)

    @property
    def display(self) -> str:
        return format_dni(self.digits)


def format_dni(digits: str | None) -> str | None:
    """0801199012345 -> 0801-1990-12345."""
    if digits and len(digits) == 13:
        return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"
    return digits


def parse_dni(value: str | None, municipality_exists) -> Dni | None:
    """Validate a DNI typed as 0801199012345 or 0801-1990-12345; None when empty.

    Refuses anything that is not 13 digits, a department outside 01-18 or a registration year outside
    1900..this year; an unknown municipality code only warns (the catalogue may lag behind the RNP).
    """
    text = (value or "").strip()
    if not text:
        return None
    if not _DNI_INPUT.match(text):
        raise _dni_error(_("El DNI debe tener 13 dígitos, con o sin guiones: 0801-1990-12345."))
    digits = text.replace("-", "")
    department, year = int(digits[:2]), int(digits[4:8])
    if not 1 <= department <= 18:
        raise _dni_error(_("El DNI empieza por un departamento inexistente (%(d)s); debe ser de 01 a 18.",
                           d=digits[:2]))
    if not 1900 <= year <= clock.now().year:
        raise _dni_error(_("El año de inscripción del DNI (%(y)s) no es válido.", y=digits[4:8]))
    dni = Dni(digits)
    if not municipality_exists(digits[:4]):
        dni.warnings.append(_("El código de municipio %(m)s del DNI no está en el catálogo; revise el número.",
                              m=digits[:4]))
    return dni


def _dni_error(message):
    return DomainError(message, {"dni": message})


def normalize_passport(value: str | None) -> str | None:
    """Passport numbers have no published format: uppercase letters and digits, 6 to 12 characters."""
    text = re.sub(r"[\s-]", "", value or "").upper()
    if not text:
        return None
    if not _PASSPORT.match(text):
        message = _("El número de pasaporte debe tener de 6 a 12 letras o dígitos.")
        raise DomainError(message, {"pasaporte": message})
    return text


def normalize_phone(value: str | None, region: str | None = "HN") -> tuple[str, str] | None:
    """(shown number, digits for search) of a phone; international format when phonenumbers can parse it.

    A number without country code is tried as a number of the office's country, then of Honduras.
    """
    text = (value or "").strip()
    if not text:
        return None
    parsed = [_parse(text, r) for r in dict.fromkeys((region or "HN", "HN"))]
    parsed = [p for p in parsed if p is not None]
    chosen = next((p for p in parsed if phonenumbers.is_valid_number(p)), None) or \
        next((p for p in parsed if phonenumbers.is_possible_number(p)), None)
    if chosen is not None:
        e164 = phonenumbers.format_number(chosen, phonenumbers.PhoneNumberFormat.E164)
        shown = phonenumbers.format_number(chosen, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return shown, e164.lstrip("+")
    digits = re.sub(r"\D", "", text)
    if not 6 <= len(digits) <= 15:
        raise DomainError(_("El teléfono «%(p)s» no es válido.", p=text), {"telefono": _("Teléfono no válido.")})
    return text, digits


def _parse(text, region):
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def phone_search_digits(query: str) -> str | None:
    """Digits to match phone numbers by their ending; None when the query is not a phone number."""
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 7 and re.fullmatch(r"[\d\s()+.-]+", query.strip()):
        return digits
    return None


@field_check("dni")
def check_dni(value) -> str | None:
    """Form-level DNI check (format, department, year); the unknown-municipality warning comes on save."""
    try:
        parse_dni(value, lambda _code: True)
    except DomainError as exc:
        return exc.message
    return None


@field_check("pasaporte")
def check_passport(value) -> str | None:
    try:
        normalize_passport(value)
    except DomainError as exc:
        return exc.message
    return None


@field_check("telefono")
def check_phone(value) -> str | None:
    try:
        normalize_phone(value)
    except DomainError:
        return _("El teléfono no es válido.")
    return None
