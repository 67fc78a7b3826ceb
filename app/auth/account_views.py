"""«Mi cuenta»: every user changes their own password and enrols a second factor (TOTP)."""
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import crypto
from ..core.access import AUTHENTICATED, rule
from ..core.errors import DomainError
from ..core.web import act
from . import bp, services, totp
from .forms import PasswordChangeForm, TotpConfirmForm
from .views import open_session, start_session

TOTP_PENDING = "totp_pending"  # session key: the secret being enrolled, encrypted, until a code confirms it


@bp.route("/cuenta/")
@rule(AUTHENTICATED)
def account():
    return _account_page(PasswordChangeForm(formdata=None))


@bp.route("/cuenta/contrasena", methods=["POST"])
@rule(AUTHENTICATED)
def change_password():
    form, user = PasswordChangeForm(), current_user._get_current_object()

    def change():
        if not form.validate():
            raise DomainError(_("Revise los campos marcados. No se cambió la contraseña."))
        services.change_own_password(user, form.current_password.data, form.new_password.data, request.remote_addr)
        open_session(user)  # every session of the user ended with the old password; this browser gets a new one

    return act(change, lambda _: _changed(user), refused=lambda exc: _account_page(form, 422), form=form)


@bp.route("/cuenta/segundo-factor", methods=["GET", "POST"])
@rule(AUTHENTICATED)
def second_factor():
    user = current_user._get_current_object()
    if user.totp_enabled:
        flash(_("El segundo factor ya está activado en su cuenta."), "info")
        return redirect(url_for(".account"))
    form, secret = TotpConfirmForm(), _pending_secret()
    if not form.is_submitted():
        return _totp_page(form, secret)

    def enrol():
        if not form.validate():
            raise DomainError(_("Revise el código. No se activó el segundo factor."))
        services.enrol_totp(user, secret, form.code.data)

    return act(enrol, lambda _: _enrolled(), refused=lambda exc: _totp_page(form, secret, 422), form=form)


def _changed(user):
    start_session(user)
    flash(_("Su contraseña se cambió."), "success")
    return redirect(url_for(".account"))


def _enrolled():
    session.pop(TOTP_PENDING, None)
    flash(_("Segundo factor activado: desde ahora se le pedirá un código al iniciar sesión."), "success")
    return redirect(url_for(".account"))


def _account_page(form, status=200):
    return render_template("account/index.html", form=form, user=current_user,
                           totp_required=services.totp_required(current_user)), status


def _totp_page(form, secret, status=200):
    uri = totp.provisioning_uri(secret, current_user.username)
    return render_template("account/totp.html", form=form, secret=totp.grouped(secret),
                           qr_code=totp.qr_data_uri(uri)), status


def _pending_secret() -> str:
    """The same secret across reloads of the enrolment page, kept encrypted in the session cookie."""
    try:
        return crypto.decrypt(session[TOTP_PENDING])
    except (KeyError, TypeError, crypto.UnreadableData):
        secret = totp.new_secret()
        session[TOTP_PENDING] = crypto.encrypt(secret)
        return secret
