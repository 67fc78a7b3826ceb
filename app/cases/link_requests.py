"""Need-to-know across offices for shared persons.

An officer whose intake resembles a person known only to other offices sees a bare hint and may ask to link
(PersonLinkRequest); a supervisor of an office holding that person's cases (or a central user) decides.
Edits of a person shared by several offices are recorded, by field name only, on every case of the person
and notified to the other offices' supervisors.
"""
import json

from flask import current_app
from flask_babel import gettext as _

from ..audit import services as audit
from ..auth import policy, roles
from ..auth.services import supervisors_of
from ..core import clock, crypto
from ..core.errors import DomainError, NotAllowed
from ..extensions import db
from ..reference.models import Office
from .models import Case, Person, PersonLinkRequest
from .persons import case_offices, person_visible_to
from .services import record_event
from .signals import tell

# Audit actions of this module (labels for the audit viewer); registered here, beside the code that writes them.
for _code, _label in {
    "person_viewed": "Consulta de datos de persona",
    "person_link_requested": "Vínculo de persona solicitado",
    "person_link_decided": "Vínculo de persona resuelto",
    "person_linked": "Persona vinculada a un caso",
    "link_requests_viewed": "Consulta de solicitudes de vínculo",
}.items():
    audit.ACTIONS.setdefault(_code, _label)

TOKEN_SECONDS = 2 * 3600
_TOKEN_KIND = "person-link"


# --- opaque candidate tokens -------------------------------------------------------------------------------

def make_token(user, person: Person, human_task) -> str:
    """An encrypted, authenticated token naming a hidden candidate, bound to the user and the task; expires."""
    expires = int(clock.now().timestamp()) + int(current_app.config.get("PERSON_LINK_TOKEN_SECONDS", TOKEN_SECONDS))
    payload = {"k": _TOKEN_KIND, "p": person.id, "u": user.id, "t": human_task.id, "e": expires}
    return crypto.encrypt(json.dumps(payload, separators=(",", ":")))


def read_token(token: str | None, user, human_task) -> Person:
    """The person a token names, when the token is genuine, unexpired and was issued to this user and task."""
    refused = DomainError(_("La solicitud no es válida o caducó. Vuelva a buscar coincidencias."))
    if not token or not crypto.is_encrypted(token) or len(token) > 2000:
        raise refused
    try:
        payload = json.loads(crypto.decrypt(token))
    except (crypto.UnreadableData, ValueError, TypeError):
        raise refused from None
    if not isinstance(payload, dict) or payload.get("k") != _TOKEN_KIND or payload.get("u") != user.id \
            or payload.get("t") != human_task.id or not isinstance(payload.get("e"), int) \
            or payload["e"] < int(clock.now().timestamp()):
        raise refused
    person = db.session.get(Person, payload.get("p")) if isinstance(payload.get("p"), int) else None
    if person is None:
        raise refused
    return person


def hint_tokens(user, human_task, candidates) -> None:
    """Give each hidden candidate its token, and mark the ones this task already asked for."""
    hidden = [c for c in candidates if not c.visible]
    if not hidden:
        return
    asked = set(db.session.scalars(db.select(PersonLinkRequest.person_id).where(
        PersonLinkRequest.human_task_id == human_task.id,
        PersonLinkRequest.person_id.in_([c.person.id for c in hidden]))).all())
    for candidate in hidden:
        candidate.token = make_token(user, candidate.person, human_task)
        candidate.requested = candidate.person.id in asked


# --- requests and decisions -------------------------------------------------------------------------------

def owner_offices(link: PersonLinkRequest) -> set[int]:
    """The offices that hold the person's cases, other than the requesting one."""
    return case_offices(link.person) - {link.office_id}


@policy.predicate
def can_decide_link(user, link: PersonLinkRequest) -> bool:
    """A supervisor of an office holding the person's cases, or a central user."""
    if user.is_central:
        return True
    return policy.has_role(user, roles.SUPERVISOR) and user.office_id in owner_offices(link)


def request_link(user, human_task, token, reason, now) -> PersonLinkRequest:
    """The intake officer asks to link the case being registered to a person known only to other offices."""
    if human_task.completed_at is not None:
        raise DomainError(_("Esta tarea ya fue completada. No se guardó nada."))
    if not policy.can_work_task(user, human_task):
        raise NotAllowed(_("Esta tarea no está asignada a su rol u oficina."))
    person = read_token(token, user, human_task)
    existing = db.session.scalar(db.select(PersonLinkRequest).where(
        PersonLinkRequest.human_task_id == human_task.id, PersonLinkRequest.person_id == person.id))
    if existing is not None:
        return existing
    if person_visible_to(user, person):
        raise DomainError(_("Esta persona ya está entre las coincidencias de su oficina: elíjala en la lista."))
    link = PersonLinkRequest(person_id=person.id, office_id=human_task.office_id, human_task_id=human_task.id,
                             case_id=human_task.case_id, status="pendiente",
                             reason=(reason or "").strip()[:2000] or None, requested_by_id=user.id,
                             requested_at=now)
    db.session.add(link)
    db.session.flush()
    office = db.session.get(Office, link.office_id)
    audit.record("person_link_requested", object_type="person_link_request", object_id=link.id, actor=user,
                 details={"oficina": office.code, "tarea": human_task.id})
    for supervisor in _deciders(link):
        _notify(supervisor, "vinculo_solicitado", link, now,
                _("Solicitud de vínculo de persona · %(office)s", office=office.name),
                _("La oficina %(office)s pide vincular un caso nuevo con una persona registrada por su oficina. "
                  "Revise la solicitud y apruébela o recházela.", office=office.name), "/casos/vinculos")
    return link


def decide(link: PersonLinkRequest, user, approve: bool, note, now) -> PersonLinkRequest:
    if not can_decide_link(user, link):
        raise NotAllowed(_("Solo un supervisor de la oficina que registró a la persona, o un usuario central, "
                           "puede resolver esta solicitud."))
    if link.status != "pendiente":
        raise DomainError(_("Esta solicitud ya fue resuelta."))
    note = (note or "").strip()
    if not approve and not note:
        raise DomainError(_("Indique el motivo del rechazo."))
    link.status = "aprobada" if approve else "rechazada"
    link.decided_by_id, link.decided_at, link.decision_note = user.id, now, note[:2000] or None
    audit.record("person_link_decided", case_id=link.case_id, object_type="person_link_request",
                 object_id=link.id, actor=user, details={"decisión": link.status})
    if approve and link.case_id is not None:
        link_case(link, user, now)
    where = f"/casos/{link.case_id}" if link.case_id else (f"/tareas/{link.human_task_id}" if link.human_task_id
                                                            else "/casos/vinculos")
    title = _("Vínculo de persona aprobado") if approve else _("Vínculo de persona rechazado")
    body = _("La oficina que registró a la persona aprobó el vínculo: el caso quedó vinculado a ella.") if approve \
        else _("La oficina que registró a la persona rechazó el vínculo. Motivo: %(note)s", note=note)
    if approve and link.case_id is None:
        body = _("La oficina que registró a la persona aprobó el vínculo: al registrar el caso quedará "
                 "vinculado a ella.")
    requester = link.requested_by
    if requester is not None and requester.is_active:
        _notify(requester, "vinculo_resuelto", link, now, title, body, where)
    return link


def attach_case(human_task, case: Case):
    """The intake registered its case: the task's link requests now name it."""
    for link in db.session.scalars(db.select(PersonLinkRequest).where(
            PersonLinkRequest.human_task_id == human_task.id, PersonLinkRequest.case_id.is_(None))):
        link.case_id = case.id


def approved_person(human_task) -> Person | None:
    """The person of an approved request of this intake task (approved before the case was registered)."""
    link = db.session.scalar(db.select(PersonLinkRequest).where(
        PersonLinkRequest.human_task_id == human_task.id, PersonLinkRequest.status == "aprobada",
        PersonLinkRequest.case_id.is_(None)).order_by(PersonLinkRequest.decided_at.desc()).limit(1))
    return link.person if link is not None else None


def link_case(link: PersonLinkRequest, user, now):
    """Approval: the requesting case now belongs to the person; the provisional person, if orphaned, goes."""
    case = db.session.get(Case, link.case_id)
    previous = db.session.get(Person, case.person_id)
    if previous is not None and previous.id == link.person_id:
        return
    case.person_id = link.person_id
    case.updated_at = now
    db.session.flush()
    record_event(case.id, "person_linked", _("Persona ya registrada por otra oficina, vinculada por solicitud "
                                             "aprobada"), user.id, now)
    audit.record("person_linked", case_id=case.id, object_type="person_link_request", object_id=link.id,
                 actor=user, details={"cómo": "solicitud aprobada"})
    if previous is not None and _orphan(previous):
        db.session.delete(previous)


def _orphan(person: Person) -> bool:
    has_case = db.session.scalar(db.select(Case.id).where(Case.person_id == person.id).limit(1))
    has_link = db.session.scalar(db.select(PersonLinkRequest.id).where(PersonLinkRequest.person_id == person.id)
                                 .limit(1))
    return has_case is None and has_link is None


def requests_to_decide(user):
    """Pending requests the user may decide."""
    pending = db.session.scalars(db.select(PersonLinkRequest).where(PersonLinkRequest.status == "pendiente")
                                 .order_by(PersonLinkRequest.requested_at, PersonLinkRequest.id)).all()
    return [link for link in pending if can_decide_link(user, link)]


def requests_of_office(user, limit=50):
    """The user's office's own requests (what the requester may know: status, never the person)."""
    if user.office_id is None:
        return []
    return db.session.scalars(db.select(PersonLinkRequest).where(PersonLinkRequest.office_id == user.office_id)
                              .order_by(PersonLinkRequest.requested_at.desc(), PersonLinkRequest.id.desc())
                              .limit(limit)).all()


def _deciders(link: PersonLinkRequest):
    seen = {}
    for office_id in sorted(owner_offices(link)):
        for supervisor in supervisors_of(office_id):
            seen.setdefault(supervisor.id, supervisor)
    return list(seen.values())


def _notify(user, kind, link, now, title, body, where):
    tell(user, kind=kind, title=title, body=body, link=where, now=now, dedup_key=f"{kind}:{link.id}:{user.id}")


# --- edits of a shared person ------------------------------------------------------------------------------

def record_person_edit(case: Case, user, before: dict, after: dict, labels: dict, labelled, now):
    """Timeline and audit of a person edit. Alone in one office: the values, as always. Shared with other
    offices: field names only, on every case of the person, and the other offices' supervisors are told."""
    others = db.session.scalars(db.select(Case).where(Case.person_id == case.person_id, Case.id != case.id)
                                .order_by(Case.id)).all()
    foreign = [c for c in others if c.office_id != case.office_id]
    if not foreign:
        record_event(case.id, "person_edited", _("Datos de la persona modificados"), user.id, now,
                     details=labelled)
        return []
    changed = [name for name in labels if before.get(name) != after.get(name)]
    names = ", ".join(str(labels[n]) for n in changed) or _("ninguno")
    office = db.session.get(Office, case.office_id)
    record_event(case.id, "person_edited", _("Datos de la persona modificados: %(fields)s", fields=names),
                 user.id, now, details=[[_("Campos modificados"), names]])
    if not changed:
        return []
    for other in others:
        record_event(other.id, "person_edited",
                     _("Datos de la persona modificados por la oficina %(office)s: %(fields)s", office=office.name,
                       fields=names), user.id, now,
                     details=[[_("Oficina"), office.name], [_("Campos modificados"), names]])
    told = set()
    for other in foreign:
        for supervisor in supervisors_of(other.office_id):
            if supervisor.id in told or supervisor.id == user.id:
                continue
            told.add(supervisor.id)
            tell(supervisor, kind="persona_editada", case_id=other.id, link=f"/casos/{other.id}", now=now,
                 title=_("Datos de persona modificados por otra oficina · %(n)s", n=other.number),
                 body=_("La oficina %(office)s modificó datos de la persona del caso %(n)s: %(fields)s.",
                        office=office.name, n=other.number, fields=names),
                 dedup_key=f"persona_editada:{other.id}:{supervisor.id}:{now.isoformat()}")
    return changed
