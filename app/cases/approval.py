"""What an approval task approves, shown on its page above the form, so that the approver decides without opening
the case: a registry of panels named by the task's `approvalPanel` diagram property.

Each panel reads only records that the case page shows to the same user (the task page is scoped to the task's
office; the panel also asks can_view_case), and nothing of the person: the person's data stays on the case and
person pages with their own masking.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from ..auth import policy
from ..extensions import db
from ..workflow import lint
from ..workflow.models import HumanTask
from .models import Assistance, Case, CaseEvent, FollowUp, Referral

OPEN_REFERRAL_STATUSES = ("enviada", "aceptada", "en_atencion", "sin_respuesta")
LAST_FOLLOW_UPS = 3
# the repatriation step whose record the FOSMIH approver reads beside the quotation
REPATRIATION_DOCUMENTS_TASK = "Task_repatriacion_documentos"


@dataclass
class Step:
    """A completed step as the timeline recorded it: who, when, and the (label, value) pairs entered."""

    title: str
    by: object  # User or None
    at: object
    details: list = field(default_factory=list)


@dataclass
class Panel:
    name: str
    template: str
    proposal: Step | None
    data: dict


PANELS: dict[str, Callable[[Case, HumanTask, Step | None], dict]] = {}


def panel(name: str):
    """Register the loader of an approval panel: (case, approval task, proposal step) -> what the template shows."""
    def register(loader):
        PANELS[name] = loader
        lint.approval_panel(name)
        return loader
    return register


def approval_panel(user, human_task: HumanTask, name: str | None, proposal_task: HumanTask | None) -> Panel | None:
    """The panel the task's diagram asks for, or None (no panel named, an unknown one, no case, or a user the case
    page would refuse)."""
    loader = PANELS.get(name or "")
    case = db.session.get(Case, human_task.case_id) if human_task.case_id else None
    if loader is None or case is None or not policy.can_view_case(user, case):
        return None
    proposal = step_of(proposal_task) if proposal_task is not None else None
    return Panel(name, f"cases/approval/{name}.html", proposal, loader(case, human_task, proposal))


def step_of(task: HumanTask) -> Step:
    """A completed task with what the timeline recorded of it (its labelled form values)."""
    event = db.session.scalar(db.select(CaseEvent).where(CaseEvent.human_task_id == task.id,
                                                         CaseEvent.kind == "task_completed")
                              .order_by(CaseEvent.id.desc()).limit(1))
    return Step(task.title, task.completed_by, task.completed_at, event.details if event is not None else [])


@panel("cierre")
def closure(case: Case, human_task, proposal) -> dict:
    """Closure: the reason and summary proposed, the referrals still open, the assistance given, the last
    follow-ups."""
    return {
        "case": case,
        "open_referrals": db.session.scalars(
            db.select(Referral).where(Referral.case_id == case.id, Referral.status.in_(OPEN_REFERRAL_STATUSES))
            .order_by(Referral.sent_at.desc(), Referral.id.desc())).all(),
        "assistances": db.session.scalars(
            db.select(Assistance).where(Assistance.case_id == case.id)
            .order_by(Assistance.given_on.desc(), Assistance.id.desc())).all(),
        "follow_ups": db.session.scalars(
            db.select(FollowUp).where(FollowUp.case_id == case.id)
            .order_by(FollowUp.done_on.desc(), FollowUp.id.desc()).limit(LAST_FOLLOW_UPS)).all(),
    }


@panel("fosmih")
def fosmih(case: Case, human_task, proposal) -> dict:
    """FOSMIH funding of a repatriation of remains: the quotation (the proposal step), the documents gathered, and
    what the fund already paid for this case."""
    documents = db.session.scalar(
        db.select(HumanTask).where(HumanTask.instance_id == human_task.instance_id,
                                   HumanTask.task_spec == REPATRIATION_DOCUMENTS_TASK,
                                   HumanTask.outcome == "completed")
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(1))
    return {
        "case": case,
        "documents": step_of(documents) if documents is not None else None,
        "paid": db.session.scalars(
            db.select(Assistance).where(Assistance.case_id == case.id, Assistance.funding_source == "FOSMIH")
            .order_by(Assistance.given_on.desc(), Assistance.id.desc())).all(),
    }
