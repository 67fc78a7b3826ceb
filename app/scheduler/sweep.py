"""The sweep: fire due BPMN timers (only their instances are loaded), apply deadline rules, send e-mail.

One sweep at a time per database (a lease row); each instance runs the one engine loop in its own
transaction, so an interrupted sweep never fires a timer twice and a failing instance is recorded,
retried with back-off, and does not stop the others.
"""
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from ..audit.services import seal_pending
from ..cases.referrals import send_mails as send_institution_mails
from ..core import clock
from ..extensions import db
from ..notifications.mail import send_pending
from ..notifications.rules import apply_deadline_rules
from ..workflow import services as workflow
from ..workflow.models import Timer, WorkflowInstance
from . import lease
from .models import SweepRun, TimerFailure

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 6 * 3600


@dataclass
class SweepResult:
    skipped: bool = False
    fired: int = 0
    failed: int = 0
    notices: int = 0
    emails: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def due_instance_ids(now, limit):
    """Instances with a due timer, oldest first, read through the due_at index only (no grouping over the
    table); instances in back-off wait."""
    waiting = db.select(TimerFailure.instance_id).where(TimerFailure.next_retry_at > now)
    rows = db.session.scalars(
        db.select(Timer.instance_id).where(Timer.due_at <= now, Timer.instance_id.not_in(waiting))
        .order_by(Timer.due_at).limit(limit * 4)).all()
    return list(dict.fromkeys(rows))[:limit]


def run_sweep(holder=None, limit=None, after_instance=None) -> SweepResult:
    """One sweep; returns at once (skipped) when another scheduler holds the lease."""
    config, holder = current_app.config, holder or holder_name()
    limit = limit or config["SWEEP_BATCH"]
    started, now = time.perf_counter(), clock.now()
    if not lease.acquire("sweep", holder, now, config["SWEEP_LEASE_SECONDS"]):
        return SweepResult(skipped=True)
    result = SweepResult()
    try:
        for instance_id in due_instance_ids(now, limit):
            _fire(instance_id, now, result)
            if after_instance is not None:
                after_instance(instance_id)
        result.notices = apply_deadline_rules(now, config["ESCALATION_DAYS"])
        db.session.commit()
        mail = send_pending(config, now)
        result.emails = mail["sent"] + send_institution_mails(config, now)["sent"]
        db.session.commit()
        seal_pending()
        result.seconds = time.perf_counter() - started
        db.session.add(SweepRun(holder=holder, started_at=now, duration_ms=result.seconds * 1000, fired=result.fired,
                                failed=result.failed, notices=result.notices, emails=result.emails))
        db.session.commit()
    finally:
        lease.release("sweep", holder)
    return result


def _fire(instance_id, now, result):
    """Run one instance's engine loop and commit, or roll back and record the failure."""
    try:
        workflow.run_instance(db.session.get(WorkflowInstance, instance_id))
        db.session.execute(db.delete(TimerFailure).where(TimerFailure.instance_id == instance_id))
        db.session.commit()
        result.fired += 1
    except Exception as exc:
        db.session.rollback()
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        record_failure(instance_id, message[:2000], now)
        db.session.commit()
        result.failed += 1
        result.errors.append(message)
        log.warning("timer sweep: instance %s failed: %s", instance_id, message)


def record_failure(instance_id, message, now):
    failure = db.session.scalar(db.select(TimerFailure).where(TimerFailure.instance_id == instance_id))
    if failure is None:
        failure = TimerFailure(instance_id=instance_id, error=message, attempts=0, first_failed_at=now)
        db.session.add(failure)
    failure.attempts += 1
    failure.error, failure.last_failed_at = message, now
    failure.next_retry_at = now + timedelta(seconds=min(60 * 2 ** (failure.attempts - 1), MAX_BACKOFF_SECONDS))


def retry_now(failure_id, now) -> bool:
    failure = db.session.get(TimerFailure, failure_id)
    if failure is None:
        return False
    failure.next_retry_at = now
    return True
