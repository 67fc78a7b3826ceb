"""Administrator page: the audit trail filtered by user, case, action and date; chain verification."""
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.models import User
from ..cases.models import Case
from ..core.ids import parse_id
from ..core.pagination import paginate
from ..extensions import db
from .services import ACTIONS, events_query, record, verify_chain

bp = Blueprint("audit", __name__, template_folder="templates", url_prefix="/admin/auditoria")
# The access log of one case, linked from the case page (a blueprint of its own for the /casos prefix).
case_bp = Blueprint("case_audit", __name__, template_folder="templates", url_prefix="/casos")


def can_see_access_log(user, case) -> bool:
    """Least privilege: supervisors of the case's office and central users (administrators included). Officers
    of the office do not see who else opened the case; a supervisor of another office, an emergency access or
    a pending transfer does not grant it either."""
    return user.is_central or (user.role == "supervisor" and user.office_id == case.office_id)


ENDPOINT_RULES = {
    "audit.index": lambda user: user.role == "admin",
    "audit.verify": lambda user: user.role == "admin",
    # policy.AUTHENTICATED: the view looks the case up first (a guessed id is 404 for everyone, as on every case
    # URL), then can_see_access_log refuses with 403 (officers, other offices).
    "case_audit.access_log": "authenticated",
}


@case_bp.route("/<int:case_id>/accesos")
def access_log(case_id):
    """Who viewed or changed what in this case, and when: its audit rows, newest first."""
    case = db.get_or_404(Case, case_id)
    if not can_see_access_log(current_user, case):
        abort(403)
    page = paginate(events_query(case_id=case.id), request.args.get("pagina"),
                    current_app.config["AUDIT_ACCESS_LOG_PAGE_SIZE"])
    html = render_template("audit/case_access_log.html", case=case, page=page, actions=ACTIONS)
    record("access_log_viewed", case_id=case.id, object_type="case", object_id=case.id,
           details={"pagina": page.number})
    db.session.commit()
    return html


@bp.route("/")
def index():
    filters, problems = _filters(request.args)
    page = paginate(events_query(**filters), request.args.get("pagina"), 100)
    users = db.session.scalars(db.select(User).order_by(User.username)).all()
    query_args = {k: v for k, v in request.args.items() if k != "pagina"}
    return render_template("audit/index.html", page=page, users=users, actions=ACTIONS, args=request.args,
                           query_args=query_args, problems=problems), (422 if problems else 200)


@bp.route("/verificar", methods=["POST"])
def verify():
    report = verify_chain()
    if report.ok:
        flash(_("Cadena íntegra: %(n)d registros verificados, %(u)d pendientes de sellar.", n=report.checked,
                u=report.unsealed), "success")
    else:
        flash(_("La cadena de auditoría está alterada: %(p)s", p="; ".join(report.problems[:5])), "danger")
    return redirect(url_for("audit.index"))


def _filters(args):
    """Query filters from the URL; invalid values are reported and ignored, never a 500."""
    filters, problems = {}, []
    if args.get("usuario"):
        if parse_id(args["usuario"]):
            filters["user_id"] = parse_id(args["usuario"])
        else:
            problems.append(_("Usuario no válido."))
    if args.get("caso"):
        case_id = db.session.scalar(db.select(Case.id).where(Case.number == args["caso"].strip().upper()))
        if case_id is None:
            problems.append(_("No existe el caso %(n)s.", n=args["caso"]))
        filters["case_id"] = case_id or -1
    if args.get("accion"):
        if args["accion"] in ACTIONS:
            filters["action"] = args["accion"]
        else:
            problems.append(_("Acción no válida."))
    for key, name, shift in (("desde", "since", 0), ("hasta", "until", 1)):
        if args.get(key):
            try:
                day = date.fromisoformat(args[key])
                filters[name] = datetime.combine(day + timedelta(days=shift), datetime.min.time(), UTC)
            except ValueError:
                problems.append(_("Fecha no válida: %(d)s", d=args[key]))
    return filters, problems
