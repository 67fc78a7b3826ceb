"""before_request hooks run after the permission policy: idle sessions end; unfinished accounts are set up first."""
from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import clock
from ..extensions import db
from . import services
from .views import LAST_SEEN, end_session

# What a user with a temporary password or a missing required second factor may still reach.
SETUP_ENDPOINTS = {"static", "auth.login", "auth.login_code", "auth.logout"}


def expire_idle_session():
    """After SESSION_IDLE_MINUTES without a request the session ends; the request (even a POST) is not run."""
    if request.endpoint in (None, "static") or not current_user.is_authenticated:
        return None
    now = clock.now().timestamp()
    last_seen = session.get(LAST_SEEN)
    if isinstance(last_seen, int | float) and now - last_seen > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        services.logout(current_user._get_current_object(), reason="inactividad")
        db.session.commit()
        end_session()
        flash(_("La sesión expiró por inactividad."), "warning")
        back = request.method == "GET" and request.blueprint != "auth"
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if back else None))
    session[LAST_SEEN] = now
    return None


def require_account_setup():
    """A temporary password must be replaced, and a required second factor enrolled, before anything else."""
    if request.endpoint in SETUP_ENDPOINTS or request.blueprint == "account":
        return None
    if not current_user.is_authenticated:
        return None
    if current_user.must_change_password:
        flash(_("Debe cambiar la contraseña temporal antes de continuar."), "warning")
        return redirect(url_for("account.index"))
    if services.totp_required(current_user) and not current_user.totp_enabled:
        flash(_("Su rol requiere un segundo factor de autenticación: actívelo antes de continuar."), "warning")
        return redirect(url_for("account.second_factor"))
    return None
