"""Record audited actions, seal them into the hash chain, and verify the chain."""
import json
import logging
from dataclasses import dataclass

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..core import clock
from ..extensions import db
from .models import GENESIS, AuditEvent

log = logging.getLogger(__name__)

ACTIONS = {
    "login_ok": "Inicio de sesión",
    "login_failed": "Inicio de sesión fallido",
    "login_locked": "Inicio de sesión bloqueado",
    "logout": "Cierre de sesión",
    "totp_enrolled": "Segundo factor activado",
    "case_viewed": "Consulta de expediente",
    "case_opened": "Caso abierto",
    "task_completed": "Paso completado",
    "person_edited": "Datos de persona modificados",
    "note_added": "Nota añadida",
    "document_uploaded": "Documento añadido",
    "document_downloaded": "Documento descargado",
    "referral_updated": "Remisión actualizada",
    "consent_override": "Remisión autorizada sin consentimiento",
    "transfer_requested": "Traslado solicitado",
    "transfer_decided": "Traslado resuelto",
    "export": "Exportación",
    "diagram_published": "Diagrama publicado",
    "cases_exported": "Lista de casos exportada",
    "statistics_exported": "Cuadros estadísticos exportados",
    "catalog_changed": "Catálogo modificado",
    "user_created": "Usuario creado",
    "permission_changed": "Permisos modificados",
    "password_reset": "Contraseña restablecida",
    "retention_applied": "Retención aplicada",
    "keys_rotated": "Claves rotadas",
}


def record(action: str, *, case_id=None, object_type=None, object_id=None, details=None, actor=None,
           actor_name=None, actor_id=None) -> AuditEvent:
    """Add an audit row to the current transaction (it commits with the action it records)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is None and actor_id is not None:
        from ..auth.models import User

        actor = db.session.get(User, actor_id)
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        occurred_at=clock.now(), action=action, case_id=case_id, object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        actor_id=actor.id if actor is not None else None,
        actor_name=(actor.username if actor is not None else actor_name or None),
        ip_address=request.remote_addr if has_request_context() else None,
        details_json=json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str),
    )
    db.session.add(event)
    if has_request_context():
        g.audit_recorded = True
    return event


def seal_pending(limit=5000) -> int:
    """Chain unsealed rows in id order; runs in its own transaction after commits and in the scheduler."""
    try:
        last = db.session.scalar(db.select(AuditEvent.hash).where(AuditEvent.hash.is_not(None))
                                 .order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
        pending = db.session.scalars(db.select(AuditEvent).where(AuditEvent.hash.is_(None))
                                     .order_by(AuditEvent.id).limit(limit)).all()
        for event in pending:
            event.prev_hash = last
            event.hash = last = event.compute_hash(last)
        db.session.commit()
        return len(pending)
    except SQLAlchemyError as exc:  # another sealer got there first; the next one finishes the job
        db.session.rollback()
        log.info("audit sealing postponed: %s", exc.__class__.__name__)
        return 0


@dataclass
class ChainReport:
    checked: int
    unsealed: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(batch=5000) -> ChainReport:
    """Walk the sealed chain from the start; any edited, deleted or reordered row is reported."""
    problems, checked, last, last_id = [], 0, GENESIS, 0
    while True:
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.hash.is_not(None), AuditEvent.id > last_id)
                                  .order_by(AuditEvent.id).limit(batch)).all()
        if not rows:
            break
        for event in rows:
            if event.prev_hash != last:
                problems.append(f"fila {event.id}: no enlaza con la fila anterior (¿fila borrada o insertada?)")
            if event.compute_hash(event.prev_hash or "") != event.hash:
                problems.append(f"fila {event.id}: su contenido no coincide con su huella (¿fila modificada?)")
            last, last_id = event.hash, event.id
            checked += 1
        db.session.expire_all()
    first_unsealed = db.session.scalar(db.select(db.func.min(AuditEvent.id)).where(AuditEvent.hash.is_(None)))
    unsealed = db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(AuditEvent.hash.is_(None)))
    if first_unsealed is not None and first_unsealed < last_id:
        problems.append(f"fila {first_unsealed}: sin sellar entre filas selladas")
    return ChainReport(checked, unsealed, problems)


def events_query(user_id=None, case_id=None, action=None, since=None, until=None):
    query = db.select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if user_id:
        query = query.where(AuditEvent.actor_id == user_id)
    if case_id:
        query = query.where(AuditEvent.case_id == case_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until)
    return query
