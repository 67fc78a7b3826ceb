"""Everything the case file page shows, loaded with a fixed number of queries."""
from ..auth import policy
from ..core import clock
from ..extensions import db
from ..reference.models import Office
from ..workflow.models import HumanTask
from . import emergency, referrals
from .models import Assistance, Attachment, CaseEvent, CaseNote, CaseTransfer, FollowUp, Referral
from .transfers import pending_transfer


def case_file(case, user) -> dict:
    def rows(model, order, *where):
        return db.session.scalars(db.select(model).where(model.case_id == case.id, *where).order_by(*order)).all()

    can_edit = policy.can_edit_case(user, case)
    transfer = pending_transfer(case)
    return {
        "case": case,
        "emergency_access": None if policy.sees_office(user, case.office_id) else emergency.active_access(user, case),
        "emergency_accesses": emergency.accesses_of(case) if policy.oversees_case(user, case) else [],
        "events": rows(CaseEvent, (CaseEvent.occurred_at.desc(), CaseEvent.id.desc())),
        "open_tasks": rows(HumanTask, (HumanTask.id,), HumanTask.completed_at.is_(None)),
        "referrals": rows(Referral, (Referral.sent_at.desc(), Referral.id.desc())),
        "referral_moves": referrals.allowed,
        "referral_mails": _mails(case),
        "now": clock.now(),
        "assistances": rows(Assistance, (Assistance.given_on.desc(), Assistance.id.desc())),
        "follow_ups": rows(FollowUp, (FollowUp.done_on.desc(), FollowUp.id.desc())),
        "notes": rows(CaseNote, (CaseNote.created_at.desc(), CaseNote.id.desc())),
        "attachments": rows(Attachment, (Attachment.uploaded_at.desc(), Attachment.id.desc())),
        "transfers": rows(CaseTransfer, (CaseTransfer.requested_at.desc(),)),
        "pending_transfer": transfer,
        "can_edit": can_edit,
        "can_override_consent": policy.can_override_consent(user, case),
        "officers": _officers(case, user),
        "diagram": _diagram(case),
        "can_decide_transfer": transfer is not None and policy.can_decide_transfer(user, transfer),
        "offices": db.session.scalars(db.select(Office).where(Office.is_active, Office.id != case.office_id)
                                      .order_by(Office.name)).all() if can_edit and transfer is None else [],
    }


def _mails(case) -> dict:
    """The latest e-mail to its institution of each referral of the case: referral id -> ReferralMail."""
    from .models import ReferralMail

    latest = {}
    for mail in db.session.scalars(db.select(ReferralMail).join(Referral, ReferralMail.referral_id == Referral.id)
                                   .where(Referral.case_id == case.id).order_by(ReferralMail.id)):
        latest[mail.referral_id] = mail
    return latest


def _officers(case, user):
    """Officers a supervisor of the case's office may assign the case to."""
    if not policy.supervises_office(user, case.office_id) or case.status == "cerrado":
        return []
    from .assignment import officers_of

    return officers_of(case.office_id)


def _diagram(case):
    """The viewer's configuration for the case's process diagram (None when the case has no process)."""
    from ..workflow.models import WorkflowInstance
    from ..workflow.overview import case_view

    instance = db.session.scalar(db.select(WorkflowInstance).where(WorkflowInstance.case_id == case.id)
                                 .order_by(WorkflowInstance.id).limit(1))
    return case_view(case, instance) if instance is not None else None
