"""Server-side sessions: the session cookie names a user_sessions row, which can be revoked.

The cookie (signed by Flask) carries "<public_id>.<token>"; the row keeps only SHA-256(token). A cookie is refused
when its row is missing or revoked, the token does not match, the user is inactive, the row was not seen for
SESSION_IDLE_MINUTES (idle) or was opened more than SESSION_ABSOLUTE_HOURS ago (absolute lifetime, even in
constant use). last_seen_at is written at most once every TOUCH_SECONDS, not on every request, so idle expiry
may come up to that much early. Every revocation is audited as "logout" with its reason. Services flush only.
"""
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app

from ..audit.services import record
from ..core import clock
from ..extensions import db
from .models import User, UserSession

TOUCH_SECONDS = 60

# Reasons (stored in revoked_reason and in the audit row's "motivo").
LOGOUT = "cierre de sesión"
IDLE = "inactividad"
ABSOLUTE = "duración máxima"
PASSWORD_CHANGED = "cambio de contraseña"
PASSWORD_RESET = "contraseña restablecida"
DEACTIVATED = "cuenta desactivada"
ADMIN = "cerradas por un administrador"

# Why a cookie was refused (see check).
EXPIRED_IDLE, EXPIRED_ABSOLUTE, INVALID = "idle", "absolute", "invalid"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User, ip_address: str | None, user_agent: str | None) -> UserSession:
    """A new session row for this user; sets user.session_key, the value the cookie will carry."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = UserSession(public_id=secrets.token_hex(16), user_id=user.id, token_hash=_hash(token), created_at=now,
                      last_seen_at=now, ip_address=(ip_address or "")[:64] or None,
                      user_agent=(user_agent or "")[:200] or None)
    db.session.add(row)
    db.session.flush()
    user.session_key = f"{row.public_id}.{token}"
    return row


def check(session_key) -> tuple[UserSession | None, User | None, str | None]:
    """(row, user, None) for a valid cookie value; else (row or None, user or None, why it was refused)."""
    public_id, _sep, token = str(session_key or "").partition(".")
    if not public_id or not token or len(public_id) > 32:
        return None, None, INVALID
    row = db.session.scalar(db.select(UserSession).where(UserSession.public_id == public_id))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, _hash(token)):
        return None, None, INVALID
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None, None, INVALID
    now = clock.now()
    config = current_app.config
    if now - clock.as_utc(row.created_at) > timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]):
        return row, user, EXPIRED_ABSOLUTE
    if now - clock.as_utc(row.last_seen_at) > timedelta(minutes=config["SESSION_IDLE_MINUTES"]):
        return row, user, EXPIRED_IDLE
    user.session_key = session_key
    return row, user, None


def touch(row: UserSession) -> bool:
    """Move last_seen_at to now if it is more than TOUCH_SECONDS old; True when a write is pending."""
    now = clock.now()
    if now - clock.as_utc(row.last_seen_at) < timedelta(seconds=TOUCH_SECONDS):
        return False
    db.session.execute(db.update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
    return True


def revoke(row: UserSession, reason: str, actor: User | None = None) -> None:
    """End one session (its own logout, an expiry) and audit it as the user's "logout"."""
    if row.revoked_at is None:
        row.revoked_at, row.revoked_reason = clock.now(), reason[:40]
        db.session.flush()
    record("logout", actor=actor or db.session.get(User, row.user_id),
           details={"motivo": reason} if reason != LOGOUT else None)


def revoke_all(user: User, reason: str, actor: User | None = None, keep: UserSession | None = None,
               actor_name: str | None = None) -> int:
    """End every open session of the user (but `keep`); audited once, with how many ended (not at all when none
    was open, unless an administrator asked). Returns that number."""
    query = db.update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    count = db.session.execute(query.values(revoked_at=clock.now(), revoked_reason=reason[:40])).rowcount
    db.session.flush()
    if count or reason == ADMIN:  # an administrator's «cerrar sesiones» is audited even when none was open
        record("logout", actor=actor, actor_name=actor_name, object_type="user", object_id=user.id,
               details={"motivo": reason, "usuario": user.username, "sesiones": count})
    return count


def open_count(user: User) -> int:
    """Sessions of the user still open (not revoked, within both lifetimes)."""
    now = clock.now()
    config = current_app.config
    return db.session.scalar(db.select(db.func.count(UserSession.id)).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
        UserSession.created_at > now - timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
        UserSession.last_seen_at > now - timedelta(minutes=config["SESSION_IDLE_MINUTES"])))
