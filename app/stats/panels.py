"""Turns computed indicators into panels: a chart spec for dashboard.js and the same numbers as a table."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..extensions import db
from ..reference.models import CaseCategory, Department, Institution, Municipality, Office
from . import indicators as ind
from .facts import AGE_BANDS


@dataclass
class Panel:
    id: str
    title: str
    indicator: str
    header: list[str]
    rows: list[list]
    chart: dict | None = None
    note: str | None = None
    wide: bool = False
    totals: list | None = None
    extra: dict = field(default_factory=dict)


def _names(model, key="code", label="name") -> dict:
    return dict(db.session.execute(db.select(getattr(model, key), getattr(model, label))).all())


def lookups() -> dict:
    return {
        "offices": _names(Office, "id", "name"),
        "categories": _names(CaseCategory),
        "departments": _names(Department),
        "institutions": _names(Institution, "code", "short_name"),
    }


def _chart(id_, kind, labels, datasets, link=None, unit=None):
    spec = {"id": id_, "type": kind, "labels": labels, "datasets": datasets}
    if unit:
        spec["unit"] = unit
    if link:
        spec["link"] = link
    return spec


def build(d: ind.Dashboard, names: dict | None = None) -> list[Panel]:
    names = names or lookups()
    panels = []

    labels = [ind.month_label(m) for m in d.months]
    opened = [d.opened_by_month.get(m, 0) for m in d.months]
    closed = [d.closed_by_month.get(m, 0) for m in d.months]
    panels.append(Panel(
        "casos-por-mes", _("Casos registrados y cerrados por mes"), "casos_registrados",
        [_("Mes"), _("Registrados"), _("Cerrados")],
        [[lbl, o, c] for lbl, o, c in zip(labels, opened, closed, strict=True)],
        _chart("casos-por-mes", "bar", labels, [{"label": _("Registrados"), "data": opened},
                                               {"label": _("Cerrados"), "data": closed}]),
        wide=True, totals=[_("Total"), sum(opened), sum(closed)]))

    by_cat = sorted(d.open_by_category.items(), key=lambda kv: (-kv[1], kv[0]))
    cat_labels = [names["categories"].get(code, code) for code, _n in by_cat]
    panels.append(Panel(
        "abiertos-categoria", _("Casos abiertos por categoría"), "casos_abiertos", [_("Categoría"), _("Casos")],
        [[lbl, n] for lbl, (_c, n) in zip(cat_labels, by_cat, strict=True)],
        _chart("abiertos-categoria", "hbar", cat_labels,
               [{"label": _("Casos abiertos"), "data": [n for _c, n in by_cat]}]),
        totals=[_("Total"), d.open_total]))

    by_office = sorted(d.open_by_office.items(), key=lambda kv: (-kv[1], kv[0]))
    office_labels = [names["offices"].get(oid, str(oid)) for oid, _n in by_office]
    panels.append(Panel(
        "abiertos-oficina", _("Casos abiertos por oficina"), "casos_abiertos", [_("Oficina"), _("Casos")],
        [[lbl, n] for lbl, (_o, n) in zip(office_labels, by_office, strict=True)],
        _chart("abiertos-oficina", "hbar", office_labels,
               [{"label": _("Casos abiertos"), "data": [n for _o, n in by_office]}]),
        totals=[_("Total"), d.open_total]))

    bands = list(AGE_BANDS) + [None]
    sexes = ["F", "M", "X", None]
    present_sexes = [s for s in sexes if any(d.open_by_sex_age.get((s, b)) for b in bands)] or ["F", "M"]
    band_labels = [ind.age_label(b) for b in bands]
    rows = []
    for b, lbl in zip(bands, band_labels, strict=True):
        counts = [d.open_by_sex_age.get((s, b), 0) for s in present_sexes]
        rows.append([lbl, *counts, sum(counts)])
    panels.append(Panel(
        "abiertos-sexo-edad", _("Casos abiertos por sexo y grupo de edad"), "casos_abiertos",
        [_("Edad"), *[ind.sex_label(s) for s in present_sexes], _("Total")], rows,
        _chart("abiertos-sexo-edad", "stacked", band_labels,
               [{"label": ind.sex_label(s), "data": [d.open_by_sex_age.get((s, b), 0) for b in bands]}
                for s in present_sexes]),
        totals=[_("Total"), *[sum(d.open_by_sex_age.get((s, b), 0) for b in bands) for s in present_sexes],
                d.open_total]))

    by_dept = sorted(d.by_department.items(), key=lambda kv: (-kv[1], kv[0] or "zz"))
    dept_labels = [names["departments"].get(code, _("sin dato")) if code else _("sin dato") for code, _n in by_dept]
    panels.append(Panel(
        "departamento", _("Casos registrados por departamento de origen"), "casos_registrados",
        [_("Departamento"), _("Casos")], [[lbl, n] for lbl, (_c, n) in zip(dept_labels, by_dept, strict=True)],
        _chart("departamento", "hbar", dept_labels,
               [{"label": _("Casos registrados"), "data": [n for _c, n in by_dept]}],
               link={"param": "departamento", "values": [code or "" for code, _n in by_dept]}),
        note=_("Pulse una barra para ver los municipios de ese departamento."), totals=[_("Total"), d.registered],
        extra={"department_codes": [code for code, _n in by_dept]}))

    if d.filters.department:
        munis = _names(Municipality)
        by_muni = sorted(d.by_municipality.items(), key=lambda kv: (-kv[1], kv[0] or "zz"))
        muni_labels = [munis.get(code, _("sin dato")) if code else _("sin dato") for code, _n in by_muni]
        panels.append(Panel(
            "municipio", _("Municipios de %(d)s", d=names["departments"].get(d.filters.department, "")),
            "casos_registrados", [_("Municipio"), _("Casos")],
            [[lbl, n] for lbl, (_c, n) in zip(muni_labels, by_muni, strict=True)],
            _chart("municipio", "hbar", muni_labels, [{"label": _("Casos registrados"),
                                                     "data": [n for _c, n in by_muni]}]),
            totals=[_("Total"), sum(d.by_municipality.values())]))

    alone, accompanied = d.children.get(True, 0), d.children.get(False, 0)
    panels.append(Panel(
        "nna", _("Niñas, niños y adolescentes: no acompañados y acompañados"), "nna_no_acompanados",
        [_("Situación"), _("Casos")], [[_("No acompañados"), alone], [_("Acompañados"), accompanied]],
        _chart("nna", "doughnut", [_("No acompañados"), _("Acompañados")],
               [{"label": _("Casos"), "data": [alone, accompanied]}]),
        totals=[_("Total"), alone + accompanied]))

    statuses = list(ind.REFERRAL_STATUSES)
    institutions = sorted({i for i, _s in d.referrals},
                          key=lambda i: (-sum(d.referrals.get((i, s), 0) for s in statuses), i))
    inst_labels = [names["institutions"].get(i, i) for i in institutions]
    panels.append(Panel(
        "remisiones", _("Remisiones por institución y resultado"), "remisiones",
        [_("Institución"), *[ind.referral_status_label(s) for s in statuses], _("Total")],
        [[lbl, *[d.referrals.get((i, s), 0) for s in statuses], sum(d.referrals.get((i, s), 0) for s in statuses)]
         for i, lbl in zip(institutions, inst_labels, strict=True)],
        _chart("remisiones", "stacked", inst_labels,
               [{"label": ind.referral_status_label(s), "data": [d.referrals.get((i, s), 0) for i in institutions]}
                for s in statuses]),
        wide=True, totals=[_("Total"), *[sum(d.referrals.get((i, s), 0) for i in institutions) for s in statuses],
                           sum(d.referrals.values())]))

    panels.append(referral_times_panel(d, names))

    over = sorted(d.overdue_by_office.items(), key=lambda kv: (-kv[1], kv[0]))
    over_labels = [names["offices"].get(oid, str(oid)) for oid, _n in over]
    panels.append(Panel(
        "vencidas", _("Tareas vencidas por oficina (ahora)"), "tareas_vencidas", [_("Oficina"), _("Tareas")],
        [[lbl, n] for lbl, (_o, n) in zip(over_labels, over, strict=True)],
        _chart("vencidas", "hbar", over_labels, [{"label": _("Tareas vencidas"), "data": [n for _o, n in over]}]),
        totals=[_("Total"), sum(d.overdue_by_office.values())]))

    panels.append(Panel(
        "asistencia", _("Asistencia brindada por tipo y fuente de financiamiento"), "asistencia_montos",
        [_("Tipo"), _("Fuente"), _("Moneda"), _("Asistencias"), _("Monto")],
        [[ind.assistance_label(a["kind"]), ind.funding_label(a["funding"]), a["currency"] or "—", a["count"],
          f'{a["amount"]:,.2f}' if a["currency"] else None] for a in d.assistance],
        _chart("asistencia", "hbar", [f'{ind.assistance_label(a["kind"])} · {ind.funding_label(a["funding"])}'
                                      for a in d.assistance],
               [{"label": _("Asistencias"), "data": [a["count"] for a in d.assistance]}]),
        wide=True, totals=[_("Total"), "", "", sum(a["count"] for a in d.assistance), None]))
    return panels


def share_label(part: int, whole: int) -> str | None:
    """«66.7 % (2 de 3)»: the percentage with the counts it comes from (None when there is nothing to count)."""
    pct = ind.share(part, whole)
    if pct is None:
        return None
    return _("%(pct)s %% (%(part)d de %(whole)d)", pct=f"{pct:g}", part=part, whole=whole)


def referral_times_panel(d: ind.Dashboard, names: dict) -> Panel:
    times = d.referral_times
    institutions = sorted(times, key=lambda i: (-times[i]["sent"], i))
    inst_labels = [names["institutions"].get(i, i) for i in institutions]

    def row(label, t):
        return [label, t["sent"], t["answered"], t["response_days"]["median"], t["outcome_days"]["median"],
                share_label(t["on_time"], t["due"]), share_label(t["via_link"], t["answered"])]

    total = d.referral_times_total or ind.ReferralTimes().as_dict()
    return Panel(
        "tiempos-remisiones", _("Tiempos de respuesta de las remisiones por institución"),
        "remisiones_dias_respuesta",
        [_("Institución"), _("Remisiones"), _("Respondidas"), _("Mediana días respuesta"),
         _("Mediana días resultado"), _("% dentro del plazo"), _("% por el enlace")],
        [row(lbl, times[i]) for i, lbl in zip(institutions, inst_labels, strict=True)],
        _chart("tiempos-remisiones", "bar", inst_labels,
               [{"label": _("Mediana de días hasta la respuesta"),
                 "data": [times[i]["response_days"]["median"] for i in institutions]},
                {"label": _("Mediana de días hasta el resultado"),
                 "data": [times[i]["outcome_days"]["median"] for i in institutions]}], unit=_("días")),
        note=_("Remisiones enviadas en el periodo. Dentro del plazo: de las remisiones con plazo ya respondidas "
               "o con el plazo vencido. Por el enlace: de las respondidas."),
        wide=True, totals=row(_("Total"), total))


def chart_data(panels: list[Panel]) -> dict:
    return {"charts": [p.chart for p in panels if p.chart]}
