"""E-mail of notices through the SMTP server of the configuration; the message names no person."""
import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

from flask_babel import gettext as _

from ..auth.models import User
from ..core import mail as smtp_server
from ..extensions import db
from .models import Notification

log = logging.getLogger(__name__)


def send_pending(config, now, limit=200) -> dict:
    """Send waiting notices (newest days only); each is marked enviado or error. Commits nothing."""
    if not config.get("MAIL_SERVER"):
        return {"sent": 0, "failed": 0, "skipped": "sin servidor de correo"}
    oldest = now - timedelta(hours=config["MAIL_MAX_AGE_HOURS"])
    db.session.execute(db.update(Notification).where(Notification.email_status == "pendiente",
                                                      Notification.created_at < oldest)
                       .values(email_status="caducado"))
    pending = db.session.execute(
        db.select(Notification, User.email).join(User, Notification.user_id == User.id)
        .where(Notification.email_status == "pendiente").order_by(Notification.id).limit(limit)).all()
    if not pending:
        return {"sent": 0, "failed": 0}
    sent = failed = 0
    try:
        with smtp_server.connection(config) as smtp:
            for notice, address in pending:
                try:
                    smtp.send_message(message(config, notice, address))
                    notice.email_status, notice.emailed_at = "enviado", now
                    sent += 1
                except smtplib.SMTPException as exc:
                    notice.email_status = "error"
                    failed += 1
                    log.warning("notice %s not sent: %s", notice.id, exc)
    except (OSError, smtplib.SMTPException) as exc:  # the server is down: everything stays pending
        log.warning("SMTP server unavailable: %s", exc)
        return {"sent": sent, "failed": len(pending) - sent, "error": str(exc)}
    return {"sent": sent, "failed": failed}


def message(config, notice, address) -> EmailMessage:
    """Subject and body carry the case number, the task and a link: no names, no case data."""
    mail = EmailMessage()
    mail["From"] = config["MAIL_FROM"]
    mail["To"] = address
    mail["Subject"] = f"[SIPROC] {notice.title}"
    link = config["BASE_URL"].rstrip("/") + (notice.link or "/")
    mail.set_content("\n".join([
        notice.title,
        "",
        notice.body,
        "",
        _("Abrir en SIPROC: %(l)s", l=link),
        "",
        _("Este mensaje no contiene datos personales. Consulte el caso en SIPROC."),
    ]))
    return mail
