"""Statistics pages: dashboard, indicator catalogue, monthly report, publication export, case-list export."""
from __future__ import annotations

from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import services as audit
from ..auth.policy import can
from ..core import clock
from ..core.access import rule
from ..extensions import db
from . import bp, cells, disclosure, exports, filters, indicators, panels

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/estadisticas/")
@rule("oversees_offices")
def dashboard():
    wanted, problems, clean = filters.parse(current_user, request.args)
    data = indicators.compute(wanted)
    built = panels.build(data)
    return render_template("stats/dashboard.html", data=data, panels=built, chart_data=panels.chart_data(built),
                           problems=problems, clean=clean, choices=filters.choices(current_user),
                           can_export_cases=can("stats.export_cases"),
                           scope=_scope_label(wanted)), 400 if problems else 200


@bp.route("/estadisticas/indicadores")
@rule("oversees_offices")
def catalogue():
    return render_template("stats/catalogue.html", catalogue=indicators.CATALOGUE,
                           note=disclosure.NOTE_ES)


@bp.route("/estadisticas/informe")
@rule("oversees_offices")
def report():
    wanted, problems, clean = filters.parse_month_report(current_user, request.args)
    data = indicators.compute(wanted)
    built = panels.build(data)
    return render_template("stats/report.html", data=data, panels=built, problems=problems, clean=clean,
                           choices=filters.choices(current_user), scope=_scope_label(wanted),
                           generated=clock.now()), 400 if problems else 200


@bp.route("/estadisticas/publicacion.<fmt>")
@rule("oversees_offices")
def publication(fmt):
    if fmt not in FORMATS:
        return _bad_format()
    wanted, problems, clean = filters.parse(current_user, request.args)
    if problems:
        return Response(" ".join(problems), status=400, mimetype="text/plain")
    tables = exports.publication_tables(wanted)
    audit.record("statistics_exported", details={"formato": fmt, "filtros": clean, "cuadros": len(tables)})
    db.session.commit()
    name = f"siproc-estadisticas-{clean['desde']}-{clean['hasta']}.{fmt}"
    if fmt == "csv":
        return _download(exports.publication_csv(tables, _scope_label(wanted), clean), "text/csv; charset=utf-8",
                         name)
    return _download([exports.publication_xlsx(tables, _scope_label(wanted), clean)], XLSX, name)


@bp.route("/estadisticas/casos.<fmt>")
@rule("can_export_cases")
def export_cases(fmt):
    if fmt not in FORMATS:
        return _bad_format()
    wanted, problems, clean = filters.parse(current_user, request.args)
    if problems:
        return Response(" ".join(problems), status=400, mimetype="text/plain")
    count, masked = exports.case_counts(wanted)
    if fmt == "xlsx" and count + 2 > cells.MAX_XLSX_ROWS:  # the rows, a blank row and the footer
        return Response(_("Son %(n)d casos: más de los que admite una hoja XLSX. Use CSV o acote el periodo.",
                          n=count), status=400, mimetype="text/plain")
    # consent binds the export: persons without named-export consent are listed without their name
    audit.record("cases_exported", details={"formato": fmt, "filtros": clean, "casos": count,
                                            "nombres_omitidos_sin_consentimiento": masked})
    db.session.commit()
    name = f"siproc-casos-{clean['desde']}-{clean['hasta']}.{fmt}"
    header, rows = exports.case_rows(wanted)
    if fmt == "csv":
        return _download(cells.csv_stream(header, rows), "text/csv; charset=utf-8", name)
    return _download([cells.xlsx_bytes([(_("Casos"), header, rows)])], XLSX, name)


def _download(body, mimetype, name):
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _bad_format():
    return Response(_("Formato no disponible: use csv o xlsx."), status=404, mimetype="text/plain")


def _scope_label(wanted) -> str:
    if wanted.office_ids is None:
        return _("Todas las oficinas")
    from ..reference.models import Office

    names = [db.session.get(Office, oid).name for oid in wanted.office_ids]
    return ", ".join(names)
