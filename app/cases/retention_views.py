"""Administrator page: which closed cases the retention policy will anonymise, and running it now."""
from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import clock
from ..core.access import rule
from ..core.web import act
from . import bp
from .records import uploads_dir
from .retention import apply as apply_retention
from .retention import plan as retention_plan


@bp.route("/admin/retencion/")
@rule("is_admin")
def retention():
    upcoming = retention_plan(clock.now(), current_app.config["RETENTION_YEARS_AFTER_CLOSURE"])
    return render_template("cases/retention.html", plan=upcoming,
                           automatic=current_app.config["RETENTION_AUTOMATIC"])


@bp.route("/admin/retencion/aplicar", methods=["POST"])
@rule("is_admin")
def retention_run():
    years = current_app.config["RETENTION_YEARS_AFTER_CLOSURE"]
    if not years:
        flash(_("No hay una política de retención configurada."), "warning")
        return redirect(url_for("cases.retention"))
    return act(lambda: apply_retention(clock.now(), years, uploads_dir(), actor=current_user), _applied)


def _applied(count):
    flash(_("%(n)d casos anonimizados.", n=count), "success")
    return redirect(url_for("cases.retention"))
