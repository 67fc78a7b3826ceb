"""Link requests for persons registered by other offices: ask at intake, list, approve or reject."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..audit import services as audit
from ..auth import policy
from ..core import clock
from ..core.errors import DomainError
from ..extensions import db
from ..workflow.models import HumanTask
from . import link_requests
from .models import PersonLinkRequest
from .views import bp


@bp.route("/vinculos")
def link_requests_page():
    to_decide = link_requests.requests_to_decide(current_user)
    own = link_requests.requests_of_office(current_user)
    page = render_template("cases/link_requests.html", to_decide=to_decide, own=own)
    audit.record("link_requests_viewed", object_type="person_link_request",
                 details={"pendientes": [link.id for link in to_decide]})
    db.session.commit()
    return page


@bp.route("/vinculos/tarea/<int:task_id>", methods=["POST"])
def request_link(task_id):
    human_task = db.get_or_404(HumanTask, task_id)
    policy.require(policy.can_view_task(current_user, human_task))
    now = clock.now()
    try:
        link_requests.request_link(current_user, human_task, request.form.get("token"), request.form.get("motivo"),
                                   now)
        _keep_typed_data(human_task, now)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if exc.status_code == 403:
            return render_template("errors/error.html", code=403, message=exc.message), 403
        flash(exc.message, "danger")
        return redirect(url_for("tasks.show", task_id=human_task.id)), 303
    flash(_("Solicitud de vínculo enviada a la oficina que registró a la persona. Puede completar el registro "
            "como persona nueva: si la solicitud se aprueba, el caso quedará vinculado a la persona ya "
            "registrada."), "success")
    return redirect(url_for("tasks.show", task_id=human_task.id)), 303


@bp.route("/vinculos/<int:link_id>/decision", methods=["POST"])
def decide_link(link_id):
    link = db.get_or_404(PersonLinkRequest, link_id)
    policy.require(link_requests.can_decide(current_user, link))
    approve = request.form.get("decision") == "aprobar"
    try:
        link_requests.decide(link, current_user, approve, request.form.get("nota"), clock.now())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message + " " + _("No se guardó nada."), "danger")
        return redirect(url_for("cases.link_requests_page"))
    flash(_("Vínculo aprobado.") if approve else _("Vínculo rechazado."), "success")
    return redirect(url_for("cases.link_requests_page"))


def _keep_typed_data(human_task, now):
    """What the officer typed stays as the task's draft, so the page comes back filled in."""
    from ..tasks.drafts import save_draft

    kept = MultiDict([(k, v) for k, v in request.form.items(multi=True) if k not in ("token", "siproc_persona",
                                                                                     "motivo")])
    save_draft(current_user, human_task, kept, now)


@bp.app_template_global()
def person_masked_fields(case) -> set[str]:
    """For the case page: the person's fields registered by another office, hidden from this case's office."""
    from .persons import masked_fields

    if not current_user.is_authenticated or current_user.office_id != case.office_id:
        return set()  # central users and break-glass access follow their own rules
    return masked_fields(current_user, case.person)
