"""Changing a case's course (supervisors of its office): reopening a closed case, changing its category."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import services as audit
from ..auth import policy
from ..core import clock
from ..core.access import AUTHENTICATED, rule
from ..core.web import act
from ..extensions import db
from . import bp, course
from .models import Case, CaseCategoryChange, CaseReopening


def _case(case_id) -> Case:
    case = db.get_or_404(Case, case_id)
    policy.check(case)  # can_change_course: 403 for anyone but a supervisor of the case's office
    return case


@bp.route("/casos/<int:case_id>/curso")
@rule(AUTHENTICATED, on="can_change_course")
def course_page(case_id):
    case = _case(case_id)
    page = render_template("cases/course.html", case=case, categories=course.active_categories(),
                           reopenable=course.can_be_reopened(case), history=_history(case))
    audit.record("case_viewed", case_id=case.id, object_type="case", object_id=case.id)
    db.session.commit()
    return page


@bp.route("/casos/<int:case_id>/reabrir", methods=["POST"])
@rule(AUTHENTICATED, on="can_change_course")
def reopen(case_id):
    case = _case(case_id)
    return act(lambda: course.reopen(case, current_user, request.form.get("motivo"), clock.now()),
               lambda _r: _done(case, _("Caso reabierto: vuelve a seguimiento con el mismo número.")),
               refused=lambda exc: redirect(url_for("cases.course_page", case_id=case.id)),
               note=_("No se cambió nada."))


@bp.route("/casos/<int:case_id>/categoria", methods=["POST"])
@rule(AUTHENTICATED, on="can_change_course")
def change_category(case_id):
    case = _case(case_id)
    return act(lambda: course.change_category(case, current_user, request.form.get("categoria"),
                                              request.form.get("motivo"), clock.now()),
               lambda _r: _done(case, _("Categoría del caso cambiada.")),
               refused=lambda exc: redirect(url_for("cases.course_page", case_id=case.id)),
               note=_("No se cambió nada."))


def _done(case, message):
    flash(message, "success")
    return redirect(url_for("cases.detail", case_id=case.id))


def _history(case):
    reopenings = db.session.scalars(db.select(CaseReopening).where(CaseReopening.case_id == case.id)
                                    .order_by(CaseReopening.id)).all()
    changes = db.session.scalars(db.select(CaseCategoryChange).where(CaseCategoryChange.case_id == case.id)
                                 .order_by(CaseCategoryChange.id)).all()
    return {"reopenings": reopenings, "changes": changes}
