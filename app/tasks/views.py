"""Inbox, task pages, claiming and assignment, drafts and the supervisor view."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import services as audit
from ..auth import policy
from ..cases.models import Case
from ..cases.persons import PersonDecisionNeeded
from ..core import clock
from ..core.errors import DomainError
from ..extensions import db
from ..workflow import services as workflow
from ..workflow.models import HumanTask
from . import assignment, drafts, services
from . import inbox as queues
from . import supervision as overview

bp = Blueprint("tasks", __name__, template_folder="templates", url_prefix="/tareas")


@bp.route("/")
def inbox():
    wanted = queues.parse_request(current_user, request.args)
    page = queues.inbox_page(current_user, wanted, current_app.config["INBOX_PAGE_SIZE"])
    html = render_template("tasks/inbox.html", page=page, wanted=wanted, counts=queues.counts(current_user),
                           views=queues.views_for(current_user), filters=_filter_choices())
    audit.record("tasks_listed", details={"pagina": page.number, "tareas": len(page.items)})
    db.session.commit()
    return html, (400 if wanted.problems else 200)


@bp.route("/supervision")
def supervision():
    office_id = overview.office_for(current_user, request.args.get("oficina"))
    html = render_template("tasks/supervision.html", **overview.office_overview(office_id, current_user))
    audit.record("supervision_viewed", details={"oficina": office_id})
    db.session.commit()
    return html


@bp.route("/<int:task_id>")
def show(task_id):
    human_task = _load(task_id)
    if human_task.completed_at is not None:
        flash(_("Esta tarea ya fue completada."), "info")
        return _after(human_task)
    draft = drafts.draft_of(human_task)
    compiled, form = services.build_form(human_task, formdata=drafts.draft_formdata(draft) if draft else None)
    page = _render(human_task, compiled, form, draft=draft)
    audit.record("task_viewed", case_id=human_task.case_id, object_type="human_task", object_id=human_task.id)
    db.session.commit()
    return page


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
        drafts.discard_draft(human_task)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _refused(human_task, exc)
    flash(_("«%(task)s» completada.", task=human_task.title), "success")
    for warning in warnings:
        flash(warning, "warning")
    following = services.next_task_for(current_user, human_task.instance_id)
    return redirect(url_for("tasks.show", task_id=following.id)) if following else _after(human_task)


@bp.route("/<int:task_id>/borrador", methods=["POST"])
def save_draft(task_id):
    human_task = _load(task_id)
    audit.record("task_draft_saved", case_id=human_task.case_id, object_type="human_task", object_id=human_task.id)
    return _act(human_task, lambda: _check_and(human_task, lambda: drafts.save_draft(
        current_user, human_task, request.form, clock.now())), _("Borrador guardado. La tarea sigue pendiente."),
        back_to_task=True)


@bp.route("/<int:task_id>/tomar", methods=["POST"])
def claim(task_id):
    human_task = _load(task_id)
    audit.record("task_claimed", case_id=human_task.case_id, object_type="human_task", object_id=human_task.id)
    return _act(human_task, lambda: assignment.claim(current_user, human_task, clock.now()),
                _("Tarea tomada: ahora está en «Mis tareas»."), back_to_task=True)


@bp.route("/<int:task_id>/devolver", methods=["POST"])
def release(task_id):
    human_task = _load(task_id)
    audit.record("task_released", case_id=human_task.case_id, object_type="human_task", object_id=human_task.id)
    return _act(human_task, lambda: assignment.release(current_user, human_task, clock.now()),
                _("Tarea devuelta a la bandeja de la oficina."))


@bp.route("/<int:task_id>/asignar", methods=["POST"])
def assign(task_id):
    human_task = _load(task_id)
    audit.record("task_assigned", case_id=human_task.case_id, object_type="human_task", object_id=human_task.id,
                 details={"usuario": request.form.get("usuario", "")[:20]})
    return _act(human_task, lambda: assignment.assign_task(current_user, human_task, request.form.get("usuario"),
                                                           clock.now()), _("Tarea asignada."), back_to_task=True)


def _check_and(human_task, action):
    services.check_can_work(current_user, human_task)
    return action()


def _act(human_task, action, success, back_to_task=False):
    """Run one assignment or draft action; commit and confirm, or roll back and explain."""
    try:
        action()
        workflow.flush_or_conflict()  # a concurrent change of the same task: a clear Conflict, not a 500
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        if exc.status_code == 403:
            return render_template("errors/error.html", code=403, message=exc.message), 403
        return redirect(url_for("tasks.show", task_id=human_task.id)), 303
    flash(success, "success")
    return redirect(url_for("tasks.show", task_id=human_task.id) if back_to_task else url_for("tasks.inbox"))


def _load(task_id) -> HumanTask:
    human_task = db.get_or_404(HumanTask, task_id)
    policy.require(policy.can_view_task(current_user, human_task))
    return human_task


def _filter_choices():
    from ..reference.services import option_choices

    return {"categories": option_choices("case_categories"), "types": queues.task_types(),
            "offices": option_choices("offices") if current_user.is_central else []}


def _extras():
    """Decisions the page adds beside the form fields (which existing person to link)."""
    return {"persona": request.form.get("siproc_persona")} if request.form.get("siproc_persona") else {}


def _render(human_task, compiled, form, status=200, candidates=None, draft=None):
    case = db.session.get(Case, human_task.case_id) if human_task.case_id else None
    can_work = policy.can_work_task(current_user, human_task)
    return render_template(
        "tasks/show.html", task=human_task, compiled=compiled, form=form, case=case, can_work=can_work,
        instructions=services.instructions(human_task, case), candidates=candidates, draft=draft,
        officers=assignment.officers_of(human_task.office_id)
        if current_user.role == "supervisor" and current_user.office_id == human_task.office_id else [],
    ), status


def _refused(human_task, exc: DomainError):
    """A refused submit: field errors re-render the form; anything else explains and goes back."""
    human_task = db.session.get(HumanTask, human_task.id)
    if isinstance(exc, PersonDecisionNeeded) and human_task.completed_at is None:
        compiled, form = services.build_form(human_task, formdata=request.form)
        form.validate()
        flash(exc.message, "warning")
        from ..cases.link_requests import hint_tokens

        hint_tokens(current_user, human_task, exc.candidates)  # hidden candidates: only an opaque token
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
