"""Break-glass: a user outside a case's scope reads it for a few hours after stating why, in the open.

The grant is read-only (can_view_case, never can_edit_case), lasts EMERGENCY_ACCESS_HOURS, ends by itself,
can be ended earlier by its holder or by a supervisor of the case's office, is audited with its reason,
and the supervisors of the case's office are notified at once (in SIPROC and by e-mail).
"""
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit import services as audit
from ..auth import policy, roles
from ..auth.services import supervisors_of
from ..core import clock
from ..core.crypto import EncryptedText
from ..core.errors import DomainError, NotAllowed
from ..extensions import db
from .signals import tell

MIN_REASON, MAX_REASON = 20, 1000
ALLOWED_ROLES = (roles.OFICIAL.code, roles.SUPERVISOR.code)  # central roles see every office already


class EmergencyAccess(db.Model):
    """One break-glass grant: who, which case, why, until when, and whether it was ended early."""

    __tablename__ = "emergency_accesses"
    __table_args__ = (Index("ix_emergency_accesses_user_case", "user_id", "case_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(EncryptedText)
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    office_code: Mapped[str] = mapped_column(String(20))  # the holder's office when it was granted

    user = relationship("User", foreign_keys=[user_id], lazy="joined")
    ended_by = relationship("User", foreign_keys=[ended_by_id])

    def is_active(self, now=None) -> bool:
        now = clock.as_utc(now or clock.now())
        return self.ended_at is None and clock.as_utc(self.expires_at) > now


def enabled() -> bool:
    return bool(current_app.config.get("EMERGENCY_ACCESS_ENABLED"))


def active_access(user, case) -> EmergencyAccess | None:
    if not enabled() or user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        db.select(EmergencyAccess).where(EmergencyAccess.user_id == user.id, EmergencyAccess.case_id == case.id,
                                         EmergencyAccess.ended_at.is_(None),
                                         EmergencyAccess.expires_at > clock.now())
        .order_by(EmergencyAccess.expires_at.desc()).limit(1))


def accesses_of(case) -> list[EmergencyAccess]:
    return db.session.scalars(db.select(EmergencyAccess).where(EmergencyAccess.case_id == case.id)
                              .order_by(EmergencyAccess.granted_at.desc()).limit(50)).all()


@policy.predicate
def can_request_emergency_access(user) -> bool:
    """Officers and supervisors may ask to open another office's case (central roles see every office)."""
    return enabled() and user.role in ALLOWED_ROLES and not user.is_central


def grant(user, case, reason: str, now) -> EmergencyAccess:
    """Open `case` to `user` for EMERGENCY_ACCESS_HOURS; refuses users who already see it or may not ask."""
    if not can_request_emergency_access(user):
        raise NotAllowed(_("Su rol no puede solicitar acceso de emergencia."))
    if user.office_id == case.office_id:
        raise DomainError(_("Este caso ya es de su oficina."))
    reason = " ".join((reason or "").split())
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise DomainError(_("Explique el motivo de la emergencia (entre %(low)d y %(high)d caracteres). No se "
                            "concedió el acceso.", low=MIN_REASON, high=MAX_REASON),
                          field_errors={"motivo": _("Entre %(low)d y %(high)d caracteres.", low=MIN_REASON,
                                                    high=MAX_REASON)})
    hours = current_app.config["EMERGENCY_ACCESS_HOURS"]
    access = EmergencyAccess(case_id=case.id, user_id=user.id, reason=reason, granted_at=now,
                             expires_at=now + timedelta(hours=hours), office_code=user.office.code)
    db.session.add(access)
    db.session.flush()
    audit.record("emergency_access_granted", case_id=case.id, object_type="emergency_access", object_id=access.id,
                 details={"hours": hours, "office": user.office.code})  # the reason stays encrypted
    title = _("Acceso de emergencia al caso %(n)s", n=case.number)
    body = _("%(who)s (%(office)s) abrió el caso %(n)s por %(h)d horas. Motivo: %(reason)s",
             who=user.full_name, office=user.office.name, n=case.number, h=hours, reason=reason)
    for supervisor in supervisors_of(case.office_id):
        tell(supervisor, kind="emergencia", title=title, body=body, link=f"/casos/{case.id}", case_id=case.id,
             now=now, dedup_key=f"emergencia:{access.id}:{supervisor.id}")
    return access


def end(access: EmergencyAccess, user, now):
    """End a grant early: its holder, or a supervisor of the case's office."""
    from .models import Case

    case = db.session.get(Case, access.case_id)
    holder = access.user_id == user.id
    if not (holder or policy.oversees_case(user, case)):
        raise NotAllowed(_("No puede terminar este acceso."))
    if access.is_active(now):
        access.ended_at, access.ended_by_id = now, user.id
        audit.record("emergency_access_ended", case_id=access.case_id, object_type="emergency_access",
                     object_id=access.id)
