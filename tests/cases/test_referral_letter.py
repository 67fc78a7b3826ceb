"""The referral letter (oficio de remisión) as PDF: what it shows, what it never shows, and that hostile text
renders as text without any fetch."""
from datetime import date

import pytest

from app.cases.letter import referral_letter
from app.cases.models import PersonPhone, Referral
from app.core import pdf
from app.extensions import db
from app.reference.models import Institution, Office
from tests.helpers import build_case, flat, pdf_text, utc

NOW = utc(2026, 12, 5, 3)  # 21:00 on 4 December in Tapachula (America/Mexico_City)
DNI = "0501198802231"
PASSPORT = "G1234567"
PHONE = "+52 962 123 4567"
SERVICE = "Retorno asistido a Honduras"
SUMMARY = "Hechos reservados del caso"


@pytest.fixture
def referral(app, users):
    """A TAP case of José Ángel Hernández Núñez with consent to share, referred to INM-MX by oficial.tap."""
    tap = db.session.scalar(db.select(Office).where(Office.code == "TAP"))
    case = build_case(1, tap, "RET", "M", None, utc(2026, 11, 20, 15))
    person = case.person
    person.given_names, person.first_surname, person.second_surname = "José Ángel", "Hernández", "Núñez"
    person.birth_date = date(1988, 7, 30)
    person.dni, person.passport_number = DNI, PASSPORT
    person.address_abroad = "Calle Secreta 123"
    person.family_contact_name, person.family_contact_phone = "Familiar Reservado", "+504 9999 8888"
    person.phones.append(PersonPhone(number=PHONE, digits="529621234567", label="móvil"))
    case.summary = SUMMARY
    case.risk_level = "critico"
    case.consent_to_share, case.consent_given_by = True, "La persona"
    case.consent_given_at = utc(2026, 11, 20, 16)
    row = Referral(case_id=case.id, institution_code="INM-MX", service_requested=SERVICE,
                   sent_at=date(2026, 12, 4), created_by_id=users["oficial.tap"].id,
                   deadline_at=utc(2026, 12, 12, 5))
    db.session.add(row)
    db.session.commit()
    return row


def test_letter_is_a_pdf_with_the_referral(referral, users):
    data = referral_letter(referral, NOW)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    institution = db.session.scalar(db.select(Institution).where(Institution.code == "INM-MX"))
    assert institution.name in text
    for expected in (referral.case.number, f"{referral.case.number}-R{referral.id}", SERVICE,
                     "José Ángel Hernández Núñez", users["oficial.tap"].full_name, "Oficial consular",
                     "Consulado General en Tapachula", "República de Honduras", "Tapachula, México",
                     "11 de diciembre de 2026"):  # the deadline: 05:00 UTC on the 12th is 23:00 on the 11th there
        assert flat(expected) in flat(text), expected


def test_letter_never_shows_the_case_file(referral, users):
    other = Referral(case_id=referral.case_id, institution_code="OFAMIR", service_requested="Otra remisión privada",
                     sent_at=date(2026, 12, 1))
    db.session.add(other)
    db.session.commit()
    text = flat(pdf_text(referral_letter(referral, NOW)))
    for secret in (SUMMARY, "Calle Secreta", "Familiar Reservado", "9999 8888", "Otra remisión privada",
                   "Crítico", users["oficial.tap"].email or "@", "OFAMIR"):
        assert flat(secret) not in text, secret


def test_with_consent_the_documents_and_phones_are_shown(referral):
    text = flat(pdf_text(referral_letter(referral, NOW)))
    assert "0501-1988-02231" in text
    assert PASSPORT in text
    assert flat(PHONE) in text
    assert flat("consintió compartir sus datos con esta institución") in text
    assert flat("20 de noviembre de 2026") in text  # the day consent was given


def test_without_consent_but_override_only_name_and_birth_date(referral, users):
    case = referral.case
    case.consent_to_share, case.consent_given_at, case.consent_given_by = False, None, None
    case.consent_override_at, case.consent_override_by_id = utc(2026, 12, 3, 18), users["consul.tap"].id
    case.consent_override_reason = "Motivo reservado de la supervisión"
    db.session.commit()
    text = flat(pdf_text(referral_letter(referral, NOW)))
    assert flat("José Ángel Hernández Núñez") in text
    assert flat("30 de julio de 1988") in text
    for hidden in ("0501-1988-02231", DNI, PASSPORT, flat(PHONE), "Motivo reservado", "consintió", "Hombre"):
        assert hidden not in text, hidden
    assert flat("Remisión autorizada sin consentimiento de la persona por un supervisor, por motivo de "
                "protección") in text


def test_neither_consent_nor_override_refused(referral):
    from app.core.errors import DomainError

    referral.case.consent_to_share = False
    db.session.commit()
    with pytest.raises(DomainError):
        referral_letter(referral, NOW)


def test_hostile_service_text_renders_as_text_without_fetching(referral, pdf_fetches):
    fetched, connections = pdf_fetches
    word = "Q" * 5000  # a letter the rest of the letter does not use
    referral.service_requested = f'<img src="http://127.0.0.1:9/x"> <b>negrita</b> {word}'
    referral.institution.name = "<script>x</script>" + "I" * 230  # the column holds 250
    db.session.commit()
    data = referral_letter(referral, NOW)
    assert data.startswith(b"%PDF-")
    raw = pdf_text(data)
    text = flat(raw)
    assert flat('<img src="http://127.0.0.1:9/x">') in text
    assert "<b>negrita</b>" in text
    assert "<script>x</script>" in text
    assert raw.count("Q") == 5000  # nothing cut...
    assert max(len(line) for line in raw.splitlines()) < 150  # ...and wrapped inside the page (overflow-wrap)
    assert fetched == [] and connections == []


def test_refuse_url_refuses_everything():
    for url in ("http://127.0.0.1:9/x", "file:///etc/passwd", "data:image/png;base64,AAAA"):
        with pytest.raises(ValueError):
            pdf.refuse_url(url)


def test_date_is_written_in_spanish_in_the_office_timezone(referral):
    text = pdf_text(referral_letter(referral, NOW))
    assert flat("Tapachula, México, 4 de diciembre de 2026") in flat(text)
    assert "December" not in text and "5 de diciembre" not in text
    assert "2026-12-04" not in text and "04/12/2026" not in text


def test_signer_missing_reads_oficial_consular(referral, users):
    referral.created_by_id = None
    db.session.commit()
    text = flat(pdf_text(referral_letter(referral, NOW)))
    assert "Oficialconsular" in text
    assert flat(users["oficial.tap"].full_name) not in text
