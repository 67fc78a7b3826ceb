"""The referral letter (oficio de remisión): one referral as a PDF for the partner institution.

The PDF leaves the system, so it carries only what the institution needs (need-to-know): with the person's
consent to share, the identity, document and phones; with a supervisor's override instead, the name and date
of birth only. Never the facts of the case, notes, risk level, other referrals or cases, family addresses or
internal e-mails. The template is autoescaped and WeasyPrint fetches nothing: every URL is refused.
"""
from zoneinfo import ZoneInfo

from flask import render_template
from flask_babel import format_date
from flask_babel import gettext as _

from ..auth.models import User
from ..core import clock, pdf
from ..core.errors import DomainError
from ..extensions import db
from ..reference.places import country_name
from .models import CONSENT_SHARING, CaseConsent

TEMPLATE = "cases/referral_letter.html"
DEFAULT_TIMEZONE = "America/Tegucigalpa"


def _zone(office) -> ZoneInfo:
    return ZoneInfo(getattr(office, "timezone", None) or DEFAULT_TIMEZONE)


def spanish_date(value, zone: ZoneInfo) -> str:
    """«4 de diciembre de 2026»: a UTC datetime on the office's calendar (a date as it is)."""
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = clock.as_utc(value).astimezone(zone).date()
    return format_date(value, "long")


def _consent_day(case, zone):
    given_at = case.consent_given_at
    if given_at is None:  # the named purpose's row, when the case's own field was not filled
        given_at = db.session.scalar(db.select(CaseConsent.recorded_at).where(
            CaseConsent.case_id == case.id, CaseConsent.purpose == CONSENT_SHARING, CaseConsent.given.is_(True)))
    return spanish_date(given_at, zone) if given_at is not None else None


def _person_rows(person, full: bool, zone, today) -> list[tuple[str, str]]:
    """(label, value) of the person, as much as the institution may see."""
    rows = [(_("Nombre completo"), person.full_name)]
    if person.birth_date:
        born = format_date(person.birth_date, "long")
        if person.birth_date_estimated:
            born = _("%(date)s (estimada)", date=born)
        rows.append((_("Fecha de nacimiento"), born))
    elif person.estimated_age is not None:
        rows.append((_("Edad"), _("%(n)d años (estimada)", n=person.estimated_age)))
    if not full:
        return rows
    if person.birth_date:
        age = person.age_on(today)
        if age is not None:
            rows.append((_("Edad"), _("%(n)d años", n=age)))
    rows.append((_("Sexo"), person.sex_label))
    if person.dni:
        rows.append((_("Documento nacional de identificación (DNI)"), person.dni_display))
    if person.passport_number:
        rows.append((_("Pasaporte"), person.passport_number))
    phones = [f"{p.number} ({p.label})" if p.label else p.number for p in person.phones]
    if phones:
        rows.append((_("Teléfonos"), ", ".join(phones)))
    return rows


def _signer(referral) -> tuple[str | None, str]:
    user = db.session.get(User, referral.created_by_id) if referral.created_by_id is not None else None
    if user is None:
        return None, _("Oficial consular")
    return user.full_name, user.role_label


def shared_with_institution(referral, now) -> tuple[list[tuple[str, str]], str]:
    """(person rows, consent statement): what the institution sees of the person, in the letter and on the page
    its link opens."""
    case = referral.case
    zone = _zone(case.office)
    full, consent = _consent(case, zone)
    return _person_rows(case.person, full, zone, clock.as_utc(now).astimezone(zone).date()), consent


def _consent(case, zone) -> tuple[bool, str]:
    if case.consent_to_share:
        full = True
        consent = _("La persona (o su representante) consintió compartir sus datos con esta institución para la "
                    "atención del caso el %(date)s.", date=_consent_day(case, zone) or "—")
    elif case.consent_override_at is not None:
        full = False
        consent = _("Remisión autorizada sin consentimiento de la persona por un supervisor, por motivo de "
                    "protección.")
    else:
        raise DomainError(_("El caso no tiene el consentimiento de la persona ni la autorización de un supervisor "
                            "para compartir sus datos."))
    return full, consent


def referral_letter(referral, now) -> bytes:
    """The oficio de remisión of one referral as PDF bytes."""
    case = referral.case
    office, institution = case.office, referral.institution
    zone = _zone(office)
    person_rows, consent = shared_with_institution(referral, now)
    today = clock.as_utc(now).astimezone(zone).date()
    signer_name, signer_role = _signer(referral)
    html = render_template(
        TEMPLATE,
        office_name=office.name,
        place=", ".join(p for p in (office.city, country_name(office.country)) if p),
        letter_date=format_date(today, "long"),
        letter_number=f"{case.number}-R{referral.id}",
        institution_name=institution.name,
        focal_name=getattr(institution, "focal_name", None),
        case_number=case.number,
        person_rows=person_rows,
        service_requested=referral.service_requested,
        deadline=spanish_date(referral.deadline_at, zone) or None,
        consent_statement=consent,
        signer_name=signer_name,
        signer_role=signer_role,
    )
    return pdf.html_to_pdf(html)
