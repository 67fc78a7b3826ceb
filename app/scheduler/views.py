"""Administrators: next due timers, last sweeps, failures with a retry button, and a sweep now."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..audit import services as audit
from ..cases.models import Case
from ..core import clock
from ..core.ids import parse_id
from ..extensions import db
from ..workflow.models import Timer, WorkflowInstance
from .models import SweepRun, TimerFailure
from .sweep import retry_now, run_sweep

bp = Blueprint("scheduler", __name__, template_folder="templates", url_prefix="/admin/planificador")

ENDPOINT_RULES = {name: (lambda user: user.role == "admin")
                  for name in ("scheduler.index", "scheduler.retry", "scheduler.run_now")}


@bp.route("/")
def index():
    timers = db.session.execute(
        db.select(Timer, Case.number).join(WorkflowInstance, Timer.instance_id == WorkflowInstance.id)
        .outerjoin(Case, WorkflowInstance.case_id == Case.id).order_by(Timer.due_at).limit(20)).all()
    runs = db.session.scalars(db.select(SweepRun).order_by(SweepRun.id.desc()).limit(10)).all()
    failures = db.session.scalars(db.select(TimerFailure).order_by(TimerFailure.last_failed_at.desc())).all()
    return render_template("scheduler/index.html", timers=timers, runs=runs, failures=failures, now=clock.now())


@bp.route("/fallos/<failure_id>/reintentar", methods=["POST"])
def retry(failure_id):
    if parse_id(failure_id) is None or not retry_now(parse_id(failure_id), clock.now()):
        return render_template("errors/error.html", code=404, message=_("El fallo no existe.")), 404
    db.session.commit()
    flash(_("Se reintentará en la próxima barrida."), "success")
    return redirect(url_for("scheduler.index"))


@bp.route("/barrer", methods=["POST"])
def run_now():
    result = run_sweep()
    audit.record("sweep_run", details={"omitida": bool(result.skipped), "disparados": result.fired})
    db.session.commit()
    if result.skipped:
        flash(_("Otra barrida está en curso; inténtelo en unos segundos."), "warning")
    else:
        flash(_("Barrida hecha: %(f)d temporizadores disparados, %(e)d fallos, %(n)d avisos.", f=result.fired,
                e=result.failed, n=result.notices), "success")
    return redirect(url_for("scheduler.index"))
