"""APScheduler: in the web process for a single machine (`flask siproc serve`), or as its own process
(`flask siproc scheduler`) for production. Running two is safe: the sweep lease lets one sweep at a time."""
import logging
from datetime import timedelta

from ..core import clock

log = logging.getLogger(__name__)


def _jobs(scheduler, app):
    from ..audit.services import seal_pending
    from ..cases import retention
    from ..cases.records import uploads_dir
    from ..extensions import db
    from .sweep import run_sweep

    def sweep():
        with app.app_context():
            result = run_sweep()
            if result.fired or result.failed or result.notices:
                log.info("sweep: fired=%s failed=%s notices=%s emails=%s", result.fired, result.failed,
                         result.notices, result.emails)

    def retention_job():
        with app.app_context():
            count = retention.apply(clock.now(), app.config["RETENTION_YEARS_AFTER_CLOSURE"], uploads_dir(app))
            db.session.commit()
            seal_pending()
            if count:
                log.info("retention: %d cases anonymised", count)

    def anchor_mail_job():
        from ..audit.anchor import mail_latest

        with app.app_context():
            try:
                if mail_latest(app.config):
                    log.info("audit anchor e-mailed to %s", app.config["AUDIT_ANCHOR_EMAIL"])
            except Exception:
                log.exception("audit anchor e-mail failed; it is tried again tomorrow")

    scheduler.add_job(sweep, "interval", seconds=app.config["SCHEDULER_INTERVAL_SECONDS"], id="sweep",
                      max_instances=1, coalesce=True, next_run_time=clock.now() + timedelta(seconds=2))
    if app.config.get("AUDIT_ANCHOR_EMAIL"):
        scheduler.add_job(anchor_mail_job, "interval", hours=24, id="audit_anchor_mail", max_instances=1,
                          coalesce=True, next_run_time=clock.now() + timedelta(minutes=10))
    if app.config["RETENTION_AUTOMATIC"] and app.config["RETENTION_YEARS_AFTER_CLOSURE"]:
        scheduler.add_job(retention_job, "interval", hours=24, id="retention", max_instances=1, coalesce=True,
                          next_run_time=clock.now() + timedelta(minutes=5))


def start_background(app):
    """Start the jobs in a thread of this process; returns the scheduler (call shutdown() to stop)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    _jobs(scheduler, app)
    scheduler.start()
    return scheduler


def run_blocking(app):
    """Run the jobs in this process until it is stopped."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")
    _jobs(scheduler, app)
    scheduler.start()
