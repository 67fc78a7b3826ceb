"""Case file actions outside the workflow: notes, documents, referral updates, person data, transfers."""
from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import services as audit
from ..auth import policy
from ..core import clock
from ..core.access import AUTHENTICATED, rule
from ..core.ids import parse_id
from ..core.text import clean_filename
from ..core.web import act
from ..extensions import db
from ..formschema import compile_form, load_form
from ..formschema.loader import load_ui, read_forms_dir
from ..reference.services import option_choices
from . import bp, records, referrals, transfers
from .link_requests import record_person_edit
from .models import Attachment, Case, Referral
from .persons import apply_person_data, masked_fields, person_values


def _editable_case(case_id, closed_ok=False) -> Case:
    """A case the user may change; a closed one only for notes and documents (`closed_ok`)."""
    case = db.get_or_404(Case, case_id)
    policy.check(case)
    if not closed_ok:
        records.require_open(case)  # Conflict (409) with a Spanish message
    return case


def _back(case, message=None, category="success"):
    if message:
        flash(message, category)
    return redirect(url_for("cases.detail", case_id=case.id))


def _act_on(case, action, success):
    """act() for the case page's small forms: back to the case file, confirmed or explained."""
    return act(action, lambda _r: _back(case, success), refused=lambda exc: _back(case),
               note=_("No se guardó nada."))


@bp.route("/casos/<int:case_id>/notas", methods=["POST"])
@rule(AUTHENTICATED, on="can_edit_case")
def add_note(case_id):
    case = _editable_case(case_id, closed_ok=True)  # follow-up after closure is written down
    return _act_on(case, lambda: records.add_note(case, current_user, request.form.get("texto"),
                                                             clock.now()), _("Nota añadida."))


@bp.route("/casos/<int:case_id>/documentos", methods=["POST"])
@rule(AUTHENTICATED, on="can_edit_case")
def upload(case_id):
    case = _editable_case(case_id, closed_ok=True)  # documents arriving after closure are kept
    upload = request.files.get("archivo")
    if upload is None:
        return _back(case, _("Elija un archivo. No se guardó nada."), "danger")
    return _act_on(case, lambda: records.store_attachment(
        case, current_user, upload, request.form.get("descripcion"), clock.now(), records.uploads_dir(),
        current_app.config["MAX_ATTACHMENT_BYTES"]), _("Documento guardado."))


@bp.route("/casos/<int:case_id>/documentos/<int:attachment_id>")
@rule(AUTHENTICATED, on="can_view_case")
def download(case_id, attachment_id):
    case = db.get_or_404(Case, case_id)
    policy.check(case)
    attachment = db.get_or_404(Attachment, attachment_id)
    if attachment.case_id != case.id or attachment.deleted_at is not None:
        return render_template("errors/error.html", code=404, message=_("El documento no existe.")), 404
    audit.record("document_downloaded", case_id=case.id, object_type="attachment", object_id=attachment.id)
    db.session.commit()
    return send_file(records.attachment_path(records.uploads_dir(), attachment), mimetype=attachment.content_type,
                     as_attachment=True, download_name=clean_filename(attachment.filename) or "documento", max_age=0)


def _referral_of(case, referral_id) -> Referral:
    """The case's referral; another case's referral is not found (404), as a guessed id is."""
    referral = db.session.get(Referral, referral_id)
    if referral is None or referral.case_id != case.id:
        abort(404)
    return referral


@bp.route("/casos/<int:case_id>/remisiones/<int:referral_id>", methods=["POST"])
@rule(AUTHENTICATED, on="can_edit_case")
def update_referral(case_id, referral_id):
    """The officer records what happened to a referral (an answer by phone, the outcome, a revocation)."""
    case = _editable_case(case_id)
    referral = _referral_of(case, referral_id)
    return _act_on(case, lambda: referrals.move(
        referral, request.form.get("estado") or "", channel="caso", now=clock.now(), user=current_user,
        text=request.form.get("texto")), _("Remisión actualizada."))


@bp.route("/casos/<int:case_id>/remisiones/<int:referral_id>/enlace", methods=["POST"])
@rule(AUTHENTICATED, on="can_edit_case")
def renew_referral_link(case_id, referral_id):
    """Annul the institution's links and e-mail it a new one (a lost or forwarded e-mail)."""
    case = _editable_case(case_id)
    referral = _referral_of(case, referral_id)
    return _act_on(case, lambda: referrals.renew_link(referral, current_user, clock.now()),
                   _("Se anularon los enlaces anteriores y se envió uno nuevo al punto focal de la institución."))


@bp.route("/casos/<int:case_id>/consentimiento", methods=["POST"])
@rule(AUTHENTICATED, on="can_override_consent")
def override_consent(case_id):
    case = db.get_or_404(Case, case_id)
    policy.check(case)
    return _act_on(case, lambda: records.override_consent(
        case, current_user, request.form.get("motivo"), clock.now()),
        _("Autorización registrada: se podrán enviar remisiones sin consentimiento."))


@bp.route("/casos/<int:case_id>/diagrama.bpmn")
@rule(AUTHENTICATED, on="can_view_case")
def diagram(case_id):
    """The diagram of the process version the case runs on (for the case page's viewer)."""
    case = db.get_or_404(Case, case_id)
    policy.check(case)
    instance = _instance_of(case)
    if instance is None:
        return render_template("errors/error.html", code=404, message=_("El caso no tiene proceso.")), 404
    from flask import Response

    return Response(instance.process_version.bpmn_xml, mimetype="application/xml")


def _instance_of(case):
    from ..workflow.models import WorkflowInstance

    return db.session.scalar(db.select(WorkflowInstance).where(WorkflowInstance.case_id == case.id)
                             .order_by(WorkflowInstance.id).limit(1))


@bp.route("/casos/<int:case_id>/asignar", methods=["POST"])
@rule(AUTHENTICATED, on="can_view_case")
def assign(case_id):
    from .assignment import assign_case

    case = db.get_or_404(Case, case_id)
    policy.check(case)

    def assign():
        assign_case(current_user, case, request.form.get("usuario"), clock.now())
        audit.record("case_assigned", case_id=case.id, object_type="case", object_id=case.id,
                     details={"usuario": case.assigned_officer_id})
    return _act_on(case, assign, _("Caso asignado."))


@bp.route("/casos/<int:case_id>/persona", methods=["GET", "POST"])
@rule(AUTHENTICATED, on="can_edit_case")
def edit_person(case_id):
    """The person of a case. Data another office registered stays masked; every view and edit is audited."""
    case = _editable_case(case_id)
    compiled = _person_form()
    masked = masked_fields(current_user, case.person)
    if request.method == "GET":
        values = {k: (None if k in masked else v) for k, v in person_values(case.person).items()}
        page = _person_page(case, compiled, compiled.build(option_choices, data=values), masked)
        audit.record("person_viewed", case_id=case.id, object_type="person", object_id=case.person_id,
                     details={"ocultos": sorted(masked)})
        db.session.commit()
        return page
    form = compiled.build(option_choices, formdata=request.form)
    for name in masked:  # never shown, never taken from the form
        getattr(form, name).data = None
        getattr(form, name).errors = []
    if not compiled.validate(form):
        return _person_page(case, compiled, form, masked, status=422)

    def save():
        person = case.person
        before = person_values(person)
        warnings = apply_person_data(person, compiled.to_json(form), case.office.country, keep=masked)
        db.session.flush()
        labels = {spec.name: spec.title for spec in compiled.fields}
        record_person_edit(case, current_user, before, person_values(person), labels, compiled.labelled(form),
                           clock.now())
        return warnings

    return act(save, lambda warnings: _person_saved(case, warnings),
               refused=lambda exc: _person_page(case, compiled, form, masked, status=422), form=form)


def _person_saved(case, warnings):
    for warning in warnings:
        flash(warning, "warning")
    return _back(case, _("Datos de la persona guardados."))


@bp.route("/casos/<int:case_id>/traslado", methods=["POST"])
@rule(AUTHENTICATED, on="can_edit_case")
def request_transfer(case_id):
    case = _editable_case(case_id)
    office_id = parse_id(request.form.get("oficina"))
    return _act_on(case, lambda: transfers.request_transfer(
        case, current_user, office_id, request.form.get("motivo"), clock.now()),
        _("Traslado solicitado. La oficina de destino debe aceptarlo."))


def _person_form():
    forms = read_forms_dir(current_app.config["FORMS_DIR"])
    return compile_form("persona.json", load_form("persona.json", forms["persona.json"]),
                        load_ui("persona_ui.json", forms.get("persona_ui.json")))


def _person_page(case, compiled, form, masked=frozenset(), status=200):
    return render_template("cases/person_form.html", case=case, compiled=compiled, form=form,
                           masked=masked), status
