"""Users of SIPROC: each belongs to one office and has one role. Login attempts feed the lockout."""
import hashlib
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import EncryptedText
from ..extensions import db
from . import roles


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    is_active_user: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None] = mapped_column(default=clock.now)
    # Set when an administrator chose the password (creation, reset): the user must replace it first.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    totp_last_used_step: Mapped[int | None]  # the last accepted 30-second step: a code is never accepted twice

    office = relationship("Office", lazy="joined")

    @property
    def is_active(self):
        return self.is_active_user

    @property
    def is_central(self) -> bool:
        """Central users (DGPHM roles, or any user of the central office) see every office."""
        role = roles.ROLES.get(self.role)
        return bool(role and role.is_central) or (self.office is not None and self.office.is_central)

    @property
    def has_central_role(self) -> bool:
        role = roles.ROLES.get(self.role)
        return bool(role and role.is_central)

    @property
    def role_label(self) -> str:
        return roles.label(self.role)

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None

    @property
    def session_token(self) -> str:
        """Changes with the password hash: a new password ends every session opened with the old one."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def get_id(self):
        """What the session cookie carries: the server-side session of this request (see app/auth/sessions.py)."""
        return getattr(self, "session_key", None)

    def __repr__(self):
        return f"<User {self.username} {self.role}@{self.office_id}>"


class UserSession(db.Model):
    """One logged-in browser. The cookie holds public_id and a random token; only the token's SHA-256 is kept.

    A session ends when revoked (logout, password change, deactivation, an administrator), after
    SESSION_IDLE_MINUTES without a request, or SESSION_ABSOLUTE_HOURS after the login even if in constant use.
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_revoked", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(default=clock.now)  # written at most once a minute
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class LoginAttempt(db.Model):
    """One password or second-factor check: counted per username and per IP address for the lockout."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_time", "username", "attempted_at"),
        Index("ix_login_attempts_ip_time", "ip_address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))  # as typed (normalized), known or not
    ip_address: Mapped[str | None] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(default=clock.now)
    success: Mapped[bool] = mapped_column(default=False)
