"""Inbox and task pages."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import policy
from ..cases.models import Case
from ..cases.persons import PersonDecisionNeeded
from ..core.errors import DomainError
from ..core.pagination import paginate
from ..extensions import db
from ..workflow.models import HumanTask
from . import services

bp = Blueprint("tasks", __name__, template_folder="templates", url_prefix="/tareas")


@bp.route("/")
def inbox():
    query = services.inbox_query(current_user)
    page = paginate(query, request.args.get("pagina"), current_app.config["INBOX_PAGE_SIZE"])
    return render_template("tasks/inbox.html", page=page)


@bp.route("/<int:task_id>")
def show(task_id):
    human_task = _load(task_id)
    if human_task.completed_at is not None:
        flash(_("Esta tarea ya fue completada."), "info")
        return _after(human_task)
    compiled, form = services.build_form(human_task)
    return _render(human_task, compiled, form)


@bp.route("/<int:task_id>", methods=["POST"])
def submit(task_id):
    human_task = _load(task_id)
    try:
        services.check_can_work(current_user, human_task)
        compiled, form = services.build_form(human_task, formdata=request.form)
        if not compiled.validate(form):
            flash(_("Revise los campos marcados. No se guardó nada."), "danger")
            return _render(human_task, compiled, form, status=422)
        warnings = services.complete_task(current_user, human_task, compiled, form, extras=_extras())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _refused(human_task, exc)
    flash(_("«%(task)s» completada.", task=human_task.title), "success")
    for warning in warnings:
        flash(warning, "warning")
    following = services.next_task_for(current_user, human_task.instance_id)
    return redirect(url_for("tasks.show", task_id=following.id)) if following else _after(human_task)


def _load(task_id) -> HumanTask:
    human_task = db.get_or_404(HumanTask, task_id)
    policy.require(policy.can_view_task(current_user, human_task))
    return human_task


def _extras():
    """Decisions the page adds beside the form fields (which existing person to link)."""
    return {"persona": request.form.get("siproc_persona")} if request.form.get("siproc_persona") else {}


def _render(human_task, compiled, form, status=200, candidates=None):
    case = db.session.get(Case, human_task.case_id) if human_task.case_id else None
    can_work = policy.can_work_task(current_user, human_task)
    return render_template(
        "tasks/show.html", task=human_task, compiled=compiled, form=form, case=case, can_work=can_work,
        instructions=services.instructions(human_task, case), candidates=candidates,
    ), status


def _refused(human_task, exc: DomainError):
    """A refused submit: field errors re-render the form; anything else explains and goes back."""
    human_task = db.session.get(HumanTask, human_task.id)
    if isinstance(exc, PersonDecisionNeeded) and human_task.completed_at is None:
        compiled, form = services.build_form(human_task, formdata=request.form)
        form.validate()
        flash(exc.message, "warning")
        return _render(human_task, compiled, form, status=409, candidates=exc.candidates)
    if exc.field_errors and human_task.completed_at is None:
        compiled, form = services.build_form(human_task, formdata=request.form)
        form.validate()
        for name, message in exc.field_errors.items():
            if hasattr(form, name):
                getattr(form, name).errors = [*getattr(form, name).errors, message]
        flash(exc.message, "danger")
        return _render(human_task, compiled, form, status=422)
    flash(exc.message, "danger")
    if exc.status_code == 403:
        return render_template("errors/error.html", code=403, message=exc.message), 403
    return _after(human_task)


def _after(human_task):
    """Where to go after a task: its case if there is one, else the inbox."""
    target = url_for("cases.detail", case_id=human_task.case_id) if human_task.case_id else url_for("tasks.inbox")
    return redirect(target)
