"""Inbox, task pages, claiming and assignment, drafts and the supervisor view."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import CombinedMultiDict

from ..audit import services as audit
from ..auth import policy
from ..cases import approval
from ..cases.assignment import officers_of
from ..cases.models import Case
from ..cases.persons import PersonDecisionNeeded
from ..core import clock
from ..core.access import AUTHENTICATED, rule
from ..core.errors import DomainError, InvalidForm
from ..core.web import act, show_field_errors
from ..extensions import db
from ..workflow import services as workflow
from ..workflow.models import HumanTask
from . import assignment, bp, drafts, four_eyes, services
from . import inbox as queues
from . import supervision as overview


@bp.route("/tareas/")
@rule(AUTHENTICATED)
def inbox():
    wanted = queues.parse_request(current_user, request.args)
    page = queues.inbox_page(current_user, wanted, current_app.config["INBOX_PAGE_SIZE"])
    html = render_template("tasks/inbox.html", page=page, wanted=wanted, counts=queues.counts(current_user),
                           views=queues.views_for(current_user), filters=_filter_choices(),
                           proposed_by_me=four_eyes.blocked_among(current_user, [row[0] for row in page.items]))
    audit.record("tasks_listed", details={"pagina": page.number, "tareas": len(page.items)})
    db.session.commit()
    return html, (400 if wanted.problems else 200)


@bp.route("/tareas/supervision")
@rule("oversees_offices")
def supervision():
    office_id = overview.office_for(current_user, request.args.get("oficina"))
    html = render_template("tasks/supervision.html", **overview.office_overview(office_id, current_user))
    audit.record("supervision_viewed", details={"oficina": office_id})
    db.session.commit()
    return html


@bp.route("/tareas/<int:task_id>")
@rule(AUTHENTICATED, on="can_view_task")
def show(task_id):
    human_task = _load(task_id)
    if human_task.completed_at is not None:
        flash(_("Esta tarea ya fue completada."), "info")
        return _after(human_task)
    draft = drafts.draft_of(human_task)
    compiled, form = services.build_form(human_task, formdata=drafts.draft_formdata(draft) if draft else None)
    shown = _approval_panel(human_task)
    page = _render(human_task, compiled, form, draft=draft, approval_panel=shown)
    audit.record("task_viewed", case_id=human_task.case_id, object_type="human_task", object_id=human_task.id,
                 details={"panel_aprobacion": shown.name} if shown else None)  # the panel shows case records
    db.session.commit()
    return page


@bp.route("/tareas/<int:task_id>", methods=["POST"])
@rule(AUTHENTICATED, on="can_view_task")
def submit(task_id):
    human_task = _load(task_id)

    def complete():
        services.check_can_work(current_user, human_task)
        formdata = CombinedMultiDict([request.form, request.files]) if request.files else request.form  # file fields
        compiled, form = services.build_form(human_task, formdata=formdata)
        if not compiled.validate(form):
            refusal = InvalidForm(_("Revise los campos marcados. No se guardó nada."))
            refusal.page = (compiled, form)  # shown again with its errors
            raise refusal
        warnings = services.complete_task(current_user, human_task, compiled, form, extras=_extras())
        drafts.discard_draft(human_task)
        return warnings

    return act(complete, lambda warnings: _completed(human_task, warnings),
               refused=lambda exc: _refused(human_task, exc))


def _completed(human_task, warnings):
    flash(_("«%(task)s» completada.", task=human_task.title), "success")
    for warning in warnings:
        flash(warning, "warning")
    following = services.next_task_for(current_user, human_task.instance_id)
    return redirect(url_for("tasks.show", task_id=following.id)) if following else _after(human_task)


@bp.route("/tareas/<int:task_id>/borrador", methods=["POST"])
@rule(AUTHENTICATED, on="can_view_task")
def save_draft(task_id):
    human_task = _load(task_id)
    audit.record("task_draft_saved", case_id=human_task.case_id, object_type="human_task", object_id=human_task.id)
    return _act(human_task, lambda: _check_and(human_task, lambda: drafts.save_draft(
        current_user, human_task, request.form, clock.now())), _("Borrador guardado. La tarea sigue pendiente."),
        back_to_task=True)


@bp.route("/tareas/<int:task_id>/tomar", methods=["POST"])
@rule(AUTHENTICATED, on="can_view_task")
def claim(task_id):
    human_task = _load(task_id)
    audit.record("task_claimed", case_id=human_task.case_id, object_type="human_task", object_id=human_task.id)
    return _act(human_task, lambda: assignment.claim(current_user, human_task, clock.now()),
                _("Tarea tomada: ahora está en «Mis tareas»."), back_to_task=True)


@bp.route("/tareas/<int:task_id>/devolver", methods=["POST"])
@rule(AUTHENTICATED, on="can_view_task")
def release(task_id):
    human_task = _load(task_id)
    audit.record("task_released", case_id=human_task.case_id, object_type="human_task", object_id=human_task.id)
    return _act(human_task, lambda: assignment.release(current_user, human_task, clock.now()),
                _("Tarea devuelta a la bandeja de la oficina."))


@bp.route("/tareas/<int:task_id>/asignar", methods=["POST"])
@rule(AUTHENTICATED, on="can_view_task")
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
    """act() for the task page's buttons (a concurrent change of the same task is a clear Conflict)."""
    def done(_result):
        flash(success, "success")
        return redirect(url_for("tasks.show", task_id=human_task.id) if back_to_task else url_for("tasks.inbox"))

    def run():
        action()
        workflow.flush_or_conflict()  # a lost race names the case, not a generic record

    return act(run, done, refused=lambda exc: (redirect(url_for("tasks.show", task_id=human_task.id)), 303))


def _load(task_id) -> HumanTask:
    human_task = db.get_or_404(HumanTask, task_id)
    policy.check(human_task)
    return human_task


def _filter_choices():
    from ..reference.services import option_choices

    return {"categories": option_choices("case_categories"), "types": queues.task_types(),
            "offices": option_choices("offices") if current_user.is_central else []}


def _extras():
    """Decisions the page adds beside the form fields (which existing person to link)."""
    return {"persona": request.form.get("siproc_persona")} if request.form.get("siproc_persona") else {}


def _render(human_task, compiled, form, status=200, candidates=None, draft=None, approval_panel=False):
    """The task page. Its proposer sees an approval task read-only (403) with why they may not work it; a
    supervisor is not offered them as its assignee."""
    case = db.session.get(Case, human_task.case_id) if human_task.case_id else None
    excluded = four_eyes.excluded_step(human_task)
    proposer_refusal = four_eyes.refusal(current_user, human_task, excluded)
    can_work = policy.can_work_task(current_user, human_task) and not proposer_refusal
    officers = officers_of(human_task.office_id) if policy.supervises_office(current_user, human_task.office_id) else []
    return render_template(
        "tasks/show.html", task=human_task, compiled=compiled, form=form, case=case, can_work=can_work,
        instructions=services.instructions(human_task, case), candidates=candidates, draft=draft,
        officers=[o for o in officers if excluded is None or o.id != excluded.completed_by_id],
        four_eyes=proposer_refusal,
        approval=_approval_panel(human_task) if approval_panel is False else approval_panel,
    ), 403 if proposer_refusal and status == 200 else status


def _approval_panel(human_task):
    """What an approval task approves, as its diagram's `approvalPanel` names it (None for other tasks)."""
    info = services.task_definition(human_task)
    name = getattr(info, "approval_panel", None)
    if not name:
        return None
    return approval.approval_panel(current_user, human_task, name, four_eyes.approved_step(human_task, info))


def _refused(human_task, exc: DomainError):
    """A refused submit (act has flashed why): field errors re-render the form; anything else goes back."""
    human_task = db.session.get(HumanTask, human_task.id)
    if isinstance(exc, PersonDecisionNeeded) and human_task.completed_at is None:
        compiled, form = services.build_form(human_task, formdata=request.form)
        form.validate()
        from ..cases.link_requests import hint_tokens

        hint_tokens(current_user, human_task, exc.candidates)  # hidden candidates: only an opaque token
        return _render(human_task, compiled, form, status=409, candidates=exc.candidates)
    if isinstance(exc, InvalidForm):
        return _render(human_task, *exc.page, status=422)
    if exc.field_errors and human_task.completed_at is None:
        compiled, form = services.build_form(human_task, formdata=request.form)
        form.validate()
        show_field_errors(form, exc)
        return _render(human_task, compiled, form, status=422)
    return _after(human_task)


def _after(human_task):
    """Where to go after a task: its case if there is one, else the inbox."""
    target = url_for("cases.detail", case_id=human_task.case_id) if human_task.case_id else url_for("tasks.inbox")
    return redirect(target)
