"""DNI, passport and phone validation."""
import pytest

from app.cases.identity import format_dni, normalize_passport, normalize_phone, parse_dni, phone_search_digits
from app.core.errors import DomainError


def known(code):
    return code in {"0801", "0501"}


@pytest.mark.parametrize("typed", ["0801199012345", "0801-1990-12345", " 0801-1990-12345 "])
def test_dni_accepts_both_forms(app, typed):
    dni = parse_dni(typed, known)
    assert dni.digits == "0801199012345" and dni.display == "0801-1990-12345" and dni.warnings == []


@pytest.mark.parametrize("typed,message", [
    ("080119901234", "13 dígitos"),
    ("08011990123456", "13 dígitos"),
    ("0801-1990-1234X", "13 dígitos"),
    ("08-01-1990-12345", "13 dígitos"),
    ("1901199012345", "departamento inexistente (19)"),
    ("0001199012345", "departamento inexistente (00)"),
    ("0801189912345", "año de inscripción"),
    ("0801209912345", "año de inscripción"),
])
def test_dni_refuses_malformed(app, typed, message):
    with pytest.raises(DomainError) as refused:
        parse_dni(typed, known)
    assert message in refused.value.message and "dni" in refused.value.field_errors


def test_dni_unknown_municipality_warns_without_refusing(app):
    dni = parse_dni("0899-1990-12345", known)
    assert dni.digits == "0899199012345"
    assert "0899" in dni.warnings[0]


def test_empty_dni_is_none(app):
    assert parse_dni("", known) is None and format_dni(None) is None


def test_passport(app):
    assert normalize_passport(" e1234567 ") == "E1234567"
    with pytest.raises(DomainError):
        normalize_passport("12345")
    with pytest.raises(DomainError):
        normalize_passport("AB-12345-ÑÑ")


def test_phones_are_normalized_for_search(app):
    assert normalize_phone("9988 7766", "HN") == ("+504 9988-7766", "50499887766")
    assert normalize_phone("+52 962 123 4567", "HN")[1] == "529621234567"
    assert phone_search_digits("9988 7766") == "99887766" and phone_search_digits("Hernández") is None
    with pytest.raises(DomainError):
        normalize_phone("12", "HN")
