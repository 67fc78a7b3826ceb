"""Transfers of a case to another office: requested by the case's office, decided by the receiving one."""
from flask_babel import gettext as _

from ..auth import policy
from ..core.errors import DomainError
from ..extensions import db
from ..reference.models import Office
from ..workflow.models import HumanTask, WorkflowInstance
from .models import CaseTransfer
from .services import record_event


def pending_transfer(case) -> CaseTransfer | None:
    return db.session.scalar(db.select(CaseTransfer).where(CaseTransfer.case_id == case.id,
                                                           CaseTransfer.status == "solicitado"))


def pending_to_supervisor(user, case) -> bool:
    """A supervisor of the office a transfer of `case` is pending to may read it before deciding."""
    if not policy.has_role(user, policy.roles.SUPERVISOR):
        return False
    transfer = pending_transfer(case)
    return transfer is not None and transfer.to_office_id == user.office_id


def request_transfer(case, user, to_office_id, reason, now) -> CaseTransfer:
    if case.status == "cerrado":
        raise DomainError(_("Un caso cerrado no se traslada."))
    if pending_transfer(case) is not None:
        raise DomainError(_("Este caso ya tiene un traslado pendiente."))
    office = db.session.get(Office, to_office_id) if to_office_id else None
    if office is None or not office.is_active:
        raise DomainError(_("Elija la oficina de destino."), {"oficina": _("Elija la oficina de destino.")})
    if office.id == case.office_id:
        raise DomainError(_("El caso ya está en esa oficina."), {"oficina": _("Elija otra oficina.")})
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise DomainError(_("Explique el motivo del traslado."), {"motivo": _("Explique el motivo.")})
    transfer = CaseTransfer(case_id=case.id, from_office_id=case.office_id, to_office_id=office.id, reason=reason,
                            requested_by_id=user.id, requested_at=now)
    db.session.add(transfer)
    record_event(case.id, "transfer_requested", _("Traslado solicitado a %(o)s", o=office.name), user.id, now,
                 details=[[_("Motivo"), reason]])
    return transfer


def decide_transfer(transfer: CaseTransfer, user, accept: bool, note, now) -> CaseTransfer:
    """Accept (the case, its workflow and its open tasks move to the new office) or refuse with a reason."""
    if transfer.status != "solicitado":
        raise DomainError(_("Este traslado ya fue resuelto."))
    note = (note or "").strip()
    if not accept and len(note) < 5:
        raise DomainError(_("Indique el motivo del rechazo."), {"nota": _("Indique el motivo.")})
    transfer.status = "aceptado" if accept else "rechazado"
    transfer.decided_by_id, transfer.decided_at, transfer.decision_note = user.id, now, note or None
    case = transfer.case
    if accept:
        case.office_id = transfer.to_office_id
        case.assigned_officer_id = None
        case.updated_at = now
        instances = db.session.scalars(db.select(WorkflowInstance).where(WorkflowInstance.case_id == case.id)).all()
        for instance in instances:
            instance.office_id = transfer.to_office_id
        db.session.execute(db.update(HumanTask).where(HumanTask.case_id == case.id, HumanTask.completed_at.is_(None))
                           .values(office_id=transfer.to_office_id, assignee_id=None,
                                   row_version=HumanTask.row_version + 1))
    title = _("Traslado aceptado por %(o)s", o=transfer.to_office.name) if accept else \
        _("Traslado rechazado por %(o)s", o=transfer.to_office.name)
    record_event(case.id, "transfer_decided", title, user.id, now, details=[[_("Nota"), note]] if note else [])
    return transfer


def transfers_for_office(office_id):
    """Pending transfers into and out of an office."""
    pending = db.select(CaseTransfer).where(CaseTransfer.status == "solicitado")
    incoming = db.session.scalars(pending.where(CaseTransfer.to_office_id == office_id)
                                  .order_by(CaseTransfer.requested_at)).all()
    outgoing = db.session.scalars(pending.where(CaseTransfer.from_office_id == office_id)
                                  .order_by(CaseTransfer.requested_at)).all()
    return incoming, outgoing
