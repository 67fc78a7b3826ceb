"""The indicator catalogue: every figure of the dashboard, the monthly report and the statistics export is
defined here once (name, definition, formula, disaggregations) and computed by one SQL aggregate.

All case counts read case_facts (app/stats/facts.py) through its indexes; referrals, assistance and tasks are
joined to case_facts only when a filter on the case (sex, age band…) needs it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..cases.models import ASSISTANCE_KINDS, REFERRAL_STATUSES, SEXES, Assistance, CaseReopening, Referral
from ..core import clock
from ..extensions import db
from ..workflow.models import HumanTask
from .facts import AGE_BANDS
from .models import CaseFact

F = CaseFact.__table__.c
NO_DATA = "—"


@dataclass(frozen=True)
class Indicator:
    code: str
    name: object
    definition: object
    formula: str
    disaggregations: tuple = ()
    unit: object = _l("casos")


CATALOGUE = [
    Indicator("casos_registrados", _l("Casos registrados"),
              _l("Casos abiertos (registrados) en el periodo, en la fecha local de la oficina."),
              "COUNT(case_facts) WHERE opened_on BETWEEN inicio AND fin",
              (_l("mes"), _l("oficina"), _l("categoría"), _l("sexo"), _l("grupo de edad"),
               _l("departamento y municipio de origen"))),
    Indicator("casos_cerrados", _l("Casos cerrados"),
              _l("Casos cuyo cierre aprobado por el supervisor cae en el periodo."),
              "COUNT(case_facts) WHERE closed_on BETWEEN inicio AND fin",
              (_l("mes"), _l("oficina"), _l("categoría"))),
    Indicator("casos_reabiertos", _l("Casos reabiertos"),
              _l("Reaperturas de casos cerrados hechas por un supervisor en el periodo, en la fecha local de la "
                 "oficina. Un caso reabierto cuenta como cerrado solo por su último cierre, y sus días al cierre se "
                 "miden hasta ese último cierre."),
              "COUNT(case_reopenings) WHERE reopened_on BETWEEN inicio AND fin",
              (_l("oficina"), _l("categoría"))),
    Indicator("casos_abiertos", _l("Casos abiertos al final del periodo"),
              _l("Casos registrados hasta el último día del periodo y no cerrados ese día (carga de trabajo). "
                 "Con el periodo terminado hoy, son los casos abiertos ahora."),
              "COUNT(case_facts) WHERE opened_on <= fin AND (closed_on IS NULL OR closed_on > fin)",
              (_l("categoría"), _l("oficina"), _l("sexo"), _l("grupo de edad"))),
    Indicator("nna_no_acompanados", _l("Niñas, niños y adolescentes no acompañados"),
              _l("Casos registrados en el periodo de personas de 0 a 17 años al abrir el caso, separados según "
                 "tengan la marca de vulnerabilidad «no acompañado»."),
              "COUNT(case_facts) WHERE child GROUP BY unaccompanied", (_l("acompañamiento"),)),
    Indicator("remisiones", _l("Remisiones por institución y resultado"),
              _l("Remisiones enviadas en el periodo a cada institución, por su estado actual (enviada, aceptada, "
                 "rechazada, atendida, revocada)."),
              "COUNT(referrals) WHERE sent_at BETWEEN inicio AND fin GROUP BY institution, status",
              (_l("institución"), _l("estado")), _l("remisiones")),
    Indicator("remisiones_dias_respuesta", _l("Mediana de días hasta la respuesta"),
              _l("Por institución, mediana de días naturales entre el envío de la remisión y la fecha en que la "
                 "institución respondió (aceptó o rechazó), de las remisiones enviadas en el periodo que ya "
                 "tienen respuesta."),
              "MEDIAN(response_at - sent_at) WHERE sent_at BETWEEN inicio AND fin AND response_at IS NOT NULL "
              "GROUP BY institution", (_l("institución"),), _l("días")),
    Indicator("remisiones_dias_resultado", _l("Mediana de días hasta el resultado"),
              _l("Por institución, mediana de días naturales entre el envío de la remisión y la fecha del "
                 "resultado (remisión atendida), de las remisiones enviadas en el periodo que ya lo tienen."),
              "MEDIAN(outcome_on - sent_at) WHERE sent_at BETWEEN inicio AND fin AND outcome_on IS NOT NULL "
              "GROUP BY institution", (_l("institución"),), _l("días")),
    Indicator("remisiones_dentro_plazo", _l("Respondidas dentro del plazo"),
              _l("Por institución, porcentaje de las remisiones con plazo de respuesta, enviadas en el periodo, "
                 "cuya respuesta llegó a SIPROC a más tardar al vencer el plazo. Cuentan las remisiones con "
                 "plazo que ya tienen respuesta o cuyo plazo ya venció (en este momento); las que aún están "
                 "en plazo sin respuesta no cuentan todavía, y las revocadas sin respuesta no cuentan."),
              "COUNT(referrals) WHERE responded_at <= deadline_at / COUNT(referrals) WHERE deadline_at IS NOT "
              "NULL AND (response_at IS NOT NULL OR deadline_at < ahora) AND sent_at BETWEEN inicio AND fin "
              "GROUP BY institution", (_l("institución"),), _l("% de remisiones")),
    Indicator("remisiones_por_enlace", _l("Respondidas por el enlace"),
              _l("Por institución, porcentaje de las remisiones enviadas en el periodo y ya respondidas cuya "
                 "respuesta llegó por el enlace seguro de la institución (y no registrada por el personal "
                 "consular en la tarea o en el caso, ni por la API)."),
              "COUNT(referrals) WHERE answered_via = 'enlace' / COUNT(referrals) WHERE response_at IS NOT NULL "
              "AND sent_at BETWEEN inicio AND fin GROUP BY institution", (_l("institución"),),
              _l("% de remisiones")),
    Indicator("dias_al_cierre", _l("Días del registro al cierre"),
              _l("Mediana y media de días naturales entre la apertura y el cierre, de los casos cerrados en el "
                 "periodo."), "MEDIAN/AVG(closed_on - opened_on) WHERE closed_on BETWEEN inicio AND fin",
              (), _l("días")),
    Indicator("dias_a_primera_asistencia", _l("Días del registro a la primera asistencia"),
              _l("Mediana y media de días entre la apertura y la primera asistencia registrada, de los casos "
                 "registrados en el periodo que ya recibieron asistencia."),
              "MEDIAN/AVG(first_assistance_on - opened_on) WHERE opened_on BETWEEN inicio AND fin "
              "AND first_assistance_on IS NOT NULL", (), _l("días")),
    Indicator("tareas_vencidas", _l("Tareas vencidas por oficina"),
              _l("Tareas pendientes cuyo plazo ya pasó, en este momento (no depende del periodo)."),
              "COUNT(human_tasks) WHERE completed_at IS NULL AND due_at < ahora GROUP BY office",
              (_l("oficina"),), _l("tareas")),
    Indicator("asistencia_montos", _l("Asistencia brindada y su costo"),
              _l("Asistencias registradas en el periodo y la suma de sus montos, por tipo, fuente de "
                 "financiamiento (FOSMIH u otra) y moneda; los montos de monedas distintas no se suman entre sí."),
              "COUNT(assistances), SUM(amount) WHERE given_on BETWEEN inicio AND fin "
              "GROUP BY kind, funding_source, currency", (_l("tipo"), _l("fuente"), _l("moneda")),
              _l("asistencias")),
]
BY_CODE = {i.code: i for i in CATALOGUE}

FUNDING = {"fosmih": "FOSMIH", "FOSMIH": "FOSMIH"}


@dataclass
class Filters:
    """The population and period every indicator is computed on (validated by app/stats/filters.py)."""

    start: date
    end: date
    office_ids: tuple[int, ...] | None = None  # None: every office
    category: str | None = None
    sex: str | None = None
    age_band: int | None = None
    department: str | None = None  # drill-down: municipalities of this department

    def case_conditions(self, table=None):
        c = (table or CaseFact.__table__).c
        conditions = []
        if self.office_ids is not None:
            conditions.append(c.office_id.in_(self.office_ids))
        if self.category:
            conditions.append(c.category_code == self.category)
        if self.sex:
            conditions.append(c.sex == self.sex)
        if self.age_band is not None:
            conditions.append(c.age_band == self.age_band)
        return conditions

    @property
    def needs_case_join(self) -> bool:
        return bool(self.sex or self.age_band is not None)


@dataclass
class Dashboard:
    filters: Filters
    months: list[int] = field(default_factory=list)
    opened_by_month: dict[int, int] = field(default_factory=dict)
    closed_by_month: dict[int, int] = field(default_factory=dict)
    registered: int = 0
    closed: int = 0
    reopened: int = 0
    open_total: int = 0
    open_by_category: dict[str, int] = field(default_factory=dict)
    open_by_office: dict[int, int] = field(default_factory=dict)
    open_by_sex_age: dict[tuple, int] = field(default_factory=dict)
    by_department: dict[str | None, int] = field(default_factory=dict)
    by_municipality: dict[str | None, int] = field(default_factory=dict)
    children: dict[bool, int] = field(default_factory=dict)
    referrals: dict[tuple[str, str], int] = field(default_factory=dict)
    referral_times: dict[str, dict] = field(default_factory=dict)  # institution -> ReferralTimes.as_dict()
    referral_times_total: dict = field(default_factory=dict)  # every institution together
    days_to_close: dict = field(default_factory=dict)
    days_to_help: dict = field(default_factory=dict)
    overdue_by_office: dict[int, int] = field(default_factory=dict)
    assistance: list[dict] = field(default_factory=list)


def months_between(start: date, end: date) -> list[int]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(year * 100 + month)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _count_by(columns, conditions) -> dict:
    query = sa.select(*columns, sa.func.count()).select_from(CaseFact.__table__).where(*conditions)
    query = query.group_by(*columns)
    single = len(columns) == 1
    return {(row[0] if single else tuple(row[:-1])): row[-1] for row in db.session.execute(query)}


def distribution(values_counts) -> dict:
    """{'n', 'median', 'mean'} from (value, count) pairs: the median is computed from the grouped counts."""
    pairs = sorted((v, n) for v, n in values_counts if v is not None)
    total = sum(n for _v, n in pairs)
    if not total:
        return {"n": 0, "median": None, "mean": None}
    mean = sum(v * n for v, n in pairs) / total

    def nth(k):  # k-th value (0-based) of the sorted population
        seen = 0
        for v, n in pairs:
            seen += n
            if k < seen:
                return v
        return pairs[-1][0]

    median = nth(total // 2) if total % 2 else (nth(total // 2 - 1) + nth(total // 2)) / 2
    return {"n": total, "median": median, "mean": round(mean, 1)}


def _days(column, conditions):
    query = (sa.select(column, sa.func.count()).select_from(CaseFact.__table__)
             .where(*conditions, column.is_not(None)).group_by(column))
    return distribution(db.session.execute(query).all())


def compute(filters: Filters, now: datetime | None = None) -> Dashboard:
    now = now or clock.now()
    d = Dashboard(filters=filters, months=months_between(filters.start, filters.end))
    base = filters.case_conditions()
    in_period = [F.opened_on >= filters.start, F.opened_on <= filters.end]
    closed_in_period = [F.closed_on >= filters.start, F.closed_on <= filters.end]

    d.opened_by_month = _count_by([F.opened_month], base + in_period)
    d.closed_by_month = _count_by([F.closed_month], base + closed_in_period)
    d.registered, d.closed = sum(d.opened_by_month.values()), sum(d.closed_by_month.values())
    d.reopened = _reopened(filters)

    # Open at the end = never closed, or closed after the end: two range scans of the closed_on index
    # (an OR would make SQLite read every case).
    stock_columns = [F.category_code, F.office_id, F.sex, F.age_band]
    still_open = _count_by(stock_columns, base + [F.closed_on.is_(None), F.opened_on <= filters.end])
    closed_later = _count_by(stock_columns, base + [F.closed_on > filters.end, F.opened_on <= filters.end])
    for (category, office, sex, band), n in [*still_open.items(), *closed_later.items()]:
        d.open_total += n
        d.open_by_category[category] = d.open_by_category.get(category, 0) + n
        d.open_by_office[office] = d.open_by_office.get(office, 0) + n
        d.open_by_sex_age[(sex, band)] = d.open_by_sex_age.get((sex, band), 0) + n

    d.by_department = _count_by([F.department_code], base + in_period)
    if filters.department:
        d.by_municipality = _count_by([F.municipality_code],
                                      base + in_period + [F.department_code == filters.department])
    d.children = _count_by([F.unaccompanied], base + in_period + [F.child.is_(True)])

    d.days_to_close = _days(F.days_to_close, base + closed_in_period)
    d.days_to_help = _days(F.days_to_first_assistance, base + in_period)
    d.referrals = _referrals(filters)
    d.referral_times, d.referral_times_total = _referral_times(filters, now)
    d.assistance = _assistance(filters)
    d.overdue_by_office = _overdue(filters, now)
    return d


def _reopened(filters: Filters) -> int:
    """Reopenings in the period of cases that pass the filters (the case's current office and category)."""
    r = CaseReopening.__table__.c
    query = (sa.select(sa.func.count()).select_from(CaseReopening.__table__.join(CaseFact.__table__,
                                                                                 F.case_id == r.case_id))
             .where(*filters.case_conditions(), r.reopened_on >= filters.start, r.reopened_on <= filters.end))
    return db.session.scalar(query) or 0


def _joined(model_table, case_column, filters: Filters):
    """Rows of a child table (referrals, assistances) restricted to cases that pass the filters."""
    conditions = filters.case_conditions()
    if not conditions:
        return model_table, []
    return model_table.join(CaseFact.__table__, F.case_id == case_column), conditions


def _referrals(filters: Filters) -> dict[tuple[str, str], int]:
    r = Referral.__table__.c
    source, conditions = _joined(Referral.__table__, r.case_id, filters)
    query = (sa.select(r.institution_code, r.status, sa.func.count()).select_from(source)
             .where(*conditions, r.sent_at >= filters.start, r.sent_at <= filters.end)
             .group_by(r.institution_code, r.status))
    return {(i, s): n for i, s, n in db.session.execute(query)}


@dataclass
class ReferralTimes:
    """What the response-time indicators of one institution (or all together) are computed from."""

    sent: int = 0
    response_days: Counter = field(default_factory=Counter)  # days from sending to the answer -> referrals
    outcome_days: Counter = field(default_factory=Counter)  # days from sending to the outcome -> referrals
    due: int = 0  # with a deadline, and answered or past it: the denominator of "dentro del plazo"
    on_time: int = 0  # of those, answered (responded_at) by the deadline
    via_link: int = 0  # answered through the institution's own link

    def add(self, sent_at, response_at, outcome_on, deadline_at, responded_at, answered_via, status, now) -> None:
        self.sent += 1
        if response_at is not None:
            self.response_days[max(0, (response_at - sent_at).days)] += 1
            if answered_via == "enlace":
                self.via_link += 1
        if outcome_on is not None:
            self.outcome_days[max(0, (outcome_on - sent_at).days)] += 1
        if deadline_at is not None:
            deadline = clock.as_utc(deadline_at)
            answered = response_at is not None or responded_at is not None
            withdrawn = status == "revocada" and not answered  # the consulate withdrew it: no answer was owed
            if (answered or deadline < now) and not withdrawn:
                self.due += 1
                if responded_at is not None and clock.as_utc(responded_at) <= deadline:
                    self.on_time += 1

    def as_dict(self) -> dict:
        answered = sum(self.response_days.values())
        return {"sent": self.sent, "answered": answered,
                "response_days": distribution(self.response_days.items()),
                "outcome_days": distribution(self.outcome_days.items()),
                "due": self.due, "on_time": self.on_time, "on_time_pct": share(self.on_time, self.due),
                "via_link": self.via_link, "via_link_pct": share(self.via_link, answered)}


def share(part: int, whole: int) -> float | None:
    """part of whole as a percentage with one decimal (None when whole is 0)."""
    return round(100 * part / whole, 1) if whole else None


def _referral_times(filters: Filters, now: datetime) -> tuple[dict[str, dict], dict]:
    """Response times per institution of the referrals sent in the period (cases passing the filters).

    Only the needed columns are read (Core rows, no ORM objects); the day differences and medians are computed
    here, so SQLite and PostgreSQL give the same figures without dialect date functions."""
    r = Referral.__table__.c
    source, conditions = _joined(Referral.__table__, r.case_id, filters)
    query = (sa.select(r.institution_code, r.sent_at, r.response_at, r.outcome_on, r.deadline_at, r.responded_at,
                       r.answered_via, r.status).select_from(source)
             .where(*conditions, r.sent_at >= filters.start, r.sent_at <= filters.end))
    now = clock.as_utc(now)
    per_institution: dict[str, ReferralTimes] = {}
    total = ReferralTimes()
    for institution, *values in db.session.execute(query):
        per_institution.setdefault(institution, ReferralTimes()).add(*values, now)
        total.add(*values, now)
    return {code: times.as_dict() for code, times in per_institution.items()}, total.as_dict()


def _assistance(filters: Filters) -> list[dict]:
    a = Assistance.__table__.c
    source, conditions = _joined(Assistance.__table__, a.case_id, filters)
    query = (sa.select(a.kind, a.funding_source, a.currency, sa.func.count(), sa.func.sum(a.amount_minor))
             .select_from(source)
             .where(*conditions, a.given_on >= filters.start, a.given_on <= filters.end)
             .group_by(a.kind, a.funding_source, a.currency))
    rows = [{"kind": k, "funding": f, "currency": c, "count": n, "amount": (s or 0) / 100}
            for k, f, c, n, s in db.session.execute(query)]
    return sorted(rows, key=lambda x: (-x["count"], x["kind"] or "", x["funding"] or "", x["currency"] or ""))


def _overdue(filters: Filters, now: datetime) -> dict[int, int]:
    t = HumanTask.__table__.c
    source, conditions = HumanTask.__table__, [t.completed_at.is_(None), t.due_at < now]
    if filters.office_ids is not None:
        conditions.append(t.office_id.in_(filters.office_ids))
    if filters.category:
        conditions.append(t.category_code == filters.category)
    if filters.needs_case_join:  # sex and age live on the case: tasks of intakes not yet registered drop out
        source = source.join(CaseFact.__table__, F.case_id == t.case_id)
        if filters.sex:
            conditions.append(F.sex == filters.sex)
        if filters.age_band is not None:
            conditions.append(F.age_band == filters.age_band)
    query = sa.select(t.office_id, sa.func.count()).select_from(source).where(*conditions).group_by(t.office_id)
    return dict(db.session.execute(query).all())


# ---------------------------------------------------------------- labels
def month_label(month: int) -> str:
    names = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"]
    return f"{names[month % 100 - 1]} {month // 100}"


def age_label(band) -> str:
    return AGE_BANDS[band][0] if band in AGE_BANDS else str(_l("sin dato"))


def sex_label(sex) -> str:
    return str(SEXES.get(sex, _l("sin dato"))) if sex else str(_l("sin dato"))


def referral_status_label(status) -> str:
    return str(REFERRAL_STATUSES.get(status, status))


def assistance_label(kind) -> str:
    return str(ASSISTANCE_KINDS.get(kind, kind or NO_DATA))


def funding_label(source) -> str:
    if not source:
        return str(_l("sin fuente"))
    return FUNDING.get(source, source.replace("_", " ").capitalize())
