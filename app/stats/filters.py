"""Dashboard, report and export filters from the query string: validated, scoped to the user, explained in Spanish.

A bad value never fails the page: it is ignored, its default used, and the page says so (HTTP 400, like the inbox).
"""
from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from ..cases.models import SEXES
from ..core import clock
from ..core.ids import parse_id
from ..extensions import db
from ..reference.models import CaseCategory, Department, Office
from .facts import AGE_BANDS
from .indicators import Filters

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_MONTHS = 240


def today_for(user) -> date:
    office = getattr(user, "office", None)
    return clock.now().astimezone(ZoneInfo(office.timezone if office else "America/Tegucigalpa")).date()


def _month(value: str | None):
    match = MONTH.match(value or "")
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return year, month


def scope_offices(user) -> tuple[int, ...] | None:
    """None for central users (every office); the user's own office otherwise."""
    return None if user.is_central else (user.office_id,)


def _period(user, args, default_months: int, problems: list, clean: dict) -> tuple[date, date]:
    today = today_for(user)
    end_month = (today.year, today.month)
    if args.get("hasta"):
        parsed = _month(args.get("hasta"))
        if parsed is None:
            problems.append(_("El mes final «%(v)s» no es válido (use AAAA-MM).", v=args.get("hasta")))
        else:
            end_month = parsed
    start_month = _shift(end_month, -(default_months - 1))
    if args.get("desde"):
        parsed = _month(args.get("desde"))
        if parsed is None:
            problems.append(_("El mes inicial «%(v)s» no es válido (use AAAA-MM).", v=args.get("desde")))
        else:
            start_month = parsed
    if start_month > end_month:
        problems.append(_("El mes inicial es posterior al final: se muestran los 12 meses hasta el final."))
        start_month = _shift(end_month, -(default_months - 1))
    if _span(start_month, end_month) > MAX_MONTHS:
        problems.append(_("El periodo no puede pasar de %(n)d meses.", n=MAX_MONTHS))
        start_month = _shift(end_month, -(MAX_MONTHS - 1))
    start = date(start_month[0], start_month[1], 1)
    end = date(end_month[0], end_month[1], monthrange(*end_month)[1])
    end = min(end, today) if end >= today >= start else end  # the current month: up to today
    clean["desde"], clean["hasta"] = f"{start_month[0]}-{start_month[1]:02d}", f"{end_month[0]}-{end_month[1]:02d}"
    return start, end


def parse(user, args, default_months: int = 12) -> tuple[Filters, list[str], dict]:
    """(filters, problems, the cleaned arguments to rebuild links)."""
    problems, clean = [], {}
    start, end = _period(user, args, default_months, problems, clean)
    filters = Filters(start=start, end=end, office_ids=scope_offices(user))
    office = args.get("oficina")
    if office:
        office_id = parse_id(office)  # ASCII digits that fit the column: never an OverflowError
        if office_id is None or db.session.get(Office, office_id) is None:
            problems.append(_("La oficina elegida no existe."))
        elif filters.office_ids is not None and office_id not in filters.office_ids:
            problems.append(_("Solo puede ver las cifras de su oficina."))
        else:
            filters.office_ids, clean["oficina"] = (office_id,), str(office_id)
    category = args.get("categoria")
    if category:
        if db.session.get(CaseCategory, category) is None:
            problems.append(_("La categoría «%(v)s» no existe.", v=category))
        else:
            filters.category = clean["categoria"] = category
    sex = args.get("sexo")
    if sex:
        if sex not in SEXES:
            problems.append(_("El sexo elegido no es válido."))
        else:
            filters.sex = clean["sexo"] = sex
    band = args.get("edad")
    if band:
        if not (band.isascii() and band.isdigit() and len(band) <= 3) or int(band) not in AGE_BANDS:
            problems.append(_("El grupo de edad elegido no es válido."))
        else:
            filters.age_band, clean["edad"] = int(band), band
    department = args.get("departamento")
    if department:
        if db.session.get(Department, department) is None:
            problems.append(_("El departamento elegido no existe."))
        else:
            filters.department = clean["departamento"] = department
    return filters, problems, clean


def parse_month_report(user, args) -> tuple[Filters, list[str], dict]:
    """The monthly report: one month (`mes`, default the previous one) and one office."""
    today = today_for(user)
    previous = _shift((today.year, today.month), -1)
    problems = []
    month = previous
    if args.get("mes"):
        parsed = _month(args.get("mes"))
        if parsed is None:
            problems.append(_("El mes «%(v)s» no es válido (use AAAA-MM).", v=args.get("mes")))
        else:
            month = parsed
    text = f"{month[0]}-{month[1]:02d}"
    wanted = {"desde": text, "hasta": text}
    if args.get("oficina"):
        wanted["oficina"] = args.get("oficina")
    filters, more, clean = parse(user, wanted)
    clean["mes"] = text
    return filters, problems + more, clean


def _shift(month: tuple[int, int], delta: int) -> tuple[int, int]:
    index = month[0] * 12 + (month[1] - 1) + delta
    return index // 12, index % 12 + 1


def _span(start: tuple[int, int], end: tuple[int, int]) -> int:
    return (end[0] * 12 + end[1]) - (start[0] * 12 + start[1]) + 1


def choices(user) -> dict:
    offices = [] if not user.is_central else db.session.execute(
        db.select(Office.id, Office.name).where(Office.is_active.is_(True)).order_by(Office.name)).all()
    return {
        "offices": offices,
        "categories": db.session.execute(db.select(CaseCategory.code, CaseCategory.name)
                                         .order_by(CaseCategory.name)).all(),
        "sexes": [(code, str(label)) for code, label in SEXES.items()],
        "age_bands": [(str(code), label) for code, (label, _lo, _hi) in AGE_BANDS.items()],
    }


def stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M")
