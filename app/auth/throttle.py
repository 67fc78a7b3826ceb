"""Failed-login counters. An outsider must not be able to lock a user (an administrator above all) out.

- (username, IP address) pair: locked when its last LOGIN_MAX_FAILURES_PER_USER attempts from that address all
  failed within LOGIN_WINDOW_MINUTES (a success from that address starts the count again). The same user from
  another address is not locked.
- IP address: locked when its last LOGIN_MAX_FAILURES_PER_IP failures (any usernames) fall within the window.
  Both locks last LOGIN_LOCKOUT_MINUTES from the last failure.
- Username across addresses (a spray from many addresses): once LOGIN_USER_SLOWDOWN_AFTER failures for the
  username fall within the window since its last success, each further attempt must wait 1 s, 2 s, 4 s... after
  the previous failure (capped at LOGIN_USER_DELAY_MAX_SECONDS). Addresses the user logged in from within
  LOGIN_KNOWN_ADDRESS_DAYS are never slowed down, so the right password from them always works.

Refused attempts are not counted, so locks and delays end on time. Password and second-factor failures count alike.
"""
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from ..core import clock
from ..extensions import db
from .models import LoginAttempt

LOCKED, SLOWED = "locked", "slowed"


@dataclass
class Refusal:
    kind: str  # LOCKED (the pair or the address: minutes) or SLOWED (the username: seconds)
    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


def refusal(username: str, ip_address: str | None) -> Refusal | None:
    """Why this username may not try from this address now, and for how long; None when it may."""
    now = clock.now()
    until = max(filter(None, (_pair_locked_until(username, ip_address, now), _ip_locked_until(ip_address, now))),
                default=None)
    if until is not None:
        return Refusal(LOCKED, math.ceil((until - now).total_seconds()))
    until = _user_slowed_until(username, ip_address, now)
    if until is not None:
        return Refusal(SLOWED, max(1, math.ceil((until - now).total_seconds())))
    return None


def locked_minutes(username: str, ip_address: str | None) -> int:
    """Whole minutes (at least 1) until this username may try again from this address; 0 when it may now."""
    found = refusal(username, ip_address)
    return found.minutes if found else 0


def record_attempt(username: str, ip_address: str | None, success: bool) -> LoginAttempt:
    attempt = LoginAttempt(username=username[:80], ip_address=(ip_address or "")[:64] or None,
                           attempted_at=clock.now(), success=success)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def _address(ip_address: str | None):
    value = (ip_address or "")[:64] or None
    return LoginAttempt.ip_address.is_(None) if value is None else LoginAttempt.ip_address == value


def _pair_locked_until(username: str, ip_address: str | None, now: datetime) -> datetime | None:
    limit = current_app.config["LOGIN_MAX_FAILURES_PER_USER"]
    rows = db.session.execute(
        db.select(LoginAttempt.attempted_at, LoginAttempt.success)
        .where(LoginAttempt.username == username, _address(ip_address), LoginAttempt.attempted_at > now - _horizon())
        .order_by(LoginAttempt.attempted_at.desc(), LoginAttempt.id.desc()).limit(limit)
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
        .where(LoginAttempt.ip_address == ip_address[:64], LoginAttempt.success.is_(False),
               LoginAttempt.attempted_at > now - _horizon())
        .order_by(LoginAttempt.attempted_at.desc()).limit(limit)
    ).all()
    if len(times) < limit:
        return None
    return _until(times, now)


def _user_slowed_until(username: str, ip_address: str | None, now: datetime) -> datetime | None:
    config = current_app.config
    after = config["LOGIN_USER_SLOWDOWN_AFTER"]
    since = now - timedelta(minutes=config["LOGIN_WINDOW_MINUTES"])
    last_success = db.session.scalar(db.select(db.func.max(LoginAttempt.attempted_at)).where(
        LoginAttempt.username == username, LoginAttempt.success.is_(True), LoginAttempt.attempted_at > since))
    if last_success is not None:
        since = clock.as_utc(last_success)
    cap = config["LOGIN_USER_DELAY_MAX_SECONDS"]
    failures = db.session.scalars(
        db.select(LoginAttempt.attempted_at)
        .where(LoginAttempt.username == username, LoginAttempt.success.is_(False), LoginAttempt.attempted_at > since)
        .order_by(LoginAttempt.attempted_at.desc()).limit(after + max(1, cap).bit_length() + 1)
    ).all()
    if len(failures) < after or _known_address(username, ip_address, now):
        return None
    delay = min(cap, 2 ** (len(failures) - after))
    until = clock.as_utc(failures[0]) + timedelta(seconds=delay)
    return until if until > now else None


def _known_address(username: str, ip_address: str | None, now: datetime) -> bool:
    """The user logged in successfully from this address lately (it is theirs, not a sprayer's)."""
    if not ip_address:
        return False
    since = now - timedelta(days=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"])
    return db.session.scalar(db.select(LoginAttempt.id).where(
        LoginAttempt.username == username, LoginAttempt.ip_address == ip_address[:64],
        LoginAttempt.success.is_(True), LoginAttempt.attempted_at > since).limit(1)) is not None


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
