"""An institution's focal point: who receives its referrals (name, e-mail, phone) and its usual answer deadline.

Plain checks shared by the admin form and the reference-data loader. The `email_validator` package is not
installed, so the e-mail check is a strict, simple one: ASCII only, one '@', a dot-atom local part of at most
64 characters and a domain of at least two DNS labels ending in a letters-only top-level label.
"""
import re

from ..core.text import strip_controls

NAME_MAX = 200
EMAIL_MAX = 254
PHONE_MAX = 40
DAYS_MIN, DAYS_MAX = 1, 60
FIELDS = ("focal_name", "focal_email", "focal_phone", "response_days")

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
_PHONE = re.compile(r"[0-9 +\-()]+")
_DAYS = re.compile(r"[0-9]{1,3}")


def clean_name(value):
    """The name without control or format characters (bidi overrides, NUL...), single-spaced."""
    if not isinstance(value, str):
        return value
    return " ".join(strip_controls(value, keep="").split())


def clean_email(value):
    return value.strip() if isinstance(value, str) else value


def clean_phone(value):
    return " ".join(value.split()) if isinstance(value, str) else value


def email_ok(value: str) -> bool:
    match = _EMAIL.fullmatch(value)
    return bool(match) and len(value) <= EMAIL_MAX and len(match["local"]) <= 64


def phone_ok(value: str) -> bool:
    """Digits, spaces, '+', '-' and parentheses, at least one digit, at most 40 characters."""
    return len(value) <= PHONE_MAX and bool(_PHONE.fullmatch(value)) and any(ch.isdigit() for ch in value)


def parse_days(value) -> int | None:
    """Whole days 1..60 as an int; None for empty; ValueError for anything else."""
    if value is None or isinstance(value, int):
        days = value
    else:
        text = str(value).strip()
        if not text:
            return None
        if not _DAYS.fullmatch(text):
            raise ValueError(text)
        days = int(text)
    if days is not None and not DAYS_MIN <= days <= DAYS_MAX:
        raise ValueError(str(days))
    return days


def from_csv(row: dict, where: str) -> dict:
    """The focal-point columns of one institutions.csv row (all optional: a missing or empty cell is None).

    A malformed value stops the load with a ValueError naming the row, rather than storing it.
    """
    name = clean_name(row.get("focal_name") or "") or None
    email = clean_email(row.get("focal_email") or "") or None
    phone = clean_phone(row.get("focal_phone") or "") or None
    if name is not None and len(name) > NAME_MAX:
        raise ValueError(f"{where}: focal_name longer than {NAME_MAX} characters")
    if email is not None and not email_ok(email):
        raise ValueError(f"{where}: focal_email {email!r} is not a valid e-mail address")
    if phone is not None and not phone_ok(phone):
        raise ValueError(f"{where}: focal_phone {phone!r} is not a valid phone number")
    try:
        days = parse_days(row.get("response_days"))
    except ValueError:
        raise ValueError(f"{where}: response_days must be a whole number from {DAYS_MIN} to {DAYS_MAX}") from None
    return {"focal_name": name, "focal_email": email, "focal_phone": phone, "response_days": days}
