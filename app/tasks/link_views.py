"""From the intake task: ask the office that registered a person to link this case to them."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..auth import policy
from ..cases import link_requests
from ..core import clock
from ..core.access import AUTHENTICATED, rule
from ..core.web import act
from ..extensions import db
from ..workflow.models import HumanTask
from . import bp
from .drafts import save_draft


@bp.route("/casos/vinculos/tarea/<int:task_id>", methods=["POST"])
@rule(AUTHENTICATED, on="can_view_task")
def request_link(task_id):
    human_task = db.get_or_404(HumanTask, task_id)
    policy.check(human_task)
    now = clock.now()

    def ask():
        link_requests.request_link(current_user, human_task, request.form.get("token"), request.form.get("motivo"),
                                   now)
        _keep_typed_data(human_task, now)

    back = (redirect(url_for("tasks.show", task_id=human_task.id)), 303)
    return act(ask, lambda _r: _asked(back), refused=lambda exc: back)


def _asked(back):
    flash(_("Solicitud de vínculo enviada a la oficina que registró a la persona. Puede completar el registro "
            "como persona nueva: si la solicitud se aprueba, el caso quedará vinculado a la persona ya "
            "registrada."), "success")
    return back


def _keep_typed_data(human_task, now):
    """What the officer typed stays as the task's draft, so the page comes back filled in."""
    kept = MultiDict([(k, v) for k, v in request.form.items(multi=True) if k not in ("token", "siproc_persona",
                                                                                     "motivo")])
    save_draft(current_user, human_task, kept, now)


