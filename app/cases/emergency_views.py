"""Break-glass pages: ask for emergency access to a case of another office; end it."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import clock
from ..core.access import AUTHENTICATED, rule
from ..core.web import act
from ..extensions import db
from . import bp, emergency
from .models import Case


@bp.route("/casos/emergencia", methods=["GET", "POST"])
@rule("can_request_emergency_access")
def emergency_access():
    number, reason = request.form.get("numero", "").strip()[:30], request.form.get("motivo", "")
    if request.method == "GET":
        return render_template("cases/emergency.html", numero=request.args.get("numero", "")[:30], motivo="")
    case = db.session.scalar(db.select(Case).where(Case.number == number)) if number else None
    if case is None:
        flash(_("No hay ningún caso con el número «%(n)s».", n=number), "danger")
        return render_template("cases/emergency.html", numero=number, motivo=reason), 404
    return act(lambda: emergency.grant(current_user, case, reason, clock.now()), lambda _r: _granted(case),
               refused=lambda exc: (render_template("cases/emergency.html", numero=number, motivo=reason),
                                    exc.status_code))


def _granted(case):
    flash(_("Acceso de emergencia concedido. Los supervisores de %(o)s fueron notificados.", o=case.office.name),
          "warning")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/casos/emergencia/<int:access_id>/terminar", methods=["POST"])
@rule(AUTHENTICATED)
def end_emergency_access(access_id):
    access = db.get_or_404(emergency.EmergencyAccess, access_id)
    return act(lambda: emergency.end(access, current_user, clock.now()), lambda _r: _ended(access))


def _ended(access):
    flash(_("El acceso de emergencia terminó."), "info")
    return redirect(url_for("cases.index") if access.user_id == current_user.id
                    else url_for("cases.detail", case_id=access.case_id))
