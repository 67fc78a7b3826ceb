"""The institution's own page for one referral, opened by the secure link of its e-mail (no SIPROC account).

It shows only what the institution needs for that referral (app/cases/referrals.shared_data) and lets it accept,
reject with a reason, or report the outcome with an optional document. Every request is audited, and requests
are rate-limited by address (refused tokens count more). The token is in the path, so responses say
Referrer-Policy: no-referrer and are never cached.
"""
from datetime import timedelta

from flask import current_app, render_template, request
from flask_babel import gettext as _

from ..audit import services as audit
from ..audit.models import AuditEvent
from ..core import clock
from ..core.access import PUBLIC, rule
from ..core.errors import DomainError
from ..extensions import db
from . import bp, referrals
from .letter import shared_with_institution
from .records import ALLOWED_TYPES, checked_upload, store_bytes, uploads_dir

DOCUMENT_TYPES = {k: ALLOWED_TYPES[k] for k in ("pdf", "png", "jpg", "jpeg")}
ACTIONS = {"aceptar": "aceptada", "rechazar": "rechazada", "atencion": "en_atencion", "resultado": "atendida"}
LINK_AUDIT = ("referral_link_opened", "referral_link_answered", "referral_link_refused", "referral_link_throttled")


@bp.route("/remision/<token>", methods=["GET", "POST"])
@rule(PUBLIC)
def referral_link(token):
    now = clock.now()
    if _throttled(now):
        audit.record("referral_link_throttled", details={"metodo": request.method})
        db.session.commit()
        return _page("cases/referral_link/refused.html", 429,
                     message=_("Demasiados intentos desde esta dirección. Espere unos minutos y vuelva a abrir el "
                               "enlace del correo."))
    link, problem = referrals.find_link(token, now)
    if problem:
        audit.record("referral_link_refused", case_id=link.referral.case_id if link else None,
                     object_type="referral" if link else None, object_id=link.referral_id if link else None,
                     details={"motivo": "invalido" if link is None else "anulado/usado/vencido"})
        db.session.commit()
        return _page("cases/referral_link/refused.html", 404 if link is None else 410, message=problem)
    referral = link.referral
    link.uses, link.last_used_at = (link.uses or 0) + 1, now
    if request.method == "GET":
        audit.record("referral_link_opened", case_id=referral.case_id, object_type="referral",
                     object_id=referral.id)
        db.session.commit()
        return _show(referral, token)
    return _answer(referral, token, now)


def _answer(referral, token, now):
    action = request.form.get("accion", "")
    name = (request.form.get("nombre") or "").strip()
    errors = {}
    if action not in ACTIONS:
        errors["accion"] = _("Elija qué responde.")
    if not name:
        errors["nombre"] = _("Escriba su nombre: queda registrado quién respondió.")
    elif len(name) > 200:
        errors["nombre"] = _("El nombre supera 200 caracteres.")
    if errors:
        return _refuse(referral, token, errors)
    try:
        referrals.move(referral, ACTIONS[action], channel="enlace", now=now, text=request.form.get("texto"),
                       answered_by=name)
        upload = request.files.get("documento")
        if upload is not None and upload.filename:
            if action != "resultado":
                raise DomainError(_("Solo se adjunta un documento al informar el resultado."),
                                  {"documento": _("Adjunte el documento con el resultado.")})
            _store_document(referral, upload, name, now)
    except DomainError as exc:
        return _refuse(referral, token, exc.field_errors or {"texto": exc.message}, exc.message,
                       422 if exc.status_code == 400 else exc.status_code)
    audit.record("referral_link_answered", case_id=referral.case_id, object_type="referral",
                 object_id=referral.id, details={"respuesta": referral.status},
                 actor_name=f"enlace:{referral.institution_code}"[:80])
    db.session.commit()
    return _page("cases/referral_link/done.html", 200, referral=referral, token=token,
                 still_open=referral.status in ("aceptada", "en_atencion"))


def _store_document(referral, upload, name, now):
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    filename, data, content_type = checked_upload(upload, limit, DOCUMENT_TYPES)
    store_bytes(referral.case, None, data, filename, content_type,
           _("Enviado por %(i)s (%(n)s) con el resultado de la remisión", i=referral.institution.short_name,
             n=name[:80]), now, uploads_dir())


def _refuse(referral, token, errors, message=None, status=422):
    """Bad input: a Spanish message, 422, nothing saved (the request's changes are rolled back)."""
    db.session.rollback()
    audit.record("referral_link_refused", case_id=referral.case_id, object_type="referral",
                 object_id=referral.id, details={"motivo": "datos"})
    db.session.commit()
    return _show(db.session.get(type(referral), referral.id), token, errors=errors,
                 message=message or _("Revise los datos marcados. No se guardó nada."), status=status)


def _show(referral, token, errors=None, message=None, status=200):
    try:
        person, consent = shared_with_institution(referral, clock.now())
    except DomainError:  # consent withdrawn since the referral was sent: the person's data are not shown any more
        return _page("cases/referral_link/refused.html", 410, message=_(
            "La persona retiró su consentimiento para compartir sus datos: esta remisión ya no se puede consultar. "
            "Comuníquese con la oficina consular."))
    return _page("cases/referral_link/page.html", status, referral=referral, token=token, person=person,
                 consent=consent,
                 errors=errors or {}, message=message, values=request.form if errors else {},
                 max_mb=current_app.config["MAX_ATTACHMENT_BYTES"] // (1024 * 1024))


def _page(template, status, **context):
    response = current_app.make_response((render_template(template, **context), status))
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _throttled(now) -> bool:
    """Too many link requests from this address in the window, or too many refused ones."""
    config = current_app.config
    since = now - timedelta(minutes=config.get("REFERRAL_LINK_WINDOW_MINUTES", 10))
    address = request.remote_addr
    rows = db.session.execute(db.select(AuditEvent.action, db.func.count()).where(
        AuditEvent.action.in_(LINK_AUDIT), AuditEvent.occurred_at >= since, AuditEvent.ip_address == address)
        .group_by(AuditEvent.action)).all()
    counts = dict(rows)
    total = sum(counts.values())
    refused = counts.get("referral_link_refused", 0) + counts.get("referral_link_throttled", 0)
    return total >= config.get("REFERRAL_LINK_MAX_REQUESTS", 60) or \
        refused >= config.get("REFERRAL_LINK_MAX_REFUSED", 10)
