"""A lease row per job: one holder at a time per database, taken over only once it has expired."""
from datetime import timedelta

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError, OperationalError

from ..extensions import db
from .models import SchedulerLease


def acquire(name, holder, now, seconds) -> bool:
    """Take the lease if it is free or expired; True when this holder now has it (committed)."""
    expires = now + timedelta(seconds=seconds)
    try:
        taken = db.session.execute(
            db.update(SchedulerLease).where(SchedulerLease.name == name, or_(
                SchedulerLease.holder.is_(None), SchedulerLease.expires_at < now, SchedulerLease.holder == holder))
            .values(holder=holder, expires_at=expires)).rowcount
        if not taken:
            exists = db.session.get(SchedulerLease, name) is not None
            if exists:
                db.session.rollback()
                return False
            db.session.add(SchedulerLease(name=name, holder=holder, expires_at=expires))
        db.session.commit()
        return True
    except (IntegrityError, OperationalError):  # another scheduler created or holds it right now
        db.session.rollback()
        return False


def release(name, holder):
    db.session.rollback()
    db.session.execute(db.update(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder)
                       .values(holder=None, expires_at=None))
    db.session.commit()
