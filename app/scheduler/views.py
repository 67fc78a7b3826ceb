"""Administrators: next due timers, last sweeps, failures with a retry button, and a sweep now."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..audit import services as audit
from ..cases.models import Case
from ..core import clock
from ..core.access import rule
from ..core.ids import parse_id
from ..core.web import act
from ..extensions import db
from ..workflow.models import Timer, WorkflowInstance
from . import bp
from .models import SweepRun, TimerFailure
from .sweep import retry_now, run_sweep


@bp.route("/admin/planificador/")
@rule("is_admin")
def index():
    timers = db.session.execute(
        db.select(Timer, Case.number).join(WorkflowInstance, Timer.instance_id == WorkflowInstance.id)
        .outerjoin(Case, WorkflowInstance.case_id == Case.id).order_by(Timer.due_at).limit(20)).all()
    runs = db.session.scalars(db.select(SweepRun).order_by(SweepRun.id.desc()).limit(10)).all()
    failures = db.session.scalars(db.select(TimerFailure).order_by(TimerFailure.last_failed_at.desc())).all()
    return render_template("scheduler/index.html", timers=timers, runs=runs, failures=failures, now=clock.now())


@bp.route("/admin/planificador/fallos/<failure_id>/reintentar", methods=["POST"])
@rule("is_admin")
def retry(failure_id):
    failure = parse_id(failure_id)
    return act(lambda: failure is not None and retry_now(failure, clock.now()), _retried)


def _retried(found):
    if not found:
        abort(404, _("El fallo no existe."))
    return _back(_("Se reintentará en la próxima barrida."), "success")


@bp.route("/admin/planificador/barrer", methods=["POST"])
@rule("is_admin")
def run_now():
    def sweep():
        result = run_sweep()
        audit.record("sweep_run", details={"omitida": bool(result.skipped), "disparados": result.fired})
        return result

    return act(sweep, _swept)


def _swept(result):
    if result.skipped:
        return _back(_("Otra barrida está en curso; inténtelo en unos segundos."), "warning")
    return _back(_("Barrida hecha: %(f)d temporizadores disparados, %(e)d fallos, %(n)d avisos.", f=result.fired,
                   e=result.failed, n=result.notices), "success")


def _back(message, category):
    flash(message, category)
    return redirect(url_for("scheduler.index"))
