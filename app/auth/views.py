"""Login (password, then the second-factor code when enrolled) and logout."""
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..core import clock
from ..core.access import AUTHENTICATED, PUBLIC, rule
from ..extensions import db
from . import bp, services, sessions
from .forms import CodeForm, LoginForm

PENDING = "pending_login"  # session key: the half-authenticated user between the password and the code


@bp.route("/login", methods=["GET", "POST"])
@rule(PUBLIC)
def login():
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    result = services.check_password_step(form.username.data, form.password.data, request.remote_addr)
    _open_if_ok(result)
    db.session.commit()
    if result.status == services.NEEDS_CODE:
        session[PENDING] = {"id": result.user.id, "token": result.user.session_token,
                            "at": clock.now().timestamp(), "next": request.args.get("next")}
        return redirect(url_for(".login_code"))
    return _finish(result, request.args.get("next"), "auth/login.html", form)


@bp.route("/login/codigo", methods=["GET", "POST"])
@rule(PUBLIC)  # reachable without a session, but it only works after the password step (_pending_login)
def login_code():
    pending = _pending_login()
    if pending is None:
        return redirect(url_for(".login"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("auth/login_code.html", form=form)
    result = services.check_code_step(pending["id"], pending["token"], form.code.data, request.remote_addr)
    _open_if_ok(result)
    db.session.commit()
    if result.status in (services.RESTART, services.LOCKED):
        session.pop(PENDING, None)
        locked = result.status == services.LOCKED
        flash(result.message if locked else _("Inicie sesión de nuevo."),
              "danger" if locked else "info")
        return redirect(url_for(".login"))
    return _finish(result, pending.get("next"), "auth/login_code.html", form)


@bp.route("/logout", methods=["POST"])
@rule(AUTHENTICATED)
def logout():
    row = g.get("user_session")
    if current_user.is_authenticated and row is not None:
        sessions.revoke(row, sessions.LOGOUT, actor=current_user._get_current_object())
        db.session.commit()
    end_session()
    flash(_("Ha cerrado la sesión."), "info")
    return redirect(url_for("auth.login"))


def open_session(user):
    """A new server-side session row for this browser (flushed; the view commits, then calls start_session)."""
    return sessions.open_session(user, request.remote_addr, request.user_agent.string)


def start_session(user):
    """Authenticate this browser with the session opened by open_session: a fresh cookie (nothing kept)."""
    session.clear()
    login_user(user)


def end_session():
    logout_user()
    session.clear()


def _open_if_ok(result):
    """On success, the session this browser had before (if any) ends and a new one is opened."""
    if result.status == services.OK:
        previous = g.get("user_session")
        if previous is not None:
            sessions.revoke(previous, sessions.LOGOUT)
        open_session(result.user)


def _finish(result, next_url, template, form):
    """Respond to a login step: in on success, else the same page with the reason (nothing else said)."""
    if result.status == services.OK:
        start_session(result.user)
        return redirect(_safe_next(next_url))
    if result.status == services.LOCKED:
        flash(result.message, "danger")
        return render_template(template, form=form), 429
    if result.status == services.REUSED:
        flash(_("Ese código ya se usó. Espere a que la aplicación muestre uno nuevo."), "danger")
    elif template == "auth/login_code.html":
        flash(_("Código incorrecto."), "danger")
    else:
        flash(_("Usuario o contraseña incorrectos."), "danger")
    return render_template(template, form=form)


def _pending_login():
    """The half-authenticated login, if it is recent; otherwise None (and the user starts again)."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not {"id", "token", "at"} <= pending.keys():
        flash(_("Inicie sesión para continuar."), "info")
        return None
    if clock.now().timestamp() - pending["at"] > current_app.config["LOGIN_CODE_MINUTES"] * 60:
        session.pop(PENDING, None)
        flash(_("El tiempo para escribir el código terminó. Inicie sesión de nuevo."), "warning")
        return None
    return pending


def _safe_next(target):
    """Only same-site relative paths are followed after login."""
    if (target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc
            and target.isprintable() and "\\" not in target and " " not in target):
        return target  # browsers read a backslash as a slash (/\evil.example), so those are refused too
    return url_for("tasks.inbox")
