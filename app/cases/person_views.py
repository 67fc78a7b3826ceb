"""The person page (/personas/<id>), and merging two records of one person (compare, merge, undo)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import services as audit
from ..auth import policy
from ..core import clock
from ..core.access import rule
from ..core.errors import DomainError
from ..core.web import act
from ..extensions import db
from . import bp, merge
from .models import Person, PersonMerge
from .person_file import other_cases_count, person_file


def _person(person_id) -> Person:
    person = db.get_or_404(Person, person_id)
    policy.check(person)  # a merged-away person: the survivor's visibility
    return person


@bp.route("/personas/<int:person_id>")
@rule("can_view_persons", on="can_view_person")
def person(person_id):
    person = _person(person_id)
    survivor = merge.survivor_of(person)
    if survivor.id != person.id:
        return redirect(url_for("cases.person", person_id=survivor.id))
    data = person_file(person, current_user)
    page = render_template("cases/person.html", **data)
    # like opening a case: one row in the access log of every case shown in full
    details = {"ocultos": sorted(data["masked"]), "otras_oficinas": sum(o.count for o in data["other_offices"])}
    for case in data["cases"] or [None]:
        audit.record("person_viewed", case_id=case.id if case else None, object_type="person",
                     object_id=person.id, details=details)
    db.session.commit()
    return page


@bp.route("/personas/<int:person_id>/fusionar")
@rule("can_merge_persons", on="can_view_person")
def person_merge(person_id):
    """Choose the other record of the same person: by person number, DNI, passport or name."""
    person = _person(person_id)
    if person.merged_into_id is not None:
        return redirect(url_for("cases.person_merge", person_id=merge.survivor_of(person).id))
    query = request.args.get("q", "")
    found = merge.candidates(current_user, person, query)
    page = render_template("cases/person_merge_choose.html", person=person, query=query, found=found)
    if query.strip():  # the count, never the name or DNI typed
        audit.record("person_merge_searched", object_type="person", object_id=person.id,
                     details={"resultados": len(found)})
        db.session.commit()
    return page


@bp.route("/personas/<int:person_id>/fusionar/<int:other_id>", methods=["GET", "POST"])
@rule("can_merge_persons", on="can_view_person")
def person_merge_compare(person_id, other_id):
    person = _person(person_id)
    other = db.session.get(Person, other_id)
    if other is None or not merge.can_view_person(current_user, other):
        abort(404)  # a person known only to other offices is not found, as a wrong number is
    choose = redirect(url_for("cases.person_merge", person_id=person.id))
    if request.method == "POST":
        return act(lambda: merge.merge(current_user, person, other, request.form, clock.now()), _merged,
                   refused=lambda exc: choose)
    try:
        merge.check_pair(current_user, person, other)
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        flash(exc.message, exc.flash_category)
        return choose
    page = render_template("cases/person_merge.html", a=person, b=other, rows=merge.comparison(person, other),
                           version=merge.fingerprint(person, other))
    audit.record("person_merge_compared", object_type="person", object_id=person.id, details={"con": other.id})
    db.session.commit()
    return page


def _merged(record):
    flash(_("Personas fusionadas: la persona n.º %(m)d ahora forma parte de la n.º %(s)d.", m=record.merged_id,
            s=record.survivor_id), "success")
    return redirect(url_for("cases.person", person_id=record.survivor_id))


@bp.route("/personas/fusiones/<int:merge_id>/deshacer", methods=["POST"])
@rule("is_admin")
def person_merge_undo(merge_id):
    record = db.get_or_404(PersonMerge, merge_id)
    back = redirect(url_for("cases.person", person_id=record.survivor_id))
    return act(lambda: merge.undo(current_user, record, request.form.get("motivo"), clock.now()),
               lambda _r: _undone(back), refused=lambda exc: back)


def _undone(back):
    flash(_("Fusión deshecha: las dos personas vuelven a estar separadas con sus casos."), "success")
    return back


@bp.app_template_global()
def person_page_link(case) -> dict | None:
    """For the case page: the person page link and the count of the person's other cases (None: not allowed)."""
    if not current_user.is_authenticated or not merge.can_view_person(current_user, case.person):
        return None
    return {"url": url_for("cases.person", person_id=case.person_id), "others": other_cases_count(case)}

