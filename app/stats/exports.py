"""What leaves the system: statistical tables for publication (with disclosure control) and case lists."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from ..auth.models import User
from ..cases.models import (
    CLOSURE_REASONS,
    CONSENT_NAMED_EXPORT,
    RISK_LEVELS,
    STATUSES,
    Case,
    CaseConsent,
    Person,
    Referral,
    label,
)
from ..core import clock
from ..extensions import db
from ..reference.models import CaseCategory, Department, Municipality, Office
from . import cells, disclosure
from . import indicators as ind
from .facts import AGE_BANDS
from .models import CaseFact
from .panels import lookups

F = CaseFact.__table__.c
SEX_COLUMNS = ("F", "M", "X")


def _grid(row_column, col_column, conditions, rows_order=None, cols_order=None):
    query = (sa.select(row_column, col_column, sa.func.count()).select_from(CaseFact.__table__)
             .where(*conditions).group_by(row_column, col_column))
    counts = {(r, c): n for r, c, n in db.session.execute(query)}
    rows = rows_order if rows_order is not None else sorted({r for r, _c in counts}, key=lambda v: (v is None, v))
    cols = cols_order if cols_order is not None else sorted({c for _r, c in counts}, key=lambda v: (v is None, v))
    return rows, cols, [[counts.get((r, c), 0) for c in cols] for r in rows]


def publication_tables(filters: ind.Filters) -> list[disclosure.ProtectedTable]:
    """Cases registered in the period (and their referrals), as protected tables ready to publish."""
    names = lookups()
    period = filters.case_conditions() + [F.opened_on >= filters.start, F.opened_on <= filters.end]
    sex_labels = [ind.sex_label(s) for s in SEX_COLUMNS]
    tables = []

    rows, _cols, grid = _grid(F.category_code, F.sex, period, cols_order=list(SEX_COLUMNS))
    tables.append(disclosure.protect(_("Casos registrados por categoría y sexo"), _("Categoría"),
                                     [names["categories"].get(r, r) for r in rows], sex_labels, grid))

    rows, _cols, grid = _grid(F.department_code, F.sex, period, cols_order=list(SEX_COLUMNS))
    tables.append(disclosure.protect(_("Casos registrados por departamento de origen y sexo"), _("Departamento"),
                                     [names["departments"].get(r, _("sin dato")) if r else _("sin dato")
                                      for r in rows], sex_labels, grid))

    bands = [*AGE_BANDS, None]
    rows, _cols, grid = _grid(F.office_id, F.age_band, period, cols_order=bands)
    tables.append(disclosure.protect(_("Casos registrados por oficina y grupo de edad"), _("Oficina"),
                                     [names["offices"].get(r, str(r)) for r in rows],
                                     [ind.age_label(b) for b in bands], grid))

    rows, _cols, grid = _grid(F.unaccompanied, F.sex, period + [F.child.is_(True)],
                              rows_order=[True, False], cols_order=list(SEX_COLUMNS))
    tables.append(disclosure.protect(_("Niñas, niños y adolescentes por acompañamiento y sexo"), _("Situación"),
                                     [_("No acompañados"), _("Acompañados")], sex_labels, grid))

    referrals = ind._referrals(filters)
    institutions = sorted({i for i, _s in referrals})
    statuses = list(ind.REFERRAL_STATUSES)
    tables.append(disclosure.protect(_("Remisiones enviadas por institución y estado"), _("Institución"),
                                     [names["institutions"].get(i, i) for i in institutions],
                                     [ind.referral_status_label(s) for s in statuses],
                                     [[referrals.get((i, s), 0) for s in statuses] for i in institutions]))
    tables.append(referral_times_table(filters, names))
    return tables


def referral_times_table(filters: ind.Filters, names: dict, now=None) -> disclosure.SummaryTable:
    """Medians and percentages of the referrals sent in the period, per institution, with small bases hidden."""
    times, _total = ind._referral_times(filters, now or clock.now())
    body = []
    for code in sorted(times):
        t = times[code]
        body.append([names["institutions"].get(code, code),
                     disclosure.median_cell(t["response_days"]["n"], t["response_days"]["median"]),
                     disclosure.median_cell(t["outcome_days"]["n"], t["outcome_days"]["median"]),
                     disclosure.share_cell(t["on_time"], t["due"]),
                     disclosure.share_cell(t["via_link"], t["answered"])])
    return disclosure.SummaryTable(
        _("Tiempos de respuesta de las remisiones por institución"),
        [_("Institución"), _("Mediana de días hasta la respuesta"), _("Mediana de días hasta el resultado"),
         _("% respondidas dentro del plazo"), _("% respondidas por el enlace")],
        body, note=disclosure.SUMMARY_NOTE_ES)


def _preamble(scope: str, clean: dict) -> list[list[str]]:
    return [[_("SIPROC · Estadísticas de protección consular")],
            [_("Periodo: %(a)s a %(b)s · Ámbito: %(s)s", a=clean["desde"], b=clean["hasta"], s=scope)],
            [disclosure.NOTE_ES], []]


def _published_rows(table) -> list[list]:
    """The table as published: counts as numbers, marks as text; a table that would reveal a count whatever
    is hidden (e.g. one row of 1s) is withheld whole."""
    if table.exposed:
        return [[_("Cuadro omitido: con estas cifras no puede publicarse sin revelar casos individuales.")]]
    rows = list(table.rows())
    return [rows[0]] + [[row[0], *[_as_number(v) for v in row[1:]]] for row in rows[1:]]


def _as_number(shown: str):
    """A shown figure as a number ("12" -> 12, "4.5" -> 4.5); marks ("<5", "*", "—") stay text."""
    if shown.isdigit():
        return int(shown)
    whole, dot, tenths = shown.partition(".")
    if dot and whole.isdigit() and tenths.isdigit():
        return float(shown)
    return shown


def publication_csv(tables, scope: str, clean: dict):
    rows = list(_preamble(scope, clean))
    for table in tables:
        rows.append([table.title])
        rows.extend(_published_rows(table))
        rows.append([])
    return cells.csv_stream([], rows)


def publication_xlsx(tables, scope: str, clean: dict) -> bytes:
    sheets = [(_("Notas"), [], _preamble(scope, clean))]
    for number, table in enumerate(tables, start=1):
        rows = _published_rows(table)
        sheets.append((f"{number} {table.title}"[:31], rows[0], rows[1:]))
    return cells.xlsx_bytes(sheets)


# ---------------------------------------------------------------- case lists
CASE_HEADER = ["Nº de caso", "Oficina", "Categoría", "Estado", "Riesgo", "Fecha de apertura", "Fecha de cierre",
               "Motivo de cierre", "Persona", "Sexo", "Edad al abrir", "Grupo de edad", "Departamento de origen",
               "Municipio de origen", "País de los hechos", "Oficial asignado", "Remisiones"]


def _case_query(filters: ind.Filters):
    conditions = filters.case_conditions() + [F.opened_on >= filters.start, F.opened_on <= filters.end]
    return conditions


def _named_export_consent():
    """True when the person consented to appear by name in exported case lists (no row: no consent)."""
    return sa.exists().where(CaseConsent.case_id == Case.id, CaseConsent.purpose == CONSENT_NAMED_EXPORT,
                             CaseConsent.given.is_(True))


def case_counts(filters: ind.Filters) -> tuple[int, int]:
    """(rows of the case list, rows whose person's name is masked for lack of named-export consent)."""
    masked = sa.and_(Person.anonymised_at.is_(None), sa.not_(_named_export_consent()))
    rows, hidden = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((masked, 1), else_=0)), 0))
        .select_from(CaseFact.__table__).join(Case, Case.id == F.case_id).join(Person, Person.id == Case.person_id)
        .where(*_case_query(filters))).one()
    return int(rows), int(hidden)


def _footer_template() -> str:
    """Translated now, filled in later (the rows are streamed after the request has ended)."""
    return _("Filas: %(n)d. Sin consentimiento de exportación nominal (nombre de la persona omitido): %(m)d.")


def case_rows(filters: ind.Filters, footer: bool = True):
    """(header, a generator of rows) of the cases registered in the period, in opening order per office.

    Consent binds the export: a person who did not consent to named exports (purpose "exportacion_nominal") is
    masked — the row stays, so figures computed from the file are complete, but the name is replaced. With
    `footer`, a blank row and a row saying how many rows there are and how many were masked end the list.

    Every label is resolved now, in the request; the generator only reads rows, on a connection of its own,
    so it can stream a million rows after the view has returned (no Flask context needed).
    """
    offices, categories = dict(db.session.execute(sa.select(Office.id, Office.name)).all()), \
        dict(db.session.execute(sa.select(CaseCategory.code, CaseCategory.name)).all())
    departments = dict(db.session.execute(sa.select(Department.code, Department.name)).all())
    municipalities = dict(db.session.execute(sa.select(Municipality.code, Municipality.name)).all())
    officers = dict(db.session.execute(sa.select(User.id, User.full_name)).all())
    statuses = {code: label(STATUSES, code) for code in STATUSES}
    risks = {code: label(RISK_LEVELS, code) for code in RISK_LEVELS}
    reasons = {code: label(CLOSURE_REASONS, code) for code in CLOSURE_REASONS}
    sexes = {code: ind.sex_label(code) for code in (*SEX_COLUMNS, None)}
    bands = {code: ind.age_label(code) for code in (*AGE_BANDS, None)}
    anonymised = _("(anonimizada)")
    withheld = _("(sin consentimiento de exportación)")
    referral_counts = (sa.select(sa.func.count()).where(Referral.case_id == Case.id).scalar_subquery())
    query = (sa.select(Case.number, Case.office_id, Case.category_code, Case.status, Case.risk_level,
                       F.opened_on, F.closed_on, Case.closure_reason, Person.given_names, Person.first_surname,
                       Person.second_surname, Person.anonymised_at, F.sex, Case.age_at_opening, F.age_band,
                       F.department_code, F.municipality_code, Case.event_country, Case.assigned_officer_id,
                       referral_counts.label("referrals"), _named_export_consent().label("named"))
             .select_from(CaseFact.__table__)
             .join(Case, Case.id == F.case_id).join(Person, Person.id == Case.person_id)
             .where(*_case_query(filters))
             .order_by(F.office_id, F.opened_on, Case.id))
    header = [_(h) for h in CASE_HEADER]
    engine = db.engine

    def rows():
        count = masked = 0
        with engine.connect() as connection:
            for r in connection.execution_options(yield_per=2000).execute(query):
                count += 1
                if r.anonymised_at:
                    person = anonymised
                elif not r.named:
                    person, masked = withheld, masked + 1
                else:
                    person = " ".join(p for p in (r.given_names, r.first_surname, r.second_surname) if p)
                yield [r.number, offices.get(r.office_id), categories.get(r.category_code, r.category_code),
                       statuses.get(r.status, r.status), risks.get(r.risk_level, ""), r.opened_on, r.closed_on,
                       reasons.get(r.closure_reason, r.closure_reason or ""), person, sexes.get(r.sex, r.sex),
                       r.age_at_opening, bands.get(r.age_band, ""), departments.get(r.department_code, ""),
                       municipalities.get(r.municipality_code, ""), r.event_country or "",
                       officers.get(r.assigned_officer_id, ""), r.referrals]
        if footer:
            yield []
            yield [footer_text % {"n": count, "m": masked}]
    footer_text = _footer_template()
    return header, rows()
