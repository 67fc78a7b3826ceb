"""Case pages: list, search, the case file with its whole story, and 'Nuevo caso'."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import services as audit
from ..auth import policy
from ..auth.policy import can
from ..core.access import AUTHENTICATED, rule
from ..core.pagination import paginate
from ..core.web import act
from ..extensions import db
from ..workflow import services as workflow
from . import bp
from .file import case_file
from .models import Case
from .search import query_kinds, search_cases
from .services import cases_in_scope, start_case


@bp.route("/casos/")
@rule(AUTHENTICATED)
def index():
    page = paginate(cases_in_scope(current_user), request.args.get("pagina"), current_app.config["INBOX_PAGE_SIZE"])
    html = render_template("cases/index.html", page=page, can_request_emergency=can("cases.emergency_access"))
    audit.record("cases_listed", details={"pagina": page.number, "casos": len(page.items)})
    db.session.commit()
    return html


@bp.route("/casos/buscar")
@rule(AUTHENTICATED)
def search():
    query = request.args.get("q", "")
    results = search_cases(current_user, query)
    html = render_template("cases/search.html", query=query, results=results)
    if query.strip():  # the kind of query and the count, never the DNI or name typed
        audit.record("cases_searched", details={"tipo": query_kinds(query), "resultados": len(results)})
        db.session.commit()
    return html


@bp.route("/casos/<int:case_id>")
@rule(AUTHENTICATED, on="can_view_case")
def detail(case_id):
    case = db.get_or_404(Case, case_id)
    policy.check(case)
    page = render_template("cases/detail.html", **case_file(case, current_user))
    audit.record("case_viewed", case_id=case.id, object_type="case", object_id=case.id)
    db.session.commit()
    return page


@bp.route("/casos/nuevo", methods=["GET", "POST"])
@rule("can_start_case")
def new():
    versions = workflow.startable_versions()
    if not versions:
        abort(503, _("No hay ningún proceso publicado. Un administrador debe desplegar los diagramas."))
    if request.method == "GET":
        return render_template("cases/new.html", versions=versions)
    return act(lambda: start_case(current_user, versions, request.form.get("proceso")), _started)


def _started(human_task):
    flash(_("Proceso iniciado. Registre los datos del caso."), "success")
    return redirect(url_for("tasks.show", task_id=human_task.id) if human_task else url_for("tasks.inbox"))
