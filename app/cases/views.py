"""Case pages: list, detail with history, and 'Nuevo caso'."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import policy
from ..core.pagination import paginate
from ..extensions import db
from ..workflow import services as workflow
from ..workflow.models import HumanTask
from .models import Case, CaseEvent
from .services import cases_in_scope, start_case

bp = Blueprint("cases", __name__, template_folder="templates", url_prefix="/casos")


@bp.route("/")
def index():
    page = paginate(cases_in_scope(current_user), request.args.get("pagina"), current_app.config["INBOX_PAGE_SIZE"])
    return render_template("cases/index.html", page=page)


@bp.route("/<int:case_id>")
def detail(case_id):
    case = db.get_or_404(Case, case_id)
    policy.require(policy.can_view_case(current_user, case))
    events = db.session.scalars(
        db.select(CaseEvent).where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.occurred_at.desc(), CaseEvent.id.desc())
    ).all()
    open_tasks = db.session.scalars(
        db.select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.completed_at.is_(None))
    ).all()
    return render_template("cases/detail.html", case=case, events=events, open_tasks=open_tasks)


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
