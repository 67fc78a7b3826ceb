"""before_request hooks: the server-side session is checked first (it ends when idle, too old or revoked), then the
permission policy runs, then unfinished accounts are set up first."""
from flask import flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..extensions import db
from . import services, sessions
from .views import end_session

LOGIN_ENDPOINTS = {"auth.login", "auth.login_code", "auth.logout"}
# What a user with a temporary password or a missing required second factor may still reach.
SETUP_ENDPOINTS = {"static", *LOGIN_ENDPOINTS, "auth.account", "auth.change_password", "auth.second_factor"}


def enforce_session():
    """A cookie whose session is no longer open is dropped; the request (even a POST) is not run but sent to the
    login page. Idle and too-old sessions are revoked and audited here; last_seen_at moves at most once a minute."""
    if request.endpoint in (None, "static") or "_user_id" not in session:
        return None
    if current_user.is_authenticated:
        if sessions.touch(g.user_session):
            db.session.commit()  # nothing else is pending: this hook runs first
        return None
    row, refused = g.pop("session_refused", (None, sessions.INVALID))
    if refused == sessions.EXPIRED_IDLE:
        sessions.revoke(row, sessions.IDLE)
        message = _("La sesión expiró por inactividad.")
    elif refused == sessions.EXPIRED_ABSOLUTE:
        sessions.revoke(row, sessions.ABSOLUTE)
        message = _("La sesión alcanzó su duración máxima. Inicie sesión de nuevo.")
    else:
        message = _("Su sesión se cerró. Inicie sesión de nuevo.")
    db.session.commit()
    if request.endpoint in LOGIN_ENDPOINTS:  # the login pages go on, without the dead session (their form is kept)
        logout_user()
        return None
    end_session()
    flash(message, "warning")
    back = request.method == "GET"
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if back else None))


def require_account_setup():
    """A temporary password must be replaced, and a required second factor enrolled, before anything else."""
    if request.endpoint in SETUP_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return None
    if current_user.must_change_password:
        flash(_("Debe cambiar la contraseña temporal antes de continuar."), "warning")
        return redirect(url_for("auth.account"))
    if services.totp_required(current_user) and not current_user.totp_enabled:
        flash(_("Su rol requiere un segundo factor de autenticación: actívelo antes de continuar."), "warning")
        return redirect(url_for("auth.second_factor"))
    return None
