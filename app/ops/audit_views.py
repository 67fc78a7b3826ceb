"""Administrator page «Auditoría»: the audit trail filtered by user, case, action and date; chain verification."""
from datetime import UTC, date, datetime, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..audit.services import ACTIONS, events_query, verify_chain
from ..auth.models import User
from ..cases.models import Case
from ..core.access import rule
from ..core.ids import parse_id
from ..core.pagination import paginate
from ..extensions import db
from . import bp


@bp.route("/admin/auditoria/")
@rule("is_admin")
def audit():
    filters, problems = _filters(request.args)
    page = paginate(events_query(**filters), request.args.get("pagina"), 100)
    users = db.session.scalars(db.select(User).order_by(User.username)).all()
    query_args = {k: v for k, v in request.args.items() if k != "pagina"}
    return render_template("audit/index.html", page=page, users=users, actions=ACTIONS, args=request.args,
                           query_args=query_args, problems=problems), (422 if problems else 200)


@bp.route("/admin/auditoria/verificar", methods=["POST"])
@rule("is_admin")
def audit_verify():
    report = verify_chain()
    if report.ok:
        flash(_("Cadena íntegra: %(n)d registros verificados, %(u)d pendientes de sellar.", n=report.checked,
                u=report.unsealed), "success")
    else:
        flash(_("La cadena de auditoría está alterada: %(p)s", p="; ".join(report.problems[:5])), "danger")
    return redirect(url_for("ops.audit"))


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
