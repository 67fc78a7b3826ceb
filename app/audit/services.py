"""Record audited actions, seal them into the keyed hash chain, anchor each seal, and verify both."""
import json
import logging
from dataclasses import dataclass

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..core import clock
from ..extensions import db
from . import anchor, keys
from .models import GENESIS, KEYED_MARKER, AuditEvent

log = logging.getLogger(__name__)

ACTIONS = {
    "emergency_access_granted": "Acceso de emergencia concedido",
    "emergency_access_ended": "Acceso de emergencia terminado",
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
    "referral_sent": "Remisión enviada",
    "referral_link_opened": "Enlace de remisión abierto",
    "referral_link_answered": "Remisión respondida por enlace",
    "referral_link_refused": "Enlace de remisión rechazado",
    "referral_link_throttled": "Enlace de remisión limitado",
    "referral_link_revoked": "Enlace de remisión anulado",
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
    # Issue 14: every read of personal data and every change (reads record no query text, only its kind)
    "audit_chain_keyed": "Cadena de auditoría con clave (inicio)",
    "cases_listed": "Lista de casos consultada",
    "cases_searched": "Búsqueda de casos",
    "task_viewed": "Tarea consultada",
    "tasks_listed": "Bandeja de tareas consultada",
    "supervision_viewed": "Vista de supervisión consultada",
    "task_claimed": "Tarea tomada",
    "task_released": "Tarea devuelta",
    "task_assigned": "Tarea asignada",
    "case_assigned": "Caso asignado",
    "transfers_viewed": "Traslados consultados",
    "task_draft_saved": "Borrador guardado",
    "diagram_downloaded": "Diagrama descargado",
    "diagram_uploaded": "Diagrama subido",
    "sweep_run": "Barrida del planificador lanzada",
    "access_log_viewed": "Registro de accesos del caso consultado",
}


def record(action: str, *, case_id=None, object_type=None, object_id=None, details=None, actor=None,
           actor_name=None) -> AuditEvent:
    """Add an audit row to the current transaction (it commits with the action it records)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
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


def keyed_from() -> int | None:
    """Id of the cut-over row: rows before it are legacy plain SHA-256, it and later rows HMAC. None (a database
    without the marker, never migrated from the first release): every row is keyed."""
    return db.session.scalar(db.select(db.func.min(AuditEvent.id)).where(AuditEvent.action == KEYED_MARKER))


def _key_for(event_id, cutover, key):
    return None if cutover is not None and event_id < cutover else key


def seal_all() -> None:
    """Seal every pending row (after a command's commit): seal_pending in batches until none is left."""
    while seal_pending() > 0:
        pass


def seal_pending(limit=5000) -> int:
    """Chain unsealed rows in id order; runs in its own transaction after commits and in the scheduler. After
    the commit the seal is anchored: one signed line appended to the anchor file."""
    try:
        last = db.session.scalar(db.select(AuditEvent.hash).where(AuditEvent.hash.is_not(None))
                                 .order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
        pending = db.session.scalars(db.select(AuditEvent).where(AuditEvent.hash.is_(None))
                                     .order_by(AuditEvent.id).limit(limit)).all()
        if not pending:
            db.session.commit()
            return 0
        cutover, key = keyed_from(), keys.chain_key()
        for event in pending:
            event.prev_hash = last
            event.hash = last = event.compute_hash(last, _key_for(event.id, cutover, key))
        last_id = pending[-1].id
        db.session.commit()
    except SQLAlchemyError as exc:  # another sealer got there first; the next one finishes the job
        db.session.rollback()
        log.info("audit sealing postponed: %s", exc.__class__.__name__)
        return 0
    try:
        anchor.append(lambda after: _sealed_count(after, last_id), last_id, last, clock.now())
    except (OSError, SQLAlchemyError):  # the rows are sealed; the next seal anchors them (verify reports a gap)
        log.exception("audit anchor not written")
    finally:
        db.session.rollback()
    return len(pending)


def anchor_restored_state():
    """After a backup is restored: seal what the copy left unsealed, then anchor the trail as restored (see
    anchor.rebase). Returns the rows anchored."""
    seal_pending()
    last = db.session.execute(db.select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.hash.is_not(None))
                              .order_by(AuditEvent.id.desc()).limit(1)).first()
    if last is None:
        return 0
    count = _sealed_count(None, last.id)
    anchor.rebase(count, last.id, last.hash, clock.now())
    return count


def _sealed_count(after_id, upto_id) -> int:
    query = db.select(db.func.count(AuditEvent.id)).where(AuditEvent.hash.is_not(None), AuditEvent.id <= upto_id)
    if after_id is not None:
        query = query.where(AuditEvent.id > after_id)
    return db.session.scalar(query)


@dataclass
class ChainReport:
    checked: int
    unsealed: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(batch=5000, anchor_copy=None) -> ChainReport:
    """Walk the sealed chain from the start; any edited, deleted or reordered row is reported. Then compare the
    table with the latest anchor: a truncated tail, an emptied table or a chain recomputed without the key
    (its hash at the anchored id differs) is reported too."""
    problems, checked, last, last_id = [], 0, GENESIS, 0
    cutover, key = keyed_from(), keys.chain_key()
    anchors = anchor.read_all(anchor_copy)
    problems.extend(anchors.problems)
    latest, anchored_hash, keyed_rows = anchors.latest, None, 0
    while True:
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.hash.is_not(None), AuditEvent.id > last_id)
                                  .order_by(AuditEvent.id).limit(batch)).all()
        if not rows:
            break
        for event in rows:
            if event.prev_hash != last:
                problems.append(f"fila {event.id}: no enlaza con la fila anterior (¿fila borrada o insertada?)")
            row_key = _key_for(event.id, cutover, key)
            keyed_rows += row_key is not None
            if event.compute_hash(event.prev_hash or "", row_key) != event.hash:
                problems.append(f"fila {event.id}: su contenido no coincide con su huella (¿fila modificada?)")
            if latest is not None and event.id == latest.last_id:
                anchored_hash = event.hash
            last, last_id = event.hash, event.id
            checked += 1
        db.session.expire_all()
    first_unsealed = db.session.scalar(db.select(db.func.min(AuditEvent.id)).where(AuditEvent.hash.is_(None)))
    unsealed = db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(AuditEvent.hash.is_(None)))
    if first_unsealed is not None and first_unsealed < last_id:
        problems.append(f"fila {first_unsealed}: sin sellar entre filas selladas")
    problems.extend(_compare_with_anchor(latest, anchors.lines, checked, anchored_hash, keyed_rows))
    return ChainReport(checked, unsealed, problems)


def _compare_with_anchor(latest, lines, checked, anchored_hash, keyed_rows) -> list[str]:
    if latest is None:
        if lines:
            return ["ancla: ninguna línea válida (¿archivo de ancla modificado?)"]
        if keyed_rows:
            return [f"ancla: no hay ancla pero hay {keyed_rows} filas selladas con clave (¿archivo de ancla borrado "
                    f"o AUDIT_ANCHOR_PATH cambiado?)"]
        return []
    problems = []
    if checked < latest.count:
        problems.append(f"ancla: registra {latest.count} filas selladas y la tabla tiene {checked} "
                        f"(¿filas borradas?)")
    if anchored_hash is None:
        problems.append(f"ancla: la fila {latest.last_id} anclada el {latest.at} no existe (¿filas borradas?)")
    elif anchored_hash != latest.last_hash:
        problems.append(f"ancla: la huella de la fila {latest.last_id} no es la anclada el {latest.at} "
                        f"(¿cadena recalculada?)")
    return problems


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
