"""Health endpoints for the reverse proxy and the orchestrator.

GET /salud (liveness): the process is up and answers requests; it never touches the database, so a slow or
down database does not get healthy workers restarted.
GET /listo (readiness): this instance can do useful work. 200 when the database answers `SELECT 1`, its
alembic revision is the migrations head, and, when SCHEDULER_ENABLED, a scheduler has swept this database
within 3 x SCHEDULER_INTERVAL_SECONDS (or holds the sweep lease right now: a long sweep is a live one).
Otherwise 503 with the list of what failed, in Spanish. `/listo?planificador=1` adds the scheduler check
whatever SCHEDULER_ENABLED says: production web workers run with it off (app/wsgi.py), so that a monitor,
not the load balancer, watches the one scheduler process.

Both are public (no login): answers hold no exception text, URL, host name or version number; the details
go to the log.
"""
import logging
from datetime import timedelta
from functools import lru_cache

from flask import current_app, jsonify, request
from sqlalchemy import text

from ..core import clock
from ..core.access import PUBLIC, rule
from ..extensions import db
from . import bp

log = logging.getLogger(__name__)

STALE_AFTER_INTERVALS = 3  # a scheduler that has not swept for this many intervals is considered stopped
PG_STATEMENT_TIMEOUT_MS = 3000  # a readiness probe must answer, not hang on a locked or overloaded server


@bp.get("/salud")
@rule(PUBLIC)
def live():
    return jsonify(estado="ok"), 200


@bp.get("/listo")
@rule(PUBLIC)
def ready():
    failures: list[str] = []
    if _database_answers(failures):
        _schema_at_head(failures)
        if current_app.config.get("SCHEDULER_ENABLED") or request.args.get("planificador") == "1":
            _scheduler_sweeping(failures)
    db.session.rollback()  # only reads happened; end the transaction before the connection goes back
    if failures:
        return jsonify(estado="no listo", fallos=failures), 503
    return jsonify(estado="listo"), 200


def _database_answers(failures) -> bool:
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text(f"SET LOCAL statement_timeout = {PG_STATEMENT_TIMEOUT_MS}"))
        db.session.execute(text("SELECT 1")).scalar_one()
        return True
    except Exception:
        log.warning("readiness: the database does not answer", exc_info=True)
        db.session.rollback()
        failures.append("base de datos: no responde")
        return False


@lru_cache(maxsize=4)
def migration_heads(directory: str) -> frozenset[str]:
    """The head revision(s) of the migration scripts this code ships (read once per process)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(directory).get_heads())


def _schema_at_head(failures) -> None:
    try:
        heads = migration_heads(current_app.extensions["migrate"].directory)
    except Exception:
        log.warning("readiness: the migration scripts cannot be read", exc_info=True)
        failures.append("migraciones: no se pudieron leer los scripts de migración")
        return
    try:
        stored = frozenset(db.session.scalars(text("SELECT version_num FROM alembic_version")).all())
    except Exception:
        log.warning("readiness: alembic_version cannot be read", exc_info=True)
        db.session.rollback()
        failures.append("migraciones: la base de datos no tiene versión de esquema (ejecute «flask db upgrade»)")
        return
    if stored != heads:
        log.warning("readiness: database revision %s, migrations head %s", sorted(stored), sorted(heads))
        failures.append("migraciones: el esquema de la base de datos no es la última versión "
                        "(ejecute «flask db upgrade»)")


def _scheduler_sweeping(failures) -> None:
    from ..scheduler.models import SchedulerLease, SweepRun

    interval = float(current_app.config["SCHEDULER_INTERVAL_SECONDS"])
    allowed = timedelta(seconds=STALE_AFTER_INTERVALS * interval)
    now = clock.now()
    try:
        last = db.session.execute(
            db.select(SweepRun.started_at, SweepRun.duration_ms).order_by(SweepRun.started_at.desc()).limit(1)
        ).first()
        lease = db.session.get(SchedulerLease, "sweep")
    except Exception:
        log.warning("readiness: the sweep records cannot be read", exc_info=True)
        db.session.rollback()
        failures.append("planificador: no se pudo leer el registro de barridas")
        return
    if lease is not None and lease.holder and lease.expires_at and clock.as_utc(lease.expires_at) > now:
        return  # a sweep is running right now (a long one records its run only when it ends)
    if last is None:
        failures.append("planificador: no se ha registrado ninguna barrida "
                        "(¿está en marcha «flask siproc scheduler»?)")
        return
    finished = clock.as_utc(last.started_at) + timedelta(milliseconds=last.duration_ms or 0)
    age = now - finished
    if age > allowed:
        failures.append(f"planificador: la última barrida terminó hace {int(age.total_seconds())} s "
                        f"(máximo {int(allowed.total_seconds())} s)")
