"""The access log of one case: who viewed or changed what in it, and when (its audit rows, newest first)."""
from flask import current_app, render_template, request

from ..audit.services import ACTIONS, events_query, record
from ..auth import policy
from ..core.access import AUTHENTICATED, rule
from ..core.pagination import paginate
from ..extensions import db
from . import bp
from .models import Case


@bp.route("/casos/<int:case_id>/accesos")
@rule(AUTHENTICATED, on="oversees_case")  # a guessed id is 404 for everyone first, as on every case URL
def access_log(case_id):
    case = db.get_or_404(Case, case_id)
    policy.check(case)
    page = paginate(events_query(case_id=case.id), request.args.get("pagina"),
                    current_app.config["AUDIT_ACCESS_LOG_PAGE_SIZE"])
    html = render_template("cases/access_log.html", case=case, page=page, actions=ACTIONS)
    record("access_log_viewed", case_id=case.id, object_type="case", object_id=case.id,
           details={"pagina": page.number})
    db.session.commit()
    return html
