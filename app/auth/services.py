"""User accounts: create, authenticate."""
from flask_babel import gettext as _

from ..core import clock
from ..core.errors import DomainError
from ..extensions import db
from . import roles
from .models import User
from .passwords import hash_password, verify_password

MIN_PASSWORD_LENGTH = 12
# Computed once so that an unknown user costs the same time as a wrong password.
_DUMMY_HASH = None


def create_user(username, full_name, password, role, office, email=None) -> User:
    """Create a user; refuses unknown roles, duplicate usernames and short passwords."""
    if role not in roles.ROLES:
        raise DomainError(_("Rol desconocido: %(role)s", role=role))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(_("La contraseña debe tener al menos %(n)d caracteres.", n=MIN_PASSWORD_LENGTH))
    username = username.strip().lower()
    if db.session.scalar(db.select(User.id).where(User.username == username)):
        raise DomainError(_("Ya existe un usuario con el nombre %(u)s.", u=username))
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        password_hash=hash_password(password),
        role=role,
        office=office,
        office_id=office.id,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    global _DUMMY_HASH
    user = db.session.scalar(db.select(User).where(User.username == (username or "").strip().lower()))
    if user is None or not user.is_active:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password("not-a-real-password")
        verify_password(_DUMMY_HASH, password or "")
        return None
    if not verify_password(user.password_hash, password or ""):
        return None
    user.last_login_at = clock.now()
    return user
