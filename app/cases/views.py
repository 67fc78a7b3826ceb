"""Case pages: list, search, the case file with its whole story, and 'Nuevo caso'."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import services as audit
from ..auth import policy
from ..core.pagination import paginate
from ..extensions import db
from ..workflow import services as workflow
from . import emergency
from .file import case_file
from .models import Case
from .search import query_kinds, search_cases
from .services import cases_in_scope, start_case

bp = Blueprint("cases", __name__, template_folder="templates", url_prefix="/casos")


@bp.route("/")
def index():
    page = paginate(cases_in_scope(current_user), request.args.get("pagina"), current_app.config["INBOX_PAGE_SIZE"])
    html = render_template("cases/index.html", page=page, can_request_emergency=emergency.can_request(current_user))
    audit.record("cases_listed", details={"pagina": page.number, "casos": len(page.items)})
    db.session.commit()
    return html


@bp.route("/buscar")
def search():
    query = request.args.get("q", "")
    results = search_cases(current_user, query)
    html = render_template("cases/search.html", query=query, results=results)
    if query.strip():  # the kind of query and the count, never the DNI or name typed
        audit.record("cases_searched", details={"tipo": query_kinds(query), "resultados": len(results)})
        db.session.commit()
    return html


@bp.route("/<int:case_id>")
def detail(case_id):
    case = db.get_or_404(Case, case_id)
    policy.require(policy.can_view_case(current_user, case))
    page = render_template("cases/detail.html", **case_file(case, current_user))
    audit.record("case_viewed", case_id=case.id, object_type="case", object_id=case.id)
    db.session.commit()
    return page


@bp.route("/nuevo", methods=["GET", "POST"])
def new():
    versions = workflow.startable_versions()
    if not versions:
        abort(503, _("No hay ningún proceso publicado. Un administrador debe desplegar los diagramas."))
    if request.method == "GET":
        return render_template("cases/new.html", versions=versions)
    human_task = start_case(current_user, versions, request.form.get("proceso"))
    db.session.commit()
    flash(_("Proceso iniciado. Registre los datos del caso."), "success")
    return redirect(url_for("tasks.show", task_id=human_task.id) if human_task else url_for("tasks.inbox"))


from . import emergency_views, record_views  # noqa: E402,F401  (more routes on this blueprint)
from .link_views import bp as _link_routes  # noqa: E402,F401  (person link requests on this blueprint)
