"""What officers add to a case file outside the workflow steps: notes, documents, consent decisions.

Referrals move only through app/cases/referrals.py."""
import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from ..core.errors import Conflict, DomainError
from ..core.text import clean_filename, strip_controls
from ..extensions import db
from .models import CONSENT_SHARING, Attachment, CaseNote
from .services import record_event, set_consent

MAX_NOTE_LENGTH = 5000
# extension -> (content type, test on the first bytes)
ALLOWED_TYPES = {
    "pdf": ("application/pdf", lambda head: head.startswith(b"%PDF-")),
    "png": ("image/png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             lambda head: head.startswith(b"PK\x03\x04")),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             lambda head: head.startswith(b"PK\x03\x04")),
    "odt": ("application/vnd.oasis.opendocument.text", lambda head: head.startswith(b"PK\x03\x04")),
}


def is_closed(case) -> bool:
    return case.status == "cerrado"


def require_open(case) -> None:
    """The case's data change only while it is open (notes and documents may still be added when closed)."""
    if is_closed(case):
        raise Conflict(_("Un caso cerrado es de solo lectura: sus datos (persona, remisiones, asistencias, "
                         "consentimiento) no cambian; sí se pueden añadir notas y documentos."))


def add_note(case, user, text, now) -> CaseNote:
    text = strip_controls(text).strip()
    if not text:
        raise DomainError(_("La nota está vacía."), {"texto": _("Escriba la nota.")})
    if len(text) > MAX_NOTE_LENGTH:
        raise DomainError(_("La nota supera %(n)d caracteres.", n=MAX_NOTE_LENGTH))
    note = CaseNote(case_id=case.id, text=text, author_id=user.id, created_at=now)
    db.session.add(note)
    record_event(case.id, "note_added", _("Nota añadida"), user.id, now)
    return note


def store_attachment(case, user, upload, description, now, uploads_dir, max_bytes) -> Attachment:
    """Save an uploaded file under uploads_dir by its SHA-256, refusing big files and other types."""
    filename, data, content_type = checked_upload(upload, max_bytes)
    return store_bytes(case, user, data, filename, content_type, description, now, uploads_dir)


def checked_upload(upload, max_bytes, types=None) -> tuple[str, bytes, str]:
    """(clean filename, bytes, content type) of an upload of an allowed type and size, or DomainError."""
    types = types or ALLOWED_TYPES
    filename = clean_filename(upload.filename)  # no NUL, no bidi overrides: what is shown is what is stored
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not filename:
        raise DomainError(_("Elija un archivo."), {"archivo": _("Elija un archivo.")})
    if extension not in types:
        raise DomainError(_("Tipo de archivo no permitido. Se aceptan: %(t)s.", t=", ".join(sorted(types))),
                          {"archivo": _("Tipo de archivo no permitido.")})
    data = upload.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DomainError(_("El archivo supera el límite de %(mb)d MB.", mb=max_bytes // (1024 * 1024)),
                          {"archivo": _("Archivo demasiado grande.")})
    if not data:
        raise DomainError(_("El archivo está vacío."), {"archivo": _("El archivo está vacío.")})
    content_type, looks_right = types[extension]
    if not looks_right(data[:16]):
        raise DomainError(_("El contenido del archivo no corresponde a su extensión .%(e)s.", e=extension),
                          {"archivo": _("El contenido no corresponde a la extensión.")})
    return filename, data, content_type


def store_pdf(case, user, data: bytes, filename, description, now, uploads_dir) -> Attachment:
    """A PDF SIPROC made (a referral letter), kept with the case's documents."""
    return store_bytes(case, user, data, clean_filename(filename), "application/pdf", description, now, uploads_dir)


def uploads_dir(app=None) -> str:
    """Where documents live: UPLOADS_DIR, else instance/uploads."""
    app = app or current_app
    return app.config.get("UPLOADS_DIR") or f"{app.instance_path}/uploads"


def store_bytes(case, user, data, filename, content_type, description, now, uploads_dir) -> Attachment:
    """Keep checked bytes as a document of the case (user None: sent by an institution), with its timeline entry."""
    digest = hashlib.sha256(data).hexdigest()
    _write_once(Path(uploads_dir) / digest[:2] / digest, data)
    attachment = Attachment(case_id=case.id, sha256=digest, filename=filename[:200], content_type=content_type,
                            size=len(data), description=strip_controls(description or "").strip()[:300] or None,
                            uploaded_by_id=user.id if user else None, uploaded_at=now)
    db.session.add(attachment)
    record_event(case.id, "document_added", _("Documento añadido: %(f)s", f=filename[:150]),
                 user.id if user else None, now)
    return attachment


def attachment_path(uploads_dir, attachment) -> Path:
    return Path(uploads_dir) / attachment.sha256[:2] / attachment.sha256


def _write_once(path: Path, data: bytes):
    """Content-addressed: an existing file with this hash already holds these bytes."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def override_consent(case, user, reason, now):
    """A supervisor authorises referrals without the person's consent, with a reason (audited)."""
    require_open(case)
    if case.consent_to_share:
        raise DomainError(_("El caso ya tiene el consentimiento de la persona."))
    if case.consent_override_at is not None:
        raise DomainError(_("Ya existe una autorización sin consentimiento."))
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise DomainError(_("Explique el motivo de la autorización (al menos 10 caracteres)."),
                          {"motivo": _("Explique el motivo.")})
    case.consent_override_by_id, case.consent_override_at, case.consent_override_reason = user.id, now, reason
    set_consent(case, CONSENT_SHARING, True, user.id, now, "supervisor_override")  # sharing only, never exports
    record_event(case.id, "consent_override", _("Remisión autorizada sin consentimiento"), user.id, now,
                 details=[[_("Motivo"), reason]])
