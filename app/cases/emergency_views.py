"""Break-glass pages: ask for emergency access to a case of another office; end it."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import clock
from ..core.errors import DomainError
from ..extensions import db
from . import emergency
from .models import Case
from .views import bp


@bp.route("/emergencia", methods=["GET", "POST"])
def emergency_access():
    if not emergency.can_request(current_user):
        abort(403)
    number, reason = request.form.get("numero", "").strip()[:30], request.form.get("motivo", "")
    if request.method == "GET":
        return render_template("cases/emergency.html", numero=request.args.get("numero", "")[:30], motivo="")
    case = db.session.scalar(db.select(Case).where(Case.number == number)) if number else None
    if case is None:
        flash(_("No hay ningún caso con el número «%(n)s».", n=number), "danger")
        return render_template("cases/emergency.html", numero=number, motivo=reason), 404
    try:
        emergency.grant(current_user, case, reason, clock.now())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return render_template("cases/emergency.html", numero=number, motivo=reason), exc.status_code
    db.session.commit()
    flash(_("Acceso de emergencia concedido. Los supervisores de %(o)s fueron notificados.", o=case.office.name),
          "warning")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/emergencia/<int:access_id>/terminar", methods=["POST"])
def end_emergency_access(access_id):
    access = db.get_or_404(emergency.EmergencyAccess, access_id)
    emergency.end(access, current_user, clock.now())
    db.session.commit()
    flash(_("El acceso de emergencia terminó."), "info")
    return redirect(url_for("cases.index") if access.user_id == current_user.id
                    else url_for("cases.detail", case_id=access.case_id))
