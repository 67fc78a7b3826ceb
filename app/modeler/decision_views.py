"""Decision tables for process owners: list the DMN documents, create one from a template, edit it in the browser
with dmn-js (the page works without JavaScript too: the XML is in a text box) and save it through the checks."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import clock
from ..core.access import rule
from ..core.web import act
from ..extensions import db
from ..workflow.dmn import MAX_DMN_BYTES, decision_id
from . import bp, decisions
from .models import DecisionDocument


@bp.route("/decisiones/")
@rule("is_process_owner")
def decisions_list():
    documents = db.session.scalars(db.select(DecisionDocument).order_by(DecisionDocument.name)).all()
    ids = {d.name: decision_id(d.text, d.name) or "" for d in documents}
    used = {d.name: decisions.used_by(d.name) for d in documents}
    return render_template("modeler/decisions.html", documents=documents, ids=ids, used=used)


@bp.route("/decisiones/nueva", methods=["POST"])
@rule("is_process_owner")
def decision_create():
    return act(lambda: decisions.create_decision(request.form.get("nombre"), current_user, clock.now()),
               lambda document: redirect(url_for("modeler.decision_edit", dmn=document.name)),
               refused=lambda exc: redirect(url_for("modeler.decisions_list")))


@bp.route("/decisiones/<dmn>")
@rule("is_process_owner")
def decision_edit(dmn):
    document = _document(dmn)
    return _editor(document, document.text)


@bp.route("/decisiones/<dmn>", methods=["POST"])
@rule("is_process_owner")
def decision_save(dmn):
    document = _document(dmn)
    name = document.name
    text = request.form.get("texto", "")
    if len(text.encode("utf-8")) > MAX_DMN_BYTES:
        return _editor(document, document.text, problems=[_("La tabla de decisión supera %(mb)s MB.",
                                                            mb=MAX_DMN_BYTES // (1024 * 1024))], status=422)
    return act(lambda: decisions.save_decision(name, text, current_user, clock.now()),
               lambda versions: _saved(name, versions),
               refused=lambda exc: _editor(document, text, problems=[p.message for p in exc.problems], status=422),
               flashed=False)  # the problems are listed above the editor


def _saved(name, versions):
    flash(_("Tabla de decisión guardada.") + (" " + _("Procesos republicados: versión %(v)s.",
                                                      v=", ".join(map(str, versions))) if versions else ""),
          "success")
    return redirect(url_for("modeler.decision_edit", dmn=name))


def _document(name) -> DecisionDocument:
    document = db.session.get(DecisionDocument, name)
    if document is None:
        abort(404)
    return document


def _editor(document, text, problems=None, status=200):
    return render_template("modeler/decision_edit.html", document=document, text=text, problems=problems or [],
                           decision=decision_id(text, document.name) or "",
                           used=decisions.used_by(document.name)), status
