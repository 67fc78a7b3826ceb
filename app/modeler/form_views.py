"""Forms for process owners: list, edit the JSON Schema with validation, preview as officers see it."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import clock
from ..core.access import rule
from ..core.web import act
from ..extensions import db
from ..formschema import FormSchemaError, compile_form, load_form
from ..formschema.loader import load_ui
from ..reference.services import option_choices
from . import bp, services
from .models import FormDocument


@bp.route("/formularios/")
@rule("is_process_owner")
def forms():
    documents = db.session.scalars(db.select(FormDocument).order_by(FormDocument.name)).all()
    return render_template("modeler/forms.html", documents=documents, used=_usage(), titles=_titles(documents))


@bp.route("/formularios/nuevo", methods=["POST"])
@rule("is_process_owner")
def form_create():
    return act(lambda: services.create_form(request.form.get("nombre"), current_user, clock.now()),
               lambda document: redirect(url_for("modeler.form_edit", name=document.name)),
               refused=lambda exc: redirect(url_for("modeler.forms")))


@bp.route("/formularios/<name>")
@rule("is_process_owner")
def form_edit(name):
    document = _document(name)
    return _editor(document, document.text)


@bp.route("/formularios/<name>", methods=["POST"])
@rule("is_process_owner")
def form_save(name):
    document = _document(name)
    text = request.form.get("texto", "")
    ui_problems = _ui_problems(name, text)
    if ui_problems:  # refused here: republishing the processes that use it would fail on it
        return _editor(document, text, problems=ui_problems, status=422)
    return act(lambda: services.save_form(name, text, current_user, clock.now()),
               lambda versions: _saved(name, versions),
               refused=lambda exc: _editor(document, text, problems=[p.message for p in exc.problems], status=422),
               flashed=False)  # the problems are listed beside the text


def _ui_problems(name, text) -> list[str]:
    """A UI schema's problems with the form it presents (a widget the field cannot have, a field entry that is not
    an object inside a group...), which only compiling the pair finds."""
    compiled, _form, problems = _compiled(name, text)
    missing = _("No existe %(n)s.", n="\x00").split("\x00")[0]  # no form to present: nothing to compile
    if compiled is not None or not problems or problems[0].startswith(missing):
        return []
    return [problems[0] + " " + _("No se guardó nada.")]


def _saved(name, versions):
    flash(_("Formulario guardado.") + (" " + _("Procesos republicados: versión %(v)s.",
                                                v=", ".join(map(str, versions))) if versions else ""), "success")
    return redirect(url_for("modeler.form_edit", name=name))


@bp.route("/formularios/<name>/vista-previa")
@rule("is_process_owner")
def form_preview(name):
    document = _document(name)
    compiled, form, problems = _compiled(document.name)
    return render_template("modeler/form_preview.html", document=document, compiled=compiled, form=form,
                           problems=problems)


def _document(name) -> FormDocument:
    document = db.session.get(FormDocument, name)
    if document is None:
        abort(404)
    return document


def _editor(document, text, problems=None, status=200):
    compiled, form, preview_problems = _compiled(document.name, text)
    return render_template("modeler/form_edit.html", document=document, text=text, problems=problems or [],
                           compiled=compiled, form=form, preview_problems=preview_problems,
                           used=_usage().get(document.name, [])), status


def _compiled(name, text=None):
    """The form as officers would see it (for a UI schema: the form it belongs to)."""
    documents = services.forms()
    pairs = services.task_form_pairs()
    schema_name = services.schema_name_for(name, documents, pairs) if services.is_ui_name(name, pairs) else name
    ui_name = services.ui_name_for(schema_name, documents, pairs)
    if text is not None:
        documents[name] = text
    if schema_name not in documents:
        return None, None, [_("No existe %(n)s.", n=schema_name)]
    try:
        compiled = compile_form(schema_name, load_form(schema_name, documents[schema_name]),
                                load_ui(ui_name, documents.get(ui_name)))
        sample = {name: [{"value": "", "label": _("(opciones de «%(v)s» en los datos de la tarea)", v=name)}]
                  for name in compiled.task_vars}  # the preview has no task: say where the options come from
        return compiled, compiled.build(option_choices, csrf=False, task_data=sample), []
    except FormSchemaError as exc:
        return None, None, [str(exc)]


def _usage() -> dict[str, list[str]]:
    """Form document name -> labels of the latest process versions that use it."""
    import json

    used = {}
    for version in services.latest_versions():
        for name in json.loads(version.forms_json):
            used.setdefault(name, []).append(version.label)
    return used


def _titles(documents) -> dict[str, str]:
    import json

    titles = {}
    for document in documents:
        try:
            titles[document.name] = json.loads(document.text).get("title", "")
        except (ValueError, AttributeError, RecursionError):  # a stored document that no longer loads
            titles[document.name] = ""
    return titles
