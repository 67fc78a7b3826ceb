"""A referral's life, enforced in one place: every path (the workflow task, the case page, the institution's own
link, the scheduler, the API later) moves a referral through `move()`.

    enviada ──> aceptada ──> en_atencion ──> atendida (outcome)
       │  │         └──────────────────────> atendida
       │  └──> rechazada (reason)
       └──> sin_respuesta (deadline passed) ──> aceptada | rechazada | revocada
    enviada | aceptada | en_atencion ──> revocada (reason)

An illegal move is refused with a Spanish message and changes nothing. When a referral is answered or revoked
outside its workflow task, that open task ends with it (completed by the system with the answer), so the
diagram moves on as it says.

The institution's link: a random token (secrets.token_urlsafe) stored only as its SHA-256 in referral_links; the
e-mail that carries it is queued in referral_mails with the token encrypted, and the token is erased once sent.
"""
import hashlib
import secrets
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..auth.services import supervisors_of
from ..core import clock
from ..core.errors import Conflict, DomainError
from ..core.text import strip_controls
from ..extensions import db
from ..formschema.compiler import form_fact
from ..reference.models import Institution
from ..workflow import services as workflow
from ..workflow.actions import Param, run_context, service_operation
from ..workflow.models import HumanTask
from .models import REFERRAL_CHANNELS, REFERRAL_STATUSES, Referral, ReferralLink, ReferralMail
from .records import require_open, uploads_dir
from .services import record_event
from .signals import tell

TRANSITIONS = {
    "enviada": {"aceptada", "rechazada", "revocada", "sin_respuesta"},
    "sin_respuesta": {"aceptada", "rechazada", "revocada"},
    "aceptada": {"en_atencion", "atendida", "revocada"},
    "en_atencion": {"atendida", "revocada"},
    "rechazada": set(),
    "atendida": set(),
    "revocada": set(),
}
ANSWERS = {"aceptada", "rechazada"}  # the institution's answer: it ends the answer task
FINAL = {"rechazada", "atendida", "revocada"}
ENDS_TASK = {"aceptada", "rechazada", "revocada"}
SYSTEM_ONLY = {"sin_respuesta"}
MAX_TEXT = 2000
DEFAULT_DAYS = 5


form_fact("consentimiento_registrado",
          _l("El consentimiento de la persona para compartir sus datos con las instituciones consta en el caso "
             "(o un supervisor autorizó la remisión): no se vuelve a pedir."),
          lambda case: bool(case.consent_to_share or case.consent_override_at))


def text_required(status) -> str | None:
    """The Spanish name of the text a move to this status needs, or None."""
    return {"rechazada": _("el motivo del rechazo"), "atendida": _("el resultado de la atención"),
            "revocada": _("el motivo de la revocación")}.get(status)


def allowed(referral: Referral) -> list[str]:
    """Statuses this referral may move to by a person (the system's sin_respuesta aside)."""
    return [s for s in REFERRAL_STATUSES if s in TRANSITIONS.get(referral.status, set()) and s not in SYSTEM_ONLY]


# -- sending ------------------------------------------------------------------------------------------------
def require_consent(case):
    if not (case.consent_to_share or case.consent_override_at):
        message = _("Sin el consentimiento de la persona no se puede remitir el caso (salvo autorización "
                    "motivada de un supervisor).")
        raise DomainError(message, {"consentimiento": message})


def institution_for(code) -> Institution:
    institution = db.session.scalar(db.select(Institution).where(Institution.code == (code or "")))
    if institution is None or not institution.is_active:
        message = _("Elija la institución a la que se remite el caso.")
        raise DomainError(message, {"institucion": message})
    return institution


def send(case, institution: Institution, service: str, *, user, now, sent_on: date | None = None,
         days: int | None = None, contact: str | None = None, instance_id=None) -> Referral:
    """A new referral with its deadline, its letter and (when the institution has a focal point e-mail) the
    e-mail that carries the letter and the institution's link."""
    require_open(case)
    require_consent(case)
    service = strip_controls(service or "").strip()
    if len(service) < 5:
        message = _("Describa el servicio que se solicita a %(i)s.", i=institution.short_name)
        raise DomainError(message, {"servicio_solicitado": message})
    days = days or institution.response_days or current_app.config.get("REFERRAL_DEFAULT_DAYS", DEFAULT_DAYS)
    referral = Referral(case_id=case.id, institution_code=institution.code, service_requested=service[:MAX_TEXT],
                        sent_at=sent_on or now.date(), status="enviada", contact=(contact or None),
                        created_by_id=user.id if user else None, created_at=now,
                        deadline_at=now + timedelta(days=int(days)), instance_id=instance_id)
    db.session.add(referral)
    db.session.flush()
    _store_letter(referral, user, now)
    mailed = queue_mail(referral, "envio", now)
    record_event(case.id, "referral_sent", _("Remisión enviada a %(i)s", i=institution.short_name),
                 user.id if user else None, now, details=[
                     [_("Servicio solicitado"), service[:300]],
                     [_("Plazo de respuesta"), _local(referral.deadline_at, case).strftime("%d/%m/%Y %H:%M")],
                     [_("Aviso a la institución"), _("por correo a su punto focal") if mailed else
                      _("sin correo: la institución no tiene punto focal con correo electrónico")]])
    return referral


def _store_letter(referral, user, now):
    """The oficio de remisión as PDF, kept with the case's documents."""
    from .letter import referral_letter
    from .records import store_pdf

    pdf = referral_letter(referral, now)
    filename = f"oficio-{referral.case.number}-R{referral.id}.pdf"
    attachment = store_pdf(referral.case, user, pdf, filename,
                           _("Oficio de remisión a %(i)s", i=referral.institution.short_name), now,
                           uploads_dir())
    db.session.flush()
    referral.letter_attachment_id = attachment.id


# -- the one transition ---------------------------------------------------------------------------------------
def move(referral: Referral, to: str, *, channel: str, now, user=None, text=None, answered_by=None,
         on_date: date | None = None, end_task: bool = True) -> Referral:
    """Move a referral to `to`, or refuse (DomainError/Conflict, Spanish) and change nothing.

    channel: where the change comes from (REFERRAL_CHANNELS); user: the SIPROC user (None for the institution's
    link and the system); answered_by: the name the institution's person gave; on_date: the day it happened when
    it is told later (not in the future); end_task: False when the caller is completing the answer task itself.
    """
    text = _checked(referral, to, channel, text, on_date, now)
    case, needed, day = referral.case, text_required(to), on_date or now.date()
    previous = referral.status_label
    referral.status = to
    if to in ANSWERS:
        referral.response_at, referral.responded_at, referral.answered_via = day, now, channel
        referral.answered_by = strip_controls(answered_by or "").strip()[:200] or None
        if to == "rechazada":
            referral.rejection_reason = text
        elif text:
            referral.commitment = text
    elif to == "atendida":
        referral.outcome, referral.outcome_on = text, day
    elif to == "revocada":
        referral.revocation_reason = text
    if to in FINAL:
        _close_links(referral, now)
    details = [[_("Antes"), previous], [_("Registrado"), str(REFERRAL_CHANNELS[channel])]]
    if channel == "enlace":
        details.append([_("Respondió"), _("%(name)s, de %(i)s", name=referral.answered_by or _("la institución"),
                                           i=referral.institution.short_name)])
    if text:
        details.append([needed.capitalize() if needed else _("Detalle"), text[:500]])
    record_event(case.id, "referral_updated",
                 _("Remisión a %(i)s: %(s)s", i=referral.institution.short_name, s=referral.status_label),
                 user.id if user else None, now, details=details)
    if end_task and to in ENDS_TASK:
        _end_answer_task(referral, to)
    if channel == "enlace":
        _tell_officer(referral, now)
    return referral


def _checked(referral, to, channel, text, on_date, now) -> str:
    """The move's text, cleaned; or the Spanish refusal of an illegal move, before anything changes."""
    if channel not in REFERRAL_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    require_open(referral.case)
    if to not in REFERRAL_STATUSES:
        raise DomainError(_("Estado de remisión desconocido."))
    if to in SYSTEM_ONLY and channel != "sistema":
        raise DomainError(_("Solo el sistema marca una remisión como sin respuesta, al vencer su plazo."))
    if to not in TRANSITIONS.get(referral.status, set()):
        raise Conflict(_("Una remisión %(a)s no puede pasar a «%(b)s».", a=referral.status_label.lower(),
                         b=str(REFERRAL_STATUSES[to]).lower()))
    text = strip_controls(text or "").strip()
    if len(text) > MAX_TEXT:
        raise DomainError(_("El texto supera %(n)d caracteres.", n=MAX_TEXT), {"texto": _("Demasiado largo.")})
    needed = text_required(to)
    if needed and not text:
        message = _("Indique %(what)s.", what=needed)
        raise DomainError(message, {"texto": message, "motivo_rechazo": message})
    if on_date is not None and on_date > (now + timedelta(hours=14)).date():  # no time zone is ahead of +14
        raise DomainError(_("La fecha no puede ser futura."), {"fecha_respuesta": _("La fecha no puede ser futura.")})
    return text


def _end_answer_task(referral, answer):
    """The referral's open answer task (if any) ends with the same answer, by the system."""
    task = open_answer_task(referral)
    if task is not None:
        workflow.complete_user_task(task, {"respuesta": answer}, None)


def open_answer_task(referral) -> HumanTask | None:
    if not (referral.instance_id and referral.workflow_task_id):
        return None
    return db.session.scalar(db.select(HumanTask).where(
        HumanTask.instance_id == referral.instance_id, HumanTask.task_id == referral.workflow_task_id,
        HumanTask.completed_at.is_(None)))


def _tell_officer(referral, now):
    """The officer who sent the referral (or the case's officer) learns that the institution answered."""
    case = referral.case
    users = {u.id: u for u in (db.session.get(User, referral.created_by_id) if referral.created_by_id else None,
                               case.assigned_officer) if u is not None and u.is_active}
    title = _("%(i)s respondió: %(s)s · %(n)s", i=referral.institution.short_name, s=referral.status_label,
              n=case.number)
    for user in users.values():
        tell(user, kind="remision", title=title, body=_("La institución respondió por su enlace a la remisión "
                                                         "del caso %(n)s.", n=case.number),
             link=f"/casos/{case.id}#remisiones", now=now, case_id=case.id,
             dedup_key=f"remision:{referral.id}:{referral.status}:{user.id}")


# -- the workflow side ------------------------------------------------------------------------------------------
def on_instance_advanced(instance, ready=(), **_kw):
    """Signal handler: an answer task that just became ready is bound to its referral (task data
    `remision.referral_id`), and its title names the institution, so the inbox tells parallel referrals apart."""
    for task in ready:
        item = task.data.get("remision") if isinstance(task.data, dict) else None
        referral_id = item.get("referral_id") if isinstance(item, dict) else None
        if not isinstance(referral_id, int):
            continue
        referral = db.session.get(Referral, referral_id)
        if referral is None or referral.case_id != instance.case_id or referral.workflow_task_id == task.id:
            continue
        referral.instance_id, referral.workflow_task_id = instance.id, task.id
        row = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.task_id == task.id))
        if row is not None:
            row.title = f"{task.info.name} · {referral.institution.short_name}"[:200]
            row.due_at = referral.deadline_at


@service_operation("siproc/remision_recordatorio", _l("Recordatorio a la institución (plazo vencido)"), params=[
    Param("referral_id", _l("Remisión"), "number", help=_l("El número de la remisión, p. ej. "
                                                           "remision[\"referral_id\"]"))],
    description=_l("Al vencer el plazo, la remisión pasa a «sin respuesta» y la institución recibe un recordatorio."))
def remind(params: dict, _task_data: dict) -> dict:
    """At the deadline: a referral still without answer becomes sin_respuesta and its institution is reminded
    with a fresh link; the officer and, after ESCALATION_DAYS, the supervisors hear of it through the task's
    own deadline (notifications.rules)."""
    referral = db.session.get(Referral, params.get("referral_id")) if isinstance(params.get("referral_id"), int) \
        else None
    context = run_context()  # need-to-know: only a referral of the instance's own case
    if referral is not None and context is not None and referral.case_id != context.case_id:
        referral = None
    if referral is None or referral.status != "enviada" or referral.case.status == "cerrado":
        return {"recordado": False}
    now = clock.now()
    move(referral, "sin_respuesta", channel="sistema", now=now, end_task=False)
    referral.reminded_at = now
    mailed = queue_mail(referral, "recordatorio", now)
    for user in supervisors_of(referral.case.office_id) if not mailed else ():
        tell(user, kind="remision", title=_("Remisión sin respuesta y sin correo: %(i)s · %(n)s",
                                            i=referral.institution.short_name, n=referral.case.number),
             body=_("Venció el plazo y la institución no tiene correo de punto focal para recordarle."),
             link=f"/casos/{referral.case_id}#remisiones", now=now, case_id=referral.case_id,
             dedup_key=f"remision-sin-correo:{referral.id}:{user.id}")
    return {"recordado": True, "correo": mailed}


# -- the institution's link ---------------------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_link(referral, now) -> str:
    """A new link to this referral; the token is returned once and stored only as its hash."""
    token = secrets.token_urlsafe(32)
    days = current_app.config.get("REFERRAL_LINK_DAYS", 30)
    db.session.add(ReferralLink(referral_id=referral.id, token_hash=token_hash(token), created_at=now,
                                expires_at=now + timedelta(days=days)))
    return token


def find_link(token: str, now) -> tuple[ReferralLink | None, str | None]:
    """(link, None) when the token opens a referral now; (link or None, Spanish reason) when it does not."""
    if not token or len(token) > 100:
        return None, _("El enlace no es válido. Compruebe que lo copió completo del correo.")
    link = db.session.scalar(db.select(ReferralLink).where(ReferralLink.token_hash == token_hash(token)))
    if link is None:
        return None, _("El enlace no es válido. Compruebe que lo copió completo del correo.")
    if link.revoked_at is not None:
        return link, _("Este enlace fue anulado por el consulado. Si necesita responder, comuníquese con la "
                       "oficina consular.")
    if link.spent_at is not None or link.referral.status in FINAL:
        return link, _("Esta remisión ya quedó resuelta; el enlace ya se utilizó y no admite más respuestas.")
    if clock.as_utc(link.expires_at) <= now:
        return link, _("Este enlace venció el %(d)s. Pida a la oficina consular uno nuevo.",
                       d=clock.as_utc(link.expires_at).strftime("%d/%m/%Y"))
    return link, None


def revoke_links(referral, now) -> int:
    """Annul every live link of a referral (the officer's «Anular enlace», or a new one replacing them)."""
    return db.session.execute(db.update(ReferralLink).where(
        ReferralLink.referral_id == referral.id, ReferralLink.revoked_at.is_(None),
        ReferralLink.spent_at.is_(None)).values(revoked_at=now)).rowcount


def renew_link(referral, user, now) -> None:
    """The officer annuls the links sent so far and the focal point gets a new one (audited)."""
    from ..audit import services as audit

    require_open(referral.case)
    if referral.status in FINAL:
        raise Conflict(_("La remisión ya está resuelta: no necesita enlace."))
    if not (referral.institution.focal_email or "").strip():
        raise DomainError(_("%(i)s no tiene correo de punto focal. Un administrador puede registrarlo en el "
                            "catálogo de instituciones.", i=referral.institution.short_name))
    annulled = revoke_links(referral, now)
    queue_mail(referral, "envio", now)
    audit.record("referral_link_revoked", case_id=referral.case_id, object_type="referral", object_id=referral.id,
                 details={"anulados": annulled}, actor=user)
    record_event(referral.case_id, "referral_link", _("Nuevo enlace para %(i)s", i=referral.institution.short_name),
                 user.id, now, details=[[_("Enlaces anulados"), str(annulled)]])


def _close_links(referral, now):
    db.session.execute(db.update(ReferralLink).where(
        ReferralLink.referral_id == referral.id, ReferralLink.spent_at.is_(None)).values(spent_at=now))


def queue_mail(referral, kind, now) -> bool:
    """Queue the e-mail to the institution's focal point with a new link; False when it has no e-mail."""
    address = (referral.institution.focal_email or "").strip()
    if not address:
        return False
    token = issue_link(referral, now)
    db.session.add(ReferralMail(referral_id=referral.id, kind=kind, to_address=address, token=token,
                                status="pendiente", created_at=now))
    return True


def _local(moment, case):
    from zoneinfo import ZoneInfo

    return clock.as_utc(moment).astimezone(ZoneInfo(case.office.timezone)) if case.office else moment


# -- the institutions' outbox (sent by the scheduler's sweep) ---------------------------------------------------
def send_mails(config, now, limit=100) -> dict:
    """Send the queued e-mails to focal points; the token is erased from each message sent. Commits nothing."""
    import smtplib

    from ..core import mail as smtp_server

    if not config.get("MAIL_SERVER"):
        return {"sent": 0, "failed": 0, "skipped": "sin servidor de correo"}
    pending = db.session.scalars(db.select(ReferralMail).where(ReferralMail.status == "pendiente")
                                 .order_by(ReferralMail.id).limit(limit)).all()
    sent = failed = 0
    if not pending:
        return {"sent": 0, "failed": 0}
    try:
        with smtp_server.connection(config) as smtp:
            for outgoing in pending:
                outgoing.attempts += 1
                try:
                    smtp.send_message(institution_message(config, outgoing))
                    outgoing.status, outgoing.sent_at, outgoing.token, outgoing.error = "enviado", now, None, None
                    sent += 1
                except smtplib.SMTPException as exc:
                    outgoing.error = str(exc)[:300]
                    if outgoing.attempts >= 5:
                        outgoing.status, outgoing.token = "error", None
                    failed += 1
    except (OSError, smtplib.SMTPException) as exc:  # the server is down: everything stays queued
        return {"sent": sent, "failed": len(pending) - sent, "error": str(exc)}
    return {"sent": sent, "failed": failed}


def institution_message(config, outgoing):
    """The e-mail to the focal point: the case number, the deadline and the link; the letter attached on sending.
    The body names no person: their data are in the letter and behind the link."""
    from email.message import EmailMessage

    referral = outgoing.referral
    case = referral.case
    link = config["BASE_URL"].rstrip("/") + f"/remision/{outgoing.token}"
    mail = EmailMessage()
    mail["From"] = config["MAIL_FROM"]
    mail["To"] = outgoing.to_address
    subject = _("Recordatorio: remisión pendiente de respuesta") if outgoing.kind == "recordatorio" else \
        _("Remisión de caso")
    mail["Subject"] = f"[SIPROC] {subject} · {case.number} · {case.office.name}"
    deadline = _local(referral.deadline_at, case).strftime("%d/%m/%Y") if referral.deadline_at else "—"
    lines = [
        _("Estimado(a) %(n)s:", n=referral.institution.focal_name or _("punto focal de %(i)s",
                                                                       i=referral.institution.short_name)),
        "",
        _("%(o)s remite a %(i)s el caso %(c)s.", o=case.office.name, i=referral.institution.name, c=case.number)
        if outgoing.kind != "recordatorio" else
        _("El plazo para responder a la remisión del caso %(c)s venció el %(d)s sin respuesta.", c=case.number,
          d=deadline),
        _("Plazo de respuesta: %(d)s.", d=deadline),
        "",
        _("Responda (acepte, indique por qué no puede atenderla o informe el resultado) en este enlace, válido "
          "solo para esta remisión:"),
        link,
        "",
        _("El oficio de remisión va adjunto.") if outgoing.kind == "envio" and referral.letter else "",
        _("No reenvíe este mensaje: quien tenga el enlace puede responder en nombre de su institución."),
    ]
    mail.set_content("\n".join(lines))
    if outgoing.kind == "envio" and referral.letter is not None:
        from .records import attachment_path

        path = attachment_path(uploads_dir(), referral.letter)
        mail.add_attachment(path.read_bytes(), maintype="application", subtype="pdf",
                            filename=referral.letter.filename)
    return mail
