"""Failed-login counters: too many recent failures lock a username, or throttle an IP address, for a while.

A username is locked when its last LOGIN_MAX_FAILURES_PER_USER attempts all failed within LOGIN_WINDOW_MINUTES
(a successful login starts the count again); an IP address when its last LOGIN_MAX_FAILURES_PER_IP failures fall
within the window. The lock lasts LOGIN_LOCKOUT_MINUTES from the last failure. Refused attempts during a lock are
not counted, so the lock ends on time. Password and second-factor failures count alike.
"""
import math
from datetime import datetime, timedelta

from flask import current_app

from ..core import clock
from ..extensions import db
from .models import LoginAttempt


def locked_minutes(username: str, ip_address: str | None) -> int:
    """Whole minutes (at least 1) until this username and IP address may try again; 0 when not locked."""
    now = clock.now()
    until = max(filter(None, (_user_locked_until(username, now), _ip_locked_until(ip_address, now))),
                default=None)
    if until is None:
        return 0
    return max(1, math.ceil((until - now).total_seconds() / 60))


def record_attempt(username: str, ip_address: str | None, success: bool) -> LoginAttempt:
    attempt = LoginAttempt(username=username[:80], ip_address=(ip_address or "")[:64] or None,
                           attempted_at=clock.now(), success=success)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def _user_locked_until(username: str, now: datetime) -> datetime | None:
    limit = current_app.config["LOGIN_MAX_FAILURES_PER_USER"]
    rows = db.session.execute(
        db.select(LoginAttempt.attempted_at, LoginAttempt.success)
        .where(LoginAttempt.username == username, LoginAttempt.attempted_at > now - _horizon())
        .order_by(LoginAttempt.attempted_at.desc()).limit(limit)
    ).all()
    if len(rows) < limit or any(success for _at, success in rows):
        return None
    return _until([at for at, _success in rows], now)


def _ip_locked_until(ip_address: str | None, now: datetime) -> datetime | None:
    if not ip_address:
        return None
    limit = current_app.config["LOGIN_MAX_FAILURES_PER_IP"]
    times = db.session.scalars(
        db.select(LoginAttempt.attempted_at)
        .where(LoginAttempt.ip_address == ip_address, LoginAttempt.success.is_(False),
               LoginAttempt.attempted_at > now - _horizon())
        .order_by(LoginAttempt.attempted_at.desc()).limit(limit)
    ).all()
    if len(times) < limit:
        return None
    return _until(times, now)


def _until(times_newest_first: list[datetime], now: datetime) -> datetime | None:
    """End of the lock when these failures (the last N) fall within one window and the lock is still running."""
    newest, oldest = clock.as_utc(times_newest_first[0]), clock.as_utc(times_newest_first[-1])
    if newest - oldest > timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"]):
        return None
    until = newest + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
    return until if until > now else None


def _horizon() -> timedelta:
    """Failures older than this can no longer be part of a running lock."""
    config = current_app.config
    return timedelta(minutes=config["LOGIN_WINDOW_MINUTES"] + config["LOGIN_LOCKOUT_MINUTES"])
