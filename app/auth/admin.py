"""User administration (administrators only): list, create, change role/office/active, reset credentials.

Every change of access is audited: creation as "user_created", each changed role, office or active flag as
"permission_changed" with what it was and what it became. Services flush; the view commits.
"""
from flask_babel import gettext as _

from ..audit.services import record
from ..core.errors import DomainError
from ..extensions import db
from ..reference.models import Office
from . import roles, sessions
from .models import User
from .password_policy import check_password, generate_password
from .services import create_user, set_password

STATES = {"activos": True, "inactivos": False}


def users_query(office_id: int | None = None, role: str | None = None, active: bool | None = None):
    query = db.select(User).order_by(User.username)
    if office_id is not None:
        query = query.where(User.office_id == office_id)
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active_user.is_(active))
    return query


def active_offices() -> list[Office]:
    return db.session.scalars(db.select(Office).where(Office.is_active.is_(True)).order_by(Office.code)).all()


def all_offices() -> list[Office]:
    return db.session.scalars(db.select(Office).order_by(Office.code)).all()


def create_account(values: dict, actor_name: str | None = None) -> tuple[User, str | None]:
    """Create a user with the administrator's password, or a generated one (returned to be shown once).

    Either way the user must replace it at the first login, as an administrator has seen it. actor_name names
    who did it when no user is logged in (the command line: "cli").
    """
    office = _active_office(values["office_id"])
    password = values.get("password") or None
    generated = None
    if password is None:
        generated = password = generate_password(values["username"], values["full_name"])
    user = create_user(values["username"], values["full_name"], password, values["role"], office,
                       email=values.get("email") or None, must_change_password=True)
    record("user_created", object_type="user", object_id=user.id, actor_name=actor_name, details={
        "usuario": user.username, "rol": user.role, "oficina": office.code, "activo": True,
        "contraseña": "generada" if generated else "elegida por el administrador"})
    return user, generated


def create_first_admin(username: str, full_name: str, office_code: str, email: str | None = None
                       ) -> tuple[User, str]:
    """`flask siproc create-admin`: an active administrator with a generated password (shown once), which they
    must change at the first login. Audited as "user_created" by "cli"."""
    office = db.session.scalar(db.select(Office).where(Office.code == (office_code or "").strip().upper()))
    if office is None or not office.is_active:
        raise DomainError(_("No existe una oficina activa con el código %(c)s.", c=office_code))
    user, password = create_account({"username": username, "full_name": (full_name or "").strip(),
                                     "role": roles.ADMIN.code, "office_id": office.id, "email": email},
                                    actor_name="cli")
    return user, password


def end_sessions(user: User, admin: User, current=None) -> int:
    """«Cerrar sesiones»: every open session of the user ends (the administrator's own current one excepted)."""
    return sessions.revoke_all(user, sessions.ADMIN, keep=current if user.id == admin.id else None)


def update_access(user: User, admin: User, role: str, office_id: int, active: bool) -> list[str]:
    """Change role, office and active flag; returns the labels of what changed. Administrators cannot lock
    themselves out (deactivate their own account or drop their own administrator role)."""
    if role not in roles.ROLES:
        raise DomainError(_("Rol desconocido: %(role)s", role=role), {"role": _("Elija un rol de la lista.")})
    if user.id == admin.id and not active:
        message = _("No puede desactivar su propia cuenta.")
        raise DomainError(message, {"active": message})
    if user.id == admin.id and role != roles.ADMIN.code:
        message = _("No puede quitarse a sí mismo el rol de administrador.")
        raise DomainError(message, {"role": message})
    office = user.office if office_id == user.office_id else _active_office(office_id)
    changes = []
    if role != user.role:
        changes.append(("rol", user.role, role, _("rol")))
        user.role = role
    if office.id != user.office_id:
        changes.append(("oficina", user.office.code, office.code, _("oficina")))
        user.office, user.office_id = office, office.id
    if active != user.is_active_user:
        changes.append(("activo", _state(user.is_active_user), _state(active), _("estado")))
        user.is_active_user = active
        if not active:
            sessions.revoke_all(user, sessions.DEACTIVATED)
    db.session.flush()
    for field, before, after, _label in changes:
        record("permission_changed", object_type="user", object_id=user.id,
               details={"usuario": user.username, "campo": field, "antes": before, "después": after})
    return [label for *_rest, label in changes]


def reset_password(user: User, admin: User) -> str:
    """A generated password, shown once to the administrator; the user must replace it at the next login."""
    if user.id == admin.id:
        raise DomainError(_("Para cambiar su propia contraseña use «Mi cuenta»."))
    password = generate_password(user.username, user.full_name)
    check_password(password, user.username, user.full_name)
    set_password(user, password, must_change=True)
    record("password_reset", object_type="user", object_id=user.id,
           details={"usuario": user.username, "motivo": "restablecida por un administrador"})
    sessions.revoke_all(user, sessions.PASSWORD_RESET)
    return password


def remove_second_factor(user: User) -> User:
    """For a user who lost their authenticator: they log in with the password only and may enrol again."""
    if not user.totp_enabled:
        raise DomainError(_("Este usuario no tiene el segundo factor activado."))
    user.totp_secret = None
    user.totp_last_used_step = None
    db.session.flush()
    record("permission_changed", object_type="user", object_id=user.id,
           details={"usuario": user.username, "campo": "segundo_factor", "antes": "activado", "después": "quitado"})
    return user


def _active_office(office_id) -> Office:
    office = db.session.get(Office, office_id) if office_id is not None else None
    if office is None or not office.is_active:
        message = _("Elija una oficina activa de la lista.")
        raise DomainError(_("Oficina no válida. %(m)s", m=message), {"office_id": message})
    return office


def _state(active: bool) -> str:
    return "activo" if active else "inactivo"
