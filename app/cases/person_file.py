"""Everything the person page shows: identity, contacts, documents, and every case in or out of the user's scope."""
from dataclasses import dataclass

from ..auth import policy
from ..extensions import db
from . import merge
from .models import Attachment, Case
from .persons import masked_fields


@dataclass
class OtherOffice:
    """Cases of the person the user may not open: only how many, and in which office."""

    name: str
    count: int


def person_file(person, user) -> dict:
    cases = db.session.scalars(db.select(Case).where(Case.person_id == person.id)
                               .order_by(Case.opened_at, Case.id)).all()
    shown = [case for case in cases if policy.can_view_case(user, case)]
    hidden: dict[int, OtherOffice] = {}
    for case in cases:
        if case not in shown:
            hidden.setdefault(case.office_id, OtherOffice(case.office.name, 0)).count += 1
    documents: dict[int, list[Attachment]] = {case.id: [] for case in shown}
    if shown:
        for attachment in db.session.scalars(db.select(Attachment).where(
                Attachment.case_id.in_(list(documents)), Attachment.deleted_at.is_(None))
                .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())):
            documents[attachment.case_id].append(attachment)
    return {
        "person": person,
        "masked": masked_fields(user, person),
        "cases": shown,
        "other_offices": sorted(hidden.values(), key=lambda office: office.name),
        "documents": documents,
        "merges": merge.merges_of(person),
        "can_merge": merge.may_merge(user, person) and person.anonymised_at is None,
        "can_undo": policy.is_admin(user),
    }


def other_cases_count(case) -> int:
    """How many other cases the person of `case` has (in any office)."""
    return db.session.scalar(db.select(db.func.count(Case.id)).where(Case.person_id == case.person_id,
                                                                     Case.id != case.id))
