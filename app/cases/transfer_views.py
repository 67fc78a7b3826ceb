"""Transfers page: pending transfers into and out of the user's office, and the receiving decision."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import services as audit
from ..auth import policy
from ..core import clock
from ..core.access import AUTHENTICATED, rule
from ..core.web import act
from ..extensions import db
from . import bp
from .models import CaseTransfer
from .transfers import decide_transfer, transfers_for_office


@bp.route("/traslados/")
@rule(AUTHENTICATED)
def transfers():
    incoming, outgoing = transfers_for_office(current_user.office_id)
    page = render_template("cases/transfers.html", incoming=incoming, outgoing=outgoing)
    audit.record("transfers_viewed", details={"entrantes": len(incoming), "salientes": len(outgoing)})
    db.session.commit()
    return page


@bp.route("/traslados/<int:transfer_id>/decision", methods=["POST"])
@rule(AUTHENTICATED, on="can_decide_transfer")
def transfer_decide(transfer_id):
    transfer = db.get_or_404(CaseTransfer, transfer_id)
    policy.check(transfer)
    accept = request.form.get("decision") == "aceptar"
    return act(lambda: decide_transfer(transfer, current_user, accept, request.form.get("nota"), clock.now()),
               lambda _r: _decided(transfer, accept), refused=lambda exc: redirect(url_for("cases.transfers")),
               note=_("No se guardó nada."))


def _decided(transfer, accept):
    flash(_("Traslado aceptado: el caso y sus tareas pasan a su oficina.") if accept else _("Traslado rechazado."),
          "success")
    return redirect(url_for("cases.detail", case_id=transfer.case_id) if accept else url_for("cases.transfers"))
