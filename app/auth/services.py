"""User accounts: create, log in (password, then the second factor when enrolled), passwords, TOTP enrolment."""
import functools
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from ..audit.services import record
from ..core import clock
from ..core.errors import DomainError
from ..extensions import db
from . import roles, sessions, throttle, totp
from .models import User
from .password_policy import check_password
from .passwords import hash_password, needs_rehash, verify_password

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{2,79}")

# Outcomes of a login step.
OK, NEEDS_CODE, FAILED, LOCKED, REUSED, RESTART = "ok", "needs_code", "failed", "locked", "reused", "restart"


@dataclass
class LoginResult:
    status: str
    user: User | None = None
    locked_minutes: int = 0
    message: str = ""  # why a LOCKED attempt was refused, for the user


class WrongCurrentPassword(DomainError):
    """The current password typed to change it was wrong; the failure is recorded and must be committed."""

    keeps_changes = True


def refused_message(refusal: throttle.Refusal) -> str:
    if refusal.kind == throttle.SLOWED:
        return ngettext("Demasiados intentos fallidos para este usuario. Inténtelo de nuevo en %(num)d segundo.",
                        "Demasiados intentos fallidos para este usuario. Inténtelo de nuevo en %(num)d segundos.",
                        refusal.seconds)
    return locked_message(refusal.minutes)


def _refused(refusal: throttle.Refusal, username: str, step: str) -> LoginResult:
    record("login_locked", actor_name=username,
           details={"paso": step, **({"motivo": "usuario ralentizado"} if refusal.kind == throttle.SLOWED else {})})
    return LoginResult(LOCKED, locked_minutes=refusal.minutes, message=refused_message(refusal))


def locked_message(minutes: int) -> str:
    return ngettext("Cuenta bloqueada temporalmente por intentos fallidos. Inténtelo de nuevo en %(num)d minuto.",
                    "Cuenta bloqueada temporalmente por intentos fallidos. Inténtelo de nuevo en %(num)d minutos.",
                    minutes)


def normalize_username(username: str | None) -> str:
    return (username or "").strip().lower()[:80]


def create_user(username, full_name, password, role, office, email=None, must_change_password=False) -> User:
    """Create a user; refuses unknown roles, malformed or duplicate usernames and passwords against the policy."""
    username = normalize_username(username)
    if role not in roles.ROLES:
        raise DomainError(_("Rol desconocido: %(role)s", role=role), {"role": _("Elija un rol de la lista.")})
    if not USERNAME_PATTERN.fullmatch(username):
        message = _("Use de 3 a 80 letras minúsculas sin tilde, dígitos, puntos, guiones o guiones bajos "
                    "(p. ej. maria.lopez).")
        raise DomainError(_("Nombre de usuario no válido. %(m)s", m=message), {"username": message})
    if db.session.scalar(db.select(User.id).where(User.username == username)):
        message = _("Ya existe un usuario con el nombre %(u)s.", u=username)
        raise DomainError(message, {"username": message})
    check_password(password, username, full_name)
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        password_hash=hash_password(password),
        password_changed_at=clock.now(),
        must_change_password=must_change_password,
        role=role,
        office=office,
        office_id=office.id,
    )
    db.session.add(user)
    db.session.flush()
    return user


def check_password_step(username: str, password: str, ip_address: str | None) -> LoginResult:
    """First login step. Unknown, inactive and wrong all cost one Argon2 verification and look the same."""
    typed = normalize_username(username)
    refusal = throttle.refusal(typed, ip_address)
    if refusal:
        return _refused(refusal, typed, "contraseña")
    user = db.session.scalar(db.select(User).where(User.username == typed))
    if user is None or not user.is_active:
        verify_password(_dummy_hash(), password or "")
        return _failed(typed, ip_address, "contraseña")
    if not verify_password(user.password_hash, password or ""):
        return _failed(typed, ip_address, "contraseña")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.totp_enabled:
        return LoginResult(NEEDS_CODE, user=user)  # not counted as a success before the second factor
    return _succeeded(user, ip_address)


def check_code_step(user_id: int, session_token: str, code: str, ip_address: str | None) -> LoginResult:
    """Second login step: a code of the user's authenticator app, never one already used."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not user.totp_enabled or user.session_token != session_token:
        return LoginResult(RESTART)
    refusal = throttle.refusal(user.username, ip_address)
    if refusal:
        return _refused(refusal, user.username, "código")
    steps = totp.matching_steps(user.totp_secret, code)
    if not steps or not _claim_step(user, max(steps)):
        _failed(user.username, ip_address, "código", reused=bool(steps))
        return LoginResult(REUSED if steps else FAILED)
    return _succeeded(user, ip_address)


def _claim_step(user: User, step: int) -> bool:
    """Record the step as used unless it (or a later one) already was; atomic, so two concurrent submits of
    one code cannot both pass."""
    claimed = db.session.execute(
        db.update(User)
        .where(User.id == user.id, sa.or_(User.totp_last_used_step.is_(None), User.totp_last_used_step < step))
        .values(totp_last_used_step=step)
    ).rowcount
    return claimed == 1


def change_own_password(user: User, current: str, new: str, ip_address: str | None) -> User:
    """The user replaces their password; the current one is required and wrong guesses count for the lockout."""
    refusal = throttle.refusal(user.username, ip_address)
    if refusal:
        raise DomainError(refused_message(refusal))
    check_password(new, user.username, user.full_name, field="new_password")
    if not verify_password(user.password_hash, current or ""):
        throttle.record_attempt(user.username, ip_address, success=False)
        record("login_failed", actor_name=user.username, details={"paso": "cambio de contraseña"})
        message = _("La contraseña actual no es correcta.")
        raise WrongCurrentPassword(_("No se cambió la contraseña: %(m)s", m=message), {"current_password": message})
    if verify_password(user.password_hash, new):
        message = _("La nueva contraseña debe ser distinta de la actual.")
        raise DomainError(_("No se cambió la contraseña: %(m)s", m=message), {"new_password": message})
    set_password(user, new, must_change=False)
    record("password_reset", actor=user, object_type="user", object_id=user.id,
           details={"usuario": user.username, "motivo": "cambio por el propio usuario"})
    # Every session ends, this browser's too: the view opens a new one for it (see account_views.change_password).
    sessions.revoke_all(user, sessions.PASSWORD_CHANGED, actor=user)
    return user


def set_password(user: User, password: str, must_change: bool):
    """Store a new password (already checked against the policy). The callers end the user's sessions."""
    user.password_hash = hash_password(password)
    user.password_changed_at = clock.now()
    user.must_change_password = must_change
    db.session.flush()


def totp_required(user: User) -> bool:
    """Central roles must use a second factor when TOTP_REQUIRED_FOR_CENTRAL is on."""
    return bool(current_app.config["TOTP_REQUIRED_FOR_CENTRAL"]) and user.has_central_role


def enrol_totp(user: User, secret: str, code: str) -> User:
    """Store the second-factor secret once the user proved their app shows the right code."""
    if user.totp_enabled:
        raise DomainError(_("El segundo factor ya está activado en su cuenta."))
    steps = totp.matching_steps(secret, code)
    if not steps:
        message = _("El código no es correcto. Escriba los 6 dígitos que muestra ahora la aplicación.")
        raise DomainError(_("No se activó el segundo factor: %(m)s", m=message), {"code": message})
    user.totp_secret = secret
    user.totp_last_used_step = max(steps)
    db.session.flush()
    record("totp_enrolled", actor=user, object_type="user", object_id=user.id, details={"usuario": user.username})
    return user


def _failed(username: str, ip_address: str | None, step: str, reused: bool = False) -> LoginResult:
    throttle.record_attempt(username, ip_address, success=False)
    details = {"paso": step, **({"motivo": "código ya usado"} if reused else {})}
    record("login_failed", actor_name=username, details=details)
    return LoginResult(FAILED)


def _succeeded(user: User, ip_address: str | None) -> LoginResult:
    throttle.record_attempt(user.username, ip_address, success=True)
    user.last_login_at = clock.now()
    record("login_ok", actor=user, details={"segundo_factor": user.totp_enabled})
    return LoginResult(OK, user=user)


@functools.cache
def _dummy_hash() -> str:
    """Computed once so that an unknown user costs the same time as a wrong password."""
    return hash_password("not-a-real-password")


def office_users(office_id, role_code) -> list[User]:
    """Active users of a role in an office, in a stable order."""
    return db.session.scalars(db.select(User).where(User.office_id == office_id, User.role == role_code,
                                                    User.is_active_user.is_(True)).order_by(User.id)).all()


def supervisors_of(office_id) -> list[User]:
    return office_users(office_id, roles.SUPERVISOR.code)
