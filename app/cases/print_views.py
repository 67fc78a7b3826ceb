"""«Imprimir expediente»: choose the sections and the recipient, then the print view or the PDF.

Printing is a disclosure: each print view and each PDF is audited with the case, the sections, the recipient and
the person's fields left masked, and shows in the case's access log. Officers and supervisors print the cases they
may see (their office, a central office, an active emergency access); analysts, process owners and administrators
do not print case files, and the supervisors of an office a transfer is pending to read the case only to decide.
"""
from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import services as audit
from ..auth import policy, roles
from ..core import clock
from ..core.access import rule
from ..core.errors import DomainError
from ..core.text import clean_filename
from ..extensions import db
from . import bp
from .case_pdf import PURPOSES, SECTIONS, case_pdf, parse_choice, render_print
from .emergency import active_access
from .link_views import person_masked_fields
from .models import Case

# Audit actions of this module (labels for the audit viewer and the case's access log).
for _code, _label in {
    "case_print_viewed": "Expediente: vista de impresión (divulgación)",
    "case_pdf_downloaded": "Expediente descargado en PDF (divulgación)",
}.items():
    audit.ACTIONS.setdefault(_code, _label)


@policy.predicate
def prints_case_files(user) -> bool:
    """Officers and supervisors print case files for a court, an authority or the family."""
    return policy.has_role(user, roles.OFICIAL, roles.SUPERVISOR)


@policy.predicate
def can_print_case(user, case) -> bool:
    """The case's office or a central office, or an active emergency access; not a pending transfer's grant."""
    return policy.sees_office(user, case.office_id) or active_access(user, case) is not None


def _case(case_id) -> Case:
    case = db.get_or_404(Case, case_id)
    policy.check(case)
    return case


def _form(case, values=None, error=None, status=200):
    values = values or {"secciones": list(SECTIONS), "destinatario": "", "detalle": ""}
    return render_template("cases/print_choose.html", case=case, sections=SECTIONS, purposes=PURPOSES,
                           values=values, error=error), status


@bp.route("/casos/<int:case_id>/imprimir")
@rule("prints_case_files", on="can_print_case")
def print_form(case_id):
    return _form(_case(case_id))


def _choice(case):
    """(choice, None) or (None, the form again with the Spanish message, 422)."""
    form = request.form
    try:
        return parse_choice(form.getlist("secciones"), form.get("destinatario"), form.get("detalle")), None
    except DomainError as exc:
        values = {"secciones": form.getlist("secciones"), "destinatario": form.get("destinatario") or "",
                  "detalle": form.get("detalle") or ""}
        return None, _form(case, values, exc, 422)


def _values(choice):
    return {"secciones": list(choice.sections), "destinatario": choice.purpose, "detalle": choice.detail}


@bp.route("/casos/<int:case_id>/imprimir/vista", methods=["POST"])
@rule("prints_case_files", on="can_print_case")
def print_view(case_id):
    case = _case(case_id)
    choice, refused = _choice(case)
    if refused:
        return refused
    masked = person_masked_fields(case)
    try:
        html = render_print(case, choice, masked, current_user, clock.now(), pdf=False)
    except DomainError as exc:
        return _form(case, _values(choice), exc, 422)
    audit.record("case_print_viewed", case_id=case.id, object_type="case", object_id=case.id,
                 details=choice.audit_details(masked))
    db.session.commit()
    return html


@bp.route("/casos/<int:case_id>/imprimir/pdf", methods=["POST"])
@rule("prints_case_files", on="can_print_case")
def print_pdf(case_id):
    case = _case(case_id)
    choice, refused = _choice(case)
    if refused:
        return refused
    masked = person_masked_fields(case)
    try:  # rendered before the audit row is added: no write is pending while WeasyPrint works
        data = case_pdf(case, choice, masked, current_user, clock.now())
    except DomainError as exc:
        return _form(case, _values(choice), exc, 422)
    audit.record("case_pdf_downloaded", case_id=case.id, object_type="case", object_id=case.id,
                 details=choice.audit_details(masked))
    db.session.commit()
    name = clean_filename(_("expediente-%(n)s.pdf", n=case.number)) or "expediente.pdf"
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
