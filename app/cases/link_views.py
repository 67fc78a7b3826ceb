"""Link requests for persons registered by other offices: ask at intake, list, approve or reject."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import services as audit
from ..auth import policy
from ..core import clock
from ..core.access import AUTHENTICATED, rule
from ..core.web import act
from ..extensions import db
from . import bp, link_requests
from .models import PersonLinkRequest


@bp.route("/casos/vinculos")
@rule(AUTHENTICATED)
def link_requests_page():
    to_decide = link_requests.requests_to_decide(current_user)
    own = link_requests.requests_of_office(current_user)
    page = render_template("cases/link_requests.html", to_decide=to_decide, own=own)
    audit.record("link_requests_viewed", object_type="person_link_request",
                 details={"pendientes": [link.id for link in to_decide]})
    db.session.commit()
    return page


@bp.route("/casos/vinculos/<int:link_id>/decision", methods=["POST"])
@rule(AUTHENTICATED, on="can_decide_link")
def decide_link(link_id):
    link = db.get_or_404(PersonLinkRequest, link_id)
    policy.check(link)
    approve = request.form.get("decision") == "aprobar"
    back = redirect(url_for("cases.link_requests_page"))
    return act(lambda: link_requests.decide(link, current_user, approve, request.form.get("nota"), clock.now()),
               lambda _r: _decided(approve, back), refused=lambda exc: back, note=_("No se guardó nada."))


def _decided(approve, back):
    flash(_("Vínculo aprobado.") if approve else _("Vínculo rechazado."), "success")
    return back


@bp.app_template_global()
def person_masked_fields(case) -> set[str]:
    """For the case page: the person's fields registered by another office, hidden from this case's office."""
    from .persons import masked_fields

    if not current_user.is_authenticated or current_user.office_id != case.office_id:
        return set()  # central users and break-glass access follow their own rules
    return masked_fields(current_user, case.person)
