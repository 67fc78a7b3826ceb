"""The task inbox and task completion: forms from the instance's own process version."""
import json

from flask_babel import gettext as _
from markupsafe import Markup

from ..auth import policy
from ..cases.models import Case
from ..cases.services import record_event
from ..core import clock
from ..core.errors import DomainError, NotAllowed
from ..extensions import db
from ..formschema import FormSchemaError, compile_form, load_form
from ..formschema.compiler import FORM_FACTS, prefill_values
from ..formschema.instructions import render_instructions
from ..formschema.loader import load_ui
from ..reference.services import option_choices
from ..workflow import services as workflow
from ..workflow.actions import ActionContext, get_action
from ..workflow.engine import get_engine
from ..workflow.models import HumanTask, ProcessVersion
from . import four_eyes

_compiled_forms: dict[tuple, object] = {}


def _compiled(version_key: tuple, forms_json, form_file: str, ui_file: str | None):
    """A version's form compiled once per process; forms_json (a callable) is read only on a miss."""
    key = (version_key, form_file, ui_file)
    if key not in _compiled_forms:
        try:
            _compiled_forms[key] = _compile(forms_json(), form_file, ui_file)
        except FormSchemaError as exc:  # a version stored before a rule that its form now breaks
            raise DomainError(_("El formulario de esta tarea no se puede usar: %(error)s. Un gestor de procesos "
                                "debe corregirlo y publicar una nueva versión.", error=str(exc))) from exc
    return _compiled_forms[key]


def _compile(forms_json: str, form_file: str, ui_file: str | None):
    forms = json.loads(forms_json)
    return compile_form(form_file, load_form(form_file, forms[form_file]), load_ui(ui_file, forms.get(ui_file)))


def task_definition(human_task: HumanTask):
    version: ProcessVersion = human_task.instance.process_version
    return get_engine().user_task(version.cache_key, lambda: version.spec_json, human_task.task_spec)


def compiled_form(human_task: HumanTask):
    """The task's form as it was when its process version was deployed."""
    version: ProcessVersion = human_task.instance.process_version
    info = task_definition(human_task)
    return _compiled(version.cache_key, lambda: version.forms_json, human_task.form_file,
                     info.ui_form if info else None)


def build_form(human_task, formdata=None, data=None, csrf=True):
    compiled = compiled_form(human_task)
    case_id = getattr(human_task, "case_id", None)
    fixed = None
    if formdata is None and data is None:  # first shown: fields prefilled from the case file (x-siproc-prefill)
        data = prefill_values(compiled, db.session.get(Case, case_id) if case_id else None)
    elif formdata is not None and any(spec.read_only for spec in compiled.fields):  # kept, never submitted
        fixed = prefill_values(compiled, db.session.get(Case, case_id) if case_id else None)
    task_data = workflow.task_data(human_task) if compiled.task_vars else None  # options from task data only
    return compiled, compiled.build(option_choices, formdata=formdata, data=data, csrf=csrf,
                                    facts=case_facts(human_task), task_data=task_data, fixed=fixed)


def case_facts(human_task) -> set[str]:
    """The registered facts (formschema FORM_FACTS) that hold for the task's case: they hide the fields that
    would ask again what the case already records."""
    case_id = getattr(human_task, "case_id", None)
    case = db.session.get(Case, case_id) if case_id else None
    return {name for name, (_note, holds) in FORM_FACTS.items() if case is not None and holds(case)}


def instructions(human_task, case) -> Markup | None:
    """The step's instructions as safe HTML (a little Markdown, see formschema.instructions), with the case's
    {{ numero_caso }}, {{ persona }}, {{ oficina }} and {{ categoria }} filled in.

    The task's own form data is not offered: it lives only in the encrypted workflow state, which the task
    page does not decrypt or deserialize (see WorkflowInstance.state_json).
    """
    info = task_definition(human_task)
    if not info or not info.instructions:
        return None
    fields = {}
    if case is not None:
        fields = {"numero_caso": case.number, "persona": case.person.full_name,
                  "oficina": case.office.name if case.office else "",
                  "categoria": case.category.name if case.category else ""}
    return render_instructions(info.instructions, fields)


def check_can_work(user, human_task):
    if human_task.completed_at is not None:
        who = human_task.completed_by.full_name if human_task.completed_by else _("el sistema")
        raise DomainError(_("Esta tarea ya fue completada por %(who)s. No se guardó nada.", who=who))
    if not policy.can_work_task(user, human_task):
        raise NotAllowed(_("Esta tarea no está asignada a su rol u oficina."))
    four_eyes.check(user, human_task)


def complete_task(user, human_task: HumanTask, compiled, form, extras=None) -> list[str]:
    """Run the bound domain action, complete the workflow task and record the step in the timeline.

    The workflow receives the form's workflow fields (all fields when the form has no action) plus
    what the action returns (ids); returns warnings to show the user.
    """
    check_can_work(user, human_task)
    if compiled.has_files:  # uploads become case documents; the form keeps their reference
        _store_files(user, human_task, compiled, form)
    data = compiled.to_json(form)
    instance = human_task.instance
    context = ActionContext(user, instance, human_task, clock.now(), extras=extras or {})
    action = None
    if compiled.action:
        action = get_action(compiled.action)
        if action is None:
            raise DomainError(_("El formulario usa una acción desconocida: %(a)s", a=compiled.action))
    fields = compiled.workflow_fields
    if fields is not None:
        variables = {k: data.get(k) for k in fields}
    else:
        variables = {} if action else data

    def run_action(task_data):
        context.task_data = task_data
        return action(context, data) if action else {}

    workflow.complete_user_task(human_task, variables, user.id, before=run_action)
    if instance.case_id is not None:
        record_event(instance.case_id, "task_completed", human_task.title, user.id, context.now,
                     details=compiled.labelled(form), instance_id=instance.id, human_task_id=human_task.id)
    four_eyes.release_from_proposers(instance.id, context.now)
    return context.warnings


def _store_files(user, human_task, compiled, form):
    """Each uploaded file of the form, under the case documents' upload rules (types, size, content), stored as a
    document of the task's case; the form value becomes {"attachment_id", "filename"}, never the file itself."""
    from flask import current_app

    from ..cases import records

    case = db.session.get(Case, human_task.case_id) if human_task.case_id else None

    def store(spec, upload):
        if case is None:
            raise DomainError(_("El campo «%(f)s» adjunta un archivo, y esta tarea no pertenece a ningún caso. No se "
                                "guardó nada.", f=spec.title))
        try:
            filename, data, content_type = records.checked_upload(upload, current_app.config["MAX_ATTACHMENT_BYTES"])
        except DomainError as exc:
            raise DomainError(_("%(f)s: %(e)s", f=spec.title, e=str(exc)), {spec.name: str(exc)}) from exc
        attachment = records.store_bytes(case, user, data, filename, content_type,
                                         _("Adjuntado en «%(t)s»", t=human_task.title), clock.now(),
                                         records.uploads_dir())
        db.session.flush()
        return {"attachment_id": attachment.id, "filename": attachment.filename}

    compiled.store_files(form, store)


def next_task_for(user, instance_id) -> HumanTask | None:
    """The next open task of the same process this user can work, to keep going without the inbox."""
    candidates = db.session.scalars(
        db.select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.completed_at.is_(None))
        .order_by(HumanTask.id)
    )
    return next((t for t in candidates if policy.can_work_task(user, t) and not four_eyes.refusal(user, t)), None)


def submit_values(user, human_task: HumanTask, values: dict) -> None:
    """Complete a task from plain values through the same form validation as the web (demo, bench)."""
    from werkzeug.datastructures import MultiDict

    def text(item):
        return "si" if item is True else "no" if item is False else str(item)

    def pairs(specs, data, prefix=""):  # the names the web form sends: groups <g>-<f>, rows <r>-<i>-<f>, lists <l>-<i>
        for spec in specs:
            value, key = data.get(spec.name), prefix + spec.name
            if value is None:
                continue
            if spec.kind == "group" and isinstance(value, dict):
                yield from pairs(spec.items, value, key + "-")
            elif spec.kind == "rows" and isinstance(value, list):
                for index, row in enumerate(value):
                    yield from pairs(spec.items, row if isinstance(row, dict) else {}, f"{key}-{index}-")
            elif spec.kind == "list" and isinstance(value, list):
                yield from ((f"{key}-{index}", text(item)) for index, item in enumerate(value))
            else:
                yield from ((key, text(item)) for item in (value if isinstance(value, list) else [value]))

    formdata = MultiDict(list(pairs(compiled_form(human_task).fields, values)))
    compiled, form = build_form(human_task, formdata=formdata, csrf=False)
    if not compiled.validate(form):
        raise DomainError(_("Datos no válidos: %(e)s", e=form.errors), form.errors)
    complete_task(user, human_task, compiled, form)
