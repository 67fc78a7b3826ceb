"""Administrator page: which closed cases the retention policy will anonymise, and running it now."""
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import clock
from ..extensions import db
from . import retention

bp = Blueprint("retention", __name__, template_folder="templates", url_prefix="/admin/retencion")

ENDPOINT_RULES = {"retention.index": lambda user: user.role == "admin",
                  "retention.run": lambda user: user.role == "admin"}


@bp.route("/")
def index():
    upcoming = retention.plan(clock.now(), current_app.config["RETENTION_YEARS_AFTER_CLOSURE"])
    return render_template("cases/retention.html", plan=upcoming,
                           automatic=current_app.config["RETENTION_AUTOMATIC"])


@bp.route("/aplicar", methods=["POST"])
def run():
    years = current_app.config["RETENTION_YEARS_AFTER_CLOSURE"]
    if not years:
        flash(_("No hay una política de retención configurada."), "warning")
        return redirect(url_for("retention.index"))
    count = retention.apply(clock.now(), years, uploads_dir(), actor=current_user)
    db.session.commit()
    flash(_("%(n)d casos anonimizados.", n=count), "success")
    return redirect(url_for("retention.index"))


def uploads_dir():
    return current_app.config.get("UPLOADS_DIR") or f"{current_app.instance_path}/uploads"
