"""Load the reference catalogues from CSV and offer them as choices to forms."""
import csv
import functools
import gettext
from pathlib import Path

import pycountry

from ..core.text import normalize
from ..extensions import db
from . import focal, places
from .models import (
    CaseCategory,
    Department,
    Institution,
    LegalArea,
    Municipality,
    Office,
    VulnerabilityMarker,
)


def _rows(directory, name):
    with open(Path(directory) / name, newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def load_reference(directory) -> dict[str, int]:
    """Insert catalogue rows that are missing; rows already present (perhaps edited) are kept as they are.

    That includes institutions' focal points (focal_name, focal_email, focal_phone, response_days): the CSV
    values, when given, only fill an institution being inserted; administrators maintain them afterwards.
    """
    added = {}

    def add_missing(model, key_attr, rows, build):
        existing = set(db.session.scalars(db.select(getattr(model, key_attr))))
        new = [build(row) for row in rows]
        new = [obj for obj in new if getattr(obj, key_attr) not in existing]
        db.session.add_all(new)
        db.session.flush()
        added[model.__tablename__] = len(new)

    municipalities = list(_rows(directory, "honduras_municipalities.csv"))
    departments = {r["department_code"]: r["department_name"] for r in municipalities}
    add_missing(Department, "code", departments.items(), lambda kv: Department(code=kv[0], name=kv[1]))
    add_missing(
        Municipality,
        "code",
        municipalities,
        lambda r: Municipality(
            code=r["municipality_code"], department_code=r["department_code"], name=r["municipality_name"]
        ),
    )
    add_missing(
        Office,
        "code",
        _rows(directory, "offices.csv"),
        lambda r: Office(
            code=r["code"],
            name=r["name"],
            kind=r["kind"],
            country=r["country"],
            state_or_department=r["state_or_department"] or None,
            city=r["city"] or None,
            timezone=r["timezone"],
            confidence=r["confidence"] or None,
        ),
    )
    # The focal-point columns are optional and only seed institutions that are missing: an institution already in
    # the database keeps what administrators entered (or cleared) in the catalogue page, whatever the CSV says.
    add_missing(
        Institution,
        "code",
        _rows(directory, "institutions.csv"),
        lambda r: Institution(
            code=r["code"],
            name=r["name"],
            short_name=r["short_name"],
            country=r["country"],
            kind=r["kind"],
            categories=r["categories"],
            **focal.from_csv(r, f"institutions.csv, {r['code']}"),
        ),
    )
    add_missing(
        CaseCategory,
        "code",
        _rows(directory, "case_categories.csv"),
        lambda r: CaseCategory(
            code=r["code"],
            name=r["name_es"],
            name_en=r["name_en"],
            typical_subtypes=r["typical_subtypes"],
            typical_referrals=r["typical_referrals"],
        ),
    )
    for model, name in ((LegalArea, "legal_areas.csv"), (VulnerabilityMarker, "vulnerability_markers.csv")):
        add_missing(
            model,
            "code",
            _rows(directory, name),
            lambda r, model=model: model(code=r["code"], name=r["name_es"], name_en=r["name_en"]),
        )
    return added


def _municipality_choices():
    rows = db.session.execute(
        db.select(Municipality.code, Municipality.name, Department.name)
        .join(Department)
        .where(Municipality.is_active, Department.is_active)
        .order_by(Department.code, Municipality.name)
    )
    return [(code, f"{name} ({dept})") for code, name, dept in rows]


@functools.cache
def _country_choices():
    """ISO 3166-1 countries named in Spanish (pycountry's translations); the network's countries first."""
    spanish = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"], fallback=True)
    names = {c.alpha_2: spanish.gettext(c.name) for c in pycountry.countries}
    first = ("MX", "US", "GT", "ES", "HN")
    rest = sorted((code for code in names if code not in first), key=lambda code: normalize(names[code]))
    return [(code, names[code]) for code in (*first, *rest)]


def country_name(code: str | None) -> str:
    return dict(_country_choices()).get(code or "", code or "")


OPTION_SOURCES = {
    "case_categories": lambda: list(
        db.session.execute(
            db.select(CaseCategory.code, CaseCategory.name)
            .where(CaseCategory.is_active)
            .order_by(CaseCategory.name)
        )
    ),
    "institutions": lambda: [
        (code, f"{short} — {name}" if short != name else name)
        for code, short, name in db.session.execute(
            db.select(Institution.code, Institution.short_name, Institution.name)
            .where(Institution.is_active)
            .order_by(Institution.short_name)
        )
    ],
    "municipalities": _municipality_choices,
    "countries": places.country_choices,
    "subdivisions": places.subdivision_choices,
    "offices": lambda: [(str(i), f"{code} — {name}") for i, code, name in db.session.execute(
        db.select(Office.id, Office.code, Office.name).where(Office.is_active).order_by(Office.code))],
    "departments": lambda: list(db.session.execute(
        db.select(Department.code, Department.name).where(Department.is_active).order_by(Department.name))),
    "legal_areas": lambda: list(db.session.execute(
        db.select(LegalArea.code, LegalArea.name).where(LegalArea.is_active).order_by(LegalArea.name))),
    "vulnerability_markers": lambda: list(db.session.execute(
        db.select(VulnerabilityMarker.code, VulnerabilityMarker.name).where(VulnerabilityMarker.is_active))),
}


def option_choices(source: str) -> list[tuple[str, str]]:
    """Choices (value, label) for a form field bound to a catalogue; unknown sources raise KeyError."""
    return [(str(value), str(label)) for value, label in OPTION_SOURCES[source]()]
