"""The supervisor's view of an office: workload per officer and the tasks waiting longest."""
from sqlalchemy import case as when
from sqlalchemy import func

from ..cases.assignment import officers_of
from ..cases.models import Case, Person
from ..core import clock
from ..core.ids import parse_id
from ..extensions import db
from ..reference.models import Office
from ..workflow.models import HumanTask

OLDEST = 20


def office_for(user, raw) -> int:
    """Supervisors see their office; central users choose one (default: their own)."""
    if user.is_central and parse_id(raw) and db.session.get(Office, parse_id(raw)) is not None:
        return parse_id(raw)
    return user.office_id


def office_overview(office_id, user) -> dict:
    now = clock.now()
    open_tasks = db.select(HumanTask).where(HumanTask.completed_at.is_(None), HumanTask.office_id == office_id)
    overdue = when((HumanTask.due_at < now, 1))
    per_officer = {row[0]: row[1:] for row in db.session.execute(
        db.select(HumanTask.assignee_id, func.count(), func.count(overdue))
        .where(HumanTask.completed_at.is_(None), HumanTask.office_id == office_id)
        .group_by(HumanTask.assignee_id))}
    cases = dict(db.session.execute(
        db.select(Case.assigned_officer_id, func.count()).where(Case.office_id == office_id, Case.status != "cerrado")
        .group_by(Case.assigned_officer_id)).all())
    rows = [{"officer": officer, "tasks": per_officer.get(officer.id, (0, 0))[0],
             "overdue": per_officer.get(officer.id, (0, 0))[1], "cases": cases.get(officer.id, 0)}
            for officer in officers_of(office_id)]
    oldest = db.session.execute(
        open_tasks.add_columns(Case, Person).outerjoin(Case, HumanTask.case_id == Case.id)
        .outerjoin(Person, Case.person_id == Person.id).order_by(HumanTask.created_at, HumanTask.id).limit(OLDEST)
    ).all()
    return {
        "office": db.session.get(Office, office_id),
        "rows": rows,
        "queue": per_officer.get(None, (0, 0)),
        "unassigned_cases": cases.get(None, 0),
        "oldest": oldest,
        "offices": db.session.scalars(db.select(Office).where(Office.is_active).order_by(Office.name)).all()
        if user.is_central else [],
        "now": now,
    }
