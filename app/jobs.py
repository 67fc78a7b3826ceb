"""Background jobs run by APScheduler: the BPMN timer sweep."""
import logging
import time
from datetime import timedelta

from .audit.services import seal_pending
from .core import clock
from .core.errors import DomainError
from .extensions import db
from .workflow import services as workflow
from .workflow.models import WorkflowInstance

log = logging.getLogger(__name__)


def sweep_timers(limit=500) -> dict:
    """Run the engine loop for instances whose timers are due, one transaction per instance."""
    started = time.perf_counter()
    fired, failed = 0, 0
    for instance_id in workflow.due_instance_ids(clock.now(), limit):
        try:
            workflow.run_instance(db.session.get(WorkflowInstance, instance_id))
            db.session.commit()
            fired += 1
        except DomainError as exc:
            db.session.rollback()
            failed += 1
            log.warning("timer sweep: instance %s failed: %s", instance_id, exc.message)
    return {"fired": fired, "failed": failed, "seconds": time.perf_counter() - started}


def start_scheduler(app):
    """Start APScheduler in this process with the timer sweep every SCHEDULER_INTERVAL_SECONDS."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")

    def tick():
        with app.app_context():
            result = sweep_timers()
            seal_pending()
            if result["fired"] or result["failed"]:
                log.info("timer sweep: %s", result)

    scheduler.add_job(tick, "interval", seconds=app.config["SCHEDULER_INTERVAL_SECONDS"], id="timer-sweep",
                      max_instances=1, coalesce=True)
    if app.config["RETENTION_AUTOMATIC"] and app.config["RETENTION_YEARS_AFTER_CLOSURE"]:
        scheduler.add_job(lambda: _retention(app), "interval", hours=24, id="retention", max_instances=1,
                          coalesce=True, next_run_time=clock.now() + timedelta(minutes=5))
    scheduler.start()
    return scheduler


def _retention(app):
    """Daily: anonymise closed cases past the retention period (audited)."""
    from .cases import retention

    with app.app_context():
        uploads = app.config.get("UPLOADS_DIR") or f"{app.instance_path}/uploads"
        count = retention.apply(clock.now(), app.config["RETENTION_YEARS_AFTER_CLOSURE"], uploads)
        db.session.commit()
        seal_pending()
        if count:
            log.info("retention: %d cases anonymised", count)
