"""«Mi cuenta»: every user changes their own password and enrols a second factor (TOTP)."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import crypto
from ..core.errors import DomainError
from ..extensions import db
from . import services, totp
from .forms import PasswordChangeForm, TotpConfirmForm
from .views import open_session, start_session

bp = Blueprint("account", __name__, template_folder="templates", url_prefix="/cuenta")

TOTP_PENDING = "totp_pending"  # session key: the secret being enrolled, encrypted, until a code confirms it

# Merged into app/auth/policy.py's ENDPOINT_RULES ("authenticated" is policy.AUTHENTICATED): every user.
ENDPOINT_RULES = {
    "account.index": "authenticated",
    "account.change_password": "authenticated",
    "account.second_factor": "authenticated",
}


@bp.route("/")
def index():
    return _account_page(PasswordChangeForm(formdata=None))


@bp.route("/contrasena", methods=["POST"])
def change_password():
    form, user = PasswordChangeForm(), current_user._get_current_object()
    try:
        if not form.validate():
            raise DomainError(_("Revise los campos marcados. No se cambió la contraseña."))
        services.change_own_password(user, form.current_password.data, form.new_password.data, request.remote_addr)
        open_session(user)  # every session of the user ended with the old password; this browser gets a new one
        db.session.commit()
    except services.WrongCurrentPassword as exc:
        db.session.commit()  # only the failed check is kept: it counts for the lockout
        return _refused(_account_page, form, exc)
    except DomainError as exc:
        db.session.rollback()
        return _refused(_account_page, form, exc)
    start_session(user)
    flash(_("Su contraseña se cambió."), "success")
    return redirect(url_for(".index"))


@bp.route("/segundo-factor", methods=["GET", "POST"])
def second_factor():
    user = current_user._get_current_object()
    if user.totp_enabled:
        flash(_("El segundo factor ya está activado en su cuenta."), "info")
        return redirect(url_for(".index"))
    form, secret = TotpConfirmForm(), _pending_secret()
    if not form.is_submitted():
        return _totp_page(form, secret)
    try:
        if not form.validate():
            raise DomainError(_("Revise el código. No se activó el segundo factor."))
        services.enrol_totp(user, secret, form.code.data)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _refused(lambda f, status: _totp_page(f, secret, status), form, exc)
    session.pop(TOTP_PENDING, None)
    flash(_("Segundo factor activado: desde ahora se le pedirá un código al iniciar sesión."), "success")
    return redirect(url_for(".index"))


def _account_page(form, status=200):
    return render_template("account/index.html", form=form, user=current_user,
                           totp_required=services.totp_required(current_user)), status


def _totp_page(form, secret, status=200):
    uri = totp.provisioning_uri(secret, current_user.username)
    return render_template("account/totp.html", form=form, secret=totp.grouped(secret),
                           qr_code=totp.qr_data_uri(uri)), status


def _refused(page, form, exc: DomainError):
    for name, message in exc.field_errors.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
    flash(exc.message, "danger")
    return page(form, status=422)


def _pending_secret() -> str:
    """The same secret across reloads of the enrolment page, kept encrypted in the session cookie."""
    try:
        return crypto.decrypt(session[TOTP_PENDING])
    except (KeyError, TypeError, crypto.UnreadableData):
        secret = totp.new_secret()
        session[TOTP_PENDING] = crypto.encrypt(secret)
        return secret
