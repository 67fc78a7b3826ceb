"""Process owners' pages: processes and versions, the editor, uploads and downloads, differences,
forms, and the process view with open cases per step."""
from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..audit import services as audit
from ..auth import roles
from ..cases.models import STATUSES
from ..core import clock
from ..core.access import rule
from ..core.web import act, local_time
from ..extensions import db
from ..workflow import actions, overview
from ..workflow.models import ProcessVersion
from . import bp, services, spiff_archive
from .models import ProcessDraft


@bp.route("/procesos/")
@rule("is_process_owner")
def index():
    drafts = {d.process_key: d for d in db.session.scalars(db.select(ProcessDraft))}
    return render_template("modeler/index.html", versions=services.latest_versions(), drafts=drafts)


@bp.route("/procesos/nuevo", methods=["POST"])
@rule("is_process_owner")
def create():
    return _draft_action(lambda: services.create_process(request.form.get("clave"), request.form.get("nombre"),
                                                         current_user, clock.now()), url_for("modeler.index"))


@bp.route("/procesos/subir", methods=["POST"])
@rule("is_process_owner")
def upload_new():
    upload = request.files.get("archivo")
    audit.record("diagram_uploaded", object_type="process", details={"archivo": upload.filename[:80] if upload else ""})
    return _draft_action(lambda: services.upload(upload.read(services.MAX_UPLOAD + 1) if upload else b"",
                                                 upload.filename if upload else "", current_user, clock.now()),
                         url_for("modeler.index"))


@bp.route("/procesos/importar", methods=["POST"])
@rule("is_process_owner")
def import_model():
    """A SpiffArena process-model folder as a zip: its forms, decisions and diagram (as a draft), or nothing."""
    upload_file = request.files.get("archivo")
    audit.record("diagram_uploaded", object_type="process_model",
                 details={"archivo": (upload_file.filename or "")[:80] if upload_file else ""})
    data = b""
    if upload_file:
        with upload_file.stream:  # a large upload is a temporary file: closed as soon as it is read
            data = upload_file.read(spiff_archive.MAX_COMPRESSED + 1)
    return act(lambda: spiff_archive.import_archive(spiff_archive.read_zip(data), current_user, clock.now()),
               lambda result: render_template("modeler/import_result.html", result=result, refused=None),
               refused=lambda exc: (render_template("modeler/import_result.html", result=None, refused=exc), 422),
               flashed=False)


@bp.route("/procesos/<process_key>/modelo.zip")
@rule("is_process_owner")
def export_model(process_key):
    """The process as a SpiffArena process-model folder (zip): its latest version, ?version=N, or ?borrador=1."""
    draft = bool(request.args.get("borrador"))
    version = request.args.get("version", type=int)
    data = spiff_archive.export_zip(process_key, version=version, draft=draft)
    if data is None:
        abort(404)
    audit.record("diagram_downloaded", object_type="process_model", object_id=process_key[:64],
                 details={"versión": version or "", "borrador": draft})
    db.session.commit()
    suffix = "-borrador" if draft else (f"-v{version}" if version else "")
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{process_key}{suffix}.zip"'
    return response


@bp.route("/procesos/<process_key>/")
@rule("is_process_owner")
def process(process_key):
    versions = _versions(process_key)
    draft = db.session.scalar(db.select(ProcessDraft).where(ProcessDraft.process_key == process_key))
    if not versions and draft is None:
        abort(404)
    return render_template("modeler/process.html", key=process_key, versions=versions, draft=draft)


@bp.route("/procesos/<process_key>/editor")
@rule("is_process_owner")
def editor(process_key):
    draft = services.draft_for(process_key)
    if draft is None:
        abort(404)
    config = {
        "xml_url": url_for("modeler.draft_xml", process_key=process_key),
        "save_url": url_for("modeler.save", process_key=process_key),
        "validate_url": url_for("modeler.validate", process_key=process_key),
        "publish_url": url_for("modeler.publish", process_key=process_key),
        "download_url": url_for("modeler.draft_xml", process_key=process_key, descargar=1),
        "csrf_token": generate_csrf(),
        "forms": sorted(services.forms()),
        "roles": [{"code": r.code, "label": str(r.label), "lane": r.lane}
                  for r in roles.ROLES.values()],
        "case_statuses": [[code, str(label)] for code, label in STATUSES.items()],
        "connectors": actions.catalogue(),  # the service-task connectors and their parameters (panel)
        "decisions": _decision_choices(),  # [decision id, file] of the DMN tables business rule tasks may call
    }
    return render_template("modeler/editor.html", key=process_key, draft=draft, config=config)


@bp.route("/procesos/<process_key>/borrador.bpmn")
@rule("is_process_owner")
def draft_xml(process_key):
    draft = services.draft_for(process_key)
    if draft is None:
        abort(404)
    if request.args.get("descargar"):
        audit.record("diagram_downloaded", object_type="process_draft", object_id=process_key[:64])
        db.session.commit()
    return _xml(draft.bpmn_xml, draft.filename, download=bool(request.args.get("descargar")))


@bp.route("/procesos/<process_key>/v<int:version>.bpmn")
@rule("is_process_owner")
def version_xml(process_key, version):
    found = db.session.scalar(db.select(ProcessVersion).where(ProcessVersion.process_key == process_key,
                                                              ProcessVersion.version == version))
    if found is None:
        abort(404)
    audit.record("diagram_downloaded", object_type="process_version", object_id=found.id)
    db.session.commit()
    return _xml(found.bpmn_xml, f"{process_key}-v{version}.bpmn", download=True)


@bp.route("/procesos/<process_key>/borrador", methods=["POST"])
@rule("is_process_owner")
def save(process_key):
    return _json_action(lambda xml: services.save_draft(process_key, xml, current_user, clock.now())[1],
                        _("Borrador guardado."), _("Borrador guardado con observaciones: revíselas antes de publicar."))


@bp.route("/procesos/<process_key>/validar", methods=["POST"])
@rule("is_process_owner")
def validate(process_key):
    draft = services.draft_for(process_key)
    if draft is None:
        abort(404)
    return _json_action(lambda xml: services.validate(process_key, draft.filename, xml),
                        _("El diagrama es válido."), _("El diagrama tiene problemas."))


@bp.route("/procesos/<process_key>/publicar", methods=["POST"])
@rule("is_process_owner")
def publish(process_key):
    payload = request.get_json(silent=True) or {}
    xml = payload.get("xml")
    if not isinstance(xml, str) or not xml.strip():
        return jsonify(ok=False, message=_("No se recibió el diagrama."), problems=[]), 422
    # with problems the draft is kept and nothing is published
    return act(lambda: services.publish(process_key, xml, payload.get("comment"), current_user, clock.now()),
               _published, refused=_refused_json, flashed=False)


def _published(outcome):
    result, problems = outcome
    if problems:
        headline = _("No se publicó: corrija los problemas marcados. El borrador quedó guardado.")
        if any(p.kind == "not_executable" for p in problems):
            headline = _("No se publicó: el proceso no es ejecutable (isExecutable=\"false\"). El borrador quedó "
                         "guardado.")
        return jsonify(ok=False, message=headline, problems=[p.as_dict() for p in problems]), 422
    if result is None:  # nothing parsed for this process: say so instead of a silent "no change"
        return jsonify(ok=False, message=_("No se publicó: el motor de procesos no encontró un proceso ejecutable "
                                           "con este identificador en el diagrama."), problems=[], version=None), 422
    if not result.created:
        same = services.unchanged_version(result)
        return jsonify(ok=True, message=_(
            "Sin cambios: el diagrama y sus formularios son idénticos a la versión %(v)d publicada el %(d)s; no se "
            "guardó una versión nueva.", v=result.version, d=local_time(same.deployed_at) if same else "—"),
            problems=[], version=result.version)
    return jsonify(ok=True, message=_("Publicada la versión %(v)d. Los casos nuevos la usarán; los abiertos "
                                      "siguen en la suya.", v=result.version), problems=[], version=result.version)


@bp.route("/procesos/<process_key>/subir", methods=["POST"])
@rule("is_process_owner")
def upload(process_key):
    upload_file = request.files.get("archivo")
    audit.record("diagram_uploaded", object_type="process", object_id=process_key[:64])
    return _draft_action(lambda: services.upload(
        upload_file.read(services.MAX_UPLOAD + 1) if upload_file else b"", upload_file.filename if upload_file else "",
        current_user, clock.now(), process_key=process_key), url_for("modeler.process", process_key=process_key))


@bp.route("/procesos/<process_key>/diferencias")
@rule("is_process_owner")
def differences(process_key):
    ordered = _versions(process_key)
    if not ordered:
        abort(404)
    versions = {v.version: v for v in ordered}
    # without a choice: what the latest version changed from the one before it
    newer = request.args.get("hasta", type=int, default=ordered[0].version)
    older = request.args.get("desde", type=int, default=ordered[min(1, len(ordered) - 1)].version)
    if older not in versions or newer not in versions:
        flash(_("Elija dos versiones existentes."), "warning")
        return redirect(url_for("modeler.process", process_key=process_key))
    return render_template("modeler/diff.html", key=process_key, older=versions[older], newer=versions[newer],
                           diff=services.diff(versions[older], versions[newer]))


@bp.route("/procesos/vistas")
@rule("reads_process_views")
def views():
    """Processes whose open cases per step the user may look at; straight to the diagram when only one."""
    versions = [v for v in services.latest_versions() if v.is_startable]
    if len(versions) == 1:
        return redirect(url_for("modeler.view", process_key=versions[0].process_key))
    return render_template("modeler/views.html", versions=versions)


@bp.route("/procesos/<process_key>/vista")
@rule("reads_process_views")
def view(process_key):
    versions = _versions(process_key)
    if not versions:
        abort(404)
    return render_template("modeler/overview.html", key=process_key, version=versions[0],
                           config=overview.process_view(process_key, versions[0], current_user))


@bp.route("/procesos/<process_key>/v<int:version>/diagrama.bpmn")
@rule("reads_process_views")
def view_xml(process_key, version):
    found = db.session.scalar(db.select(ProcessVersion).where(ProcessVersion.process_key == process_key,
                                                              ProcessVersion.version == version))
    if found is None:
        abort(404)
    return _xml(found.bpmn_xml, f"{process_key}-v{version}.bpmn", download=False)


def _versions(process_key):
    return db.session.scalars(db.select(ProcessVersion).where(ProcessVersion.process_key == process_key)
                              .order_by(ProcessVersion.version.desc())).all()


def _xml(text, filename, download):
    response = Response(text, mimetype="application/xml")
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _draft_action(action, back):
    return act(action, _draft_ready, refused=lambda exc: redirect(back), note=_("No se guardó nada."))


def _draft_ready(draft):
    flash(_("Borrador listo: ábralo en el editor, valídelo y publíquelo."), "success")
    return redirect(url_for("modeler.process", process_key=draft.process_key))


def _json_action(action, ok_message, problem_message):
    xml = (request.get_json(silent=True) or {}).get("xml")
    if not isinstance(xml, str) or not xml.strip():
        return jsonify(ok=False, message=_("No se recibió el diagrama."), problems=[]), 422
    return act(lambda: action(xml), lambda problems: jsonify(
        ok=True, message=problem_message if problems else ok_message, problems=[p.as_dict() for p in problems]),
        refused=_refused_json, flashed=False)


def _refused_json(exc):
    """A refusal the editor shows beside the diagram."""
    return jsonify(ok=False, message=_("No se guardó nada."), problems=[p.as_dict() for p in exc.problems]), 422


def _decision_choices():
    from ..workflow.dmn import decision_id
    from .decisions import decisions

    return sorted([decision_id(text, name) or "", name] for name, text in decisions().items())
