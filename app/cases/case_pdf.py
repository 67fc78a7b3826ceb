"""The printable case file: the whole recorded story of one case, expanded, for a court, an authority or the family.

What is printed is what the case page shows the same user, never more: the person's contact data another office
registered stays masked for this case's office (the case page's rule, `person_masked_fields`), and the user
chooses which sections go into the print and for whom it is (a required purpose). The same HTML serves the
browser's print view and the PDF; the PDF is made by WeasyPrint as the referral letter is (app/core/pdf.py):
autoescaped template, the stylesheet read from disk, every URL refused, so no text in the case can make the
server fetch anything. Each print view and PDF is audited as a disclosure by the views (app/cases/print_views.py).
"""
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core import pdf
from ..core.errors import DomainError
from ..extensions import db
from .models import Assistance, Attachment, CaseEvent, CaseNote, CaseTransfer, FollowUp, Referral

TEMPLATE = "cases/print.html"

# The sections a print may hold, in the order they are printed.
SECTIONS = {
    "persona": _l("Persona: identidad y contactos"),
    "caso": _l("Datos del caso"),
    "historial": _l("Historial con los datos registrados en cada paso"),
    "remisiones": _l("Remisiones y sus respuestas"),
    "asistencia": _l("Asistencia brindada"),
    "seguimientos": _l("Seguimientos"),
    "notas": _l("Notas"),
    "documentos": _l("Lista de documentos (nombres, no contenidos)"),
    "traslados": _l("Traslados entre oficinas"),
    "cierre": _l("Cierre"),
}
# Who the print is for: the disclosure's recipient, printed on every page and kept in the audit.
PURPOSES = {
    "tribunal": _l("Tribunal"),
    "autoridad": _l("Autoridad"),
    "familia": _l("Familia"),
    "archivo": _l("Archivo interno"),
}
MAX_DETAIL = 300
# Budgets, so that a huge case gets a message instead of holding a worker past gunicorn's 60 s (deploy/): the
# timeline's rows and the size of the HTML handed to WeasyPrint. Measured on 2 shared cores: 300 steps of 8 answers
# each are 0.3 MB of HTML and a PDF of 67 pages, 210 KiB, in 10.6 s of CPU (13-15 s with the machine loaded); the
# PDF budget stays near 20 s. The print view is only HTML (the browser lays it out, and can save it as PDF).
MAX_PDF_EVENTS = 600
MAX_PDF_HTML_BYTES = 1_500_000
MAX_VIEW_EVENTS = 5000


@dataclass(frozen=True)
class PrintChoice:
    sections: tuple[str, ...]
    purpose: str
    detail: str

    @property
    def purpose_label(self) -> str:
        return str(PURPOSES[self.purpose])

    def audit_details(self, masked) -> dict:
        return {"secciones": list(self.sections), "destinatario": self.purpose, "detalle": self.detail,
                "ocultos": sorted(masked)}


def parse_choice(sections, purpose, detail) -> PrintChoice:
    """The user's choice from the form, or a DomainError in Spanish (with field errors) that records nothing."""
    errors = {}
    chosen = [s.strip() for s in sections or [] if s and s.strip()]
    if not chosen:
        errors["secciones"] = _("Elija al menos una sección del expediente.")
    elif any(s not in SECTIONS for s in chosen):
        errors["secciones"] = _("Se eligió una sección que no existe. Elija entre las de la lista.")
    purpose = (purpose or "").strip()
    if purpose not in PURPOSES:
        errors["destinatario"] = _("Indique para quién es el expediente: tribunal, autoridad, familia o archivo "
                                   "interno.")
    detail = " ".join((detail or "").split())
    if len(detail) > MAX_DETAIL:
        errors["detalle"] = _("El detalle admite hasta %(n)d caracteres.", n=MAX_DETAIL)
    if errors:
        raise DomainError(" ".join(errors.values()) + " " + _("No se imprimió nada."), field_errors=errors)
    ordered = tuple(s for s in SECTIONS if s in set(chosen))
    return PrintChoice(ordered, purpose, detail)


def print_data(case, choice: PrintChoice, *, pdf: bool) -> dict:
    """The records of the chosen sections, oldest first (a case file reads in order of time); a fixed number of
    queries whatever the case's size."""
    def rows(section, model, order, limit=None):
        if section not in choice.sections:
            return []
        query = db.select(model).where(model.case_id == case.id).order_by(*order)
        return db.session.scalars(query.limit(limit) if limit else query).all()

    max_events = MAX_PDF_EVENTS if pdf else MAX_VIEW_EVENTS
    events = rows("historial", CaseEvent, (CaseEvent.occurred_at, CaseEvent.id), max_events + 1)
    if len(events) > max_events:
        raise DomainError(_("El historial del caso tiene más de %(n)d pasos: es demasiado largo para imprimirlo "
                            "entero de una vez. Use la vista de impresión (el navegador puede guardarla como PDF) o "
                            "quite el historial. No se imprimió nada.", n=max_events)
                          if pdf else
                          _("El historial del caso tiene más de %(n)d pasos: es demasiado largo para imprimirlo "
                            "entero de una vez. No se imprimió nada.", n=max_events))
    return {
        "events": events,
        "referrals": rows("remisiones", Referral, (Referral.sent_at, Referral.id)),
        "assistances": rows("asistencia", Assistance, (Assistance.given_on, Assistance.id)),
        "follow_ups": rows("seguimientos", FollowUp, (FollowUp.done_on, FollowUp.id)),
        "notes": rows("notas", CaseNote, (CaseNote.created_at, CaseNote.id)),
        "attachments": rows("documentos", Attachment, (Attachment.uploaded_at, Attachment.id)),
        "transfers": rows("traslados", CaseTransfer, (CaseTransfer.requested_at, CaseTransfer.id)),
    }


def render_print(case, choice: PrintChoice, masked, user, printed_at, *, pdf: bool) -> str:
    """The print as HTML: the browser's print view (pdf=False, linking the print stylesheet) or the PDF's source."""
    data = print_data(case, choice, pdf=pdf)
    return render_template(TEMPLATE, case=case, person=case.person, choice=choice, masked=masked, sections=SECTIONS,
                           printed_by=user, printed_at=printed_at, pdf=pdf, **data)


def stylesheet() -> str:
    return (Path(current_app.static_folder) / "css" / "print.css").read_text(encoding="utf-8")


def case_pdf(case, choice: PrintChoice, masked, user, printed_at) -> bytes:
    """The print as PDF bytes (A4, the header and page numbers on every page)."""
    html = render_print(case, choice, masked, user, printed_at, pdf=True)
    if len(html.encode("utf-8")) > MAX_PDF_HTML_BYTES:
        raise DomainError(_("El expediente es demasiado grande para un PDF. Use la vista de impresión (el navegador "
                            "puede guardarla como PDF) o elija menos secciones. No se imprimió nada."))
    return pdf.html_to_pdf(html, stylesheet())
