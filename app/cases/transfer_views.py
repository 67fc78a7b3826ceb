"""Transfers page: pending transfers into and out of the user's office, and the receiving decision."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import services as audit
from ..auth import policy
from ..core import clock
from ..core.errors import DomainError
from ..extensions import db
from .models import CaseTransfer
from .transfers import decide_transfer, transfers_for_office

bp = Blueprint("transfers", __name__, template_folder="templates", url_prefix="/traslados")


@bp.route("/")
def index():
    incoming, outgoing = transfers_for_office(current_user.office_id)
    page = render_template("cases/transfers.html", incoming=incoming, outgoing=outgoing)
    audit.record("transfers_viewed", details={"entrantes": len(incoming), "salientes": len(outgoing)})
    db.session.commit()
    return page


@bp.route("/<int:transfer_id>/decision", methods=["POST"])
def decide(transfer_id):
    transfer = db.get_or_404(CaseTransfer, transfer_id)
    policy.require(policy.can_decide_transfer(current_user, transfer))
    accept = request.form.get("decision") == "aceptar"
    try:
        decide_transfer(transfer, current_user, accept, request.form.get("nota"), clock.now())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message + " " + _("No se guardó nada."), "danger")
        return redirect(url_for("transfers.index"))
    flash(_("Traslado aceptado: el caso y sus tareas pasan a su oficina.") if accept else _("Traslado rechazado."),
          "success")
    return redirect(url_for("cases.detail", case_id=transfer.case_id) if accept else url_for("transfers.index"))
