"""Users of SIPROC: each belongs to one office and has one role."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
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
    def role_label(self) -> str:
        return roles.label(self.role)

    def __repr__(self):
        return f"<User {self.username} {self.role}@{self.office_id}>"
