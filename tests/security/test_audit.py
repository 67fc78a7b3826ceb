"""The audit trail: what is recorded, the hash chain, tamper detection, the administrator page."""
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.audit.services import record, seal_pending, verify_chain
from app.extensions import db
from tests.conftest import flashes
from tests.helpers import register_case


def actions():
    db.session.expire_all()
    return [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def test_case_work_is_recorded_and_sealed(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    case_id = instance.case_id if instance.case_id else db.session.get(type(instance), instance.id).case_id
    officer.get(f"/casos/{case_id}")
    officer.post(f"/casos/{case_id}/notas", data={"texto": "Llamada de la madre"})
    recorded = actions()
    for expected in ("case_opened", "task_completed", "case_viewed", "note_added"):
        assert expected in recorded
    rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.case_id == case_id)).all()
    assert all(r.hash and r.actor_name == "oficial.tap" for r in rows)
    assert all("Llamada" not in r.details_json for r in rows)  # the trail holds no case content
    report = verify_chain()
    assert report.ok and report.unsealed == 0 and report.checked >= len(rows)


def test_triggers_forbid_deleting_or_editing_sealed_rows(app):
    record("export", details={"formato": "csv"})
    db.session.commit()
    seal_pending()
    event = db.session.scalar(db.select(AuditEvent).order_by(AuditEvent.id.desc()))
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": event.id})
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text("UPDATE audit_events SET action = 'login_ok' WHERE id = :id"), {"id": event.id})
    db.session.rollback()
    assert verify_chain().ok


def _drop_trigger(name):
    """What an attacker with database access does (PostgreSQL has one trigger for both rules)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events"))
    else:
        db.session.execute(sa.text(f"DROP TRIGGER {name}"))


@pytest.mark.parametrize("tamper,expected", [
    ("UPDATE audit_events SET details_json = '{\"formato\": \"pdf\"}' WHERE id = :id", "modificada"),
    ("DELETE FROM audit_events WHERE id = :id", "borrada"),
])
def test_edits_and_deletions_are_detected_even_without_the_triggers(app, tamper, expected):
    for n in range(3):
        record("export", details={"n": n})
    db.session.commit()
    seal_pending()
    middle = db.session.scalars(db.select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(2)).all()[-1]
    _drop_trigger("audit_events_no_delete")
    _drop_trigger("audit_events_seal_only")  # an attacker with database access
    db.session.execute(sa.text(tamper), {"id": middle})
    db.session.commit()
    report = verify_chain()
    assert not report.ok and any(expected in p for p in report.problems)


def test_verify_command_exits_nonzero_on_tampering(app):
    record("export")
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["siproc", "audit", "seal"]).exit_code == 0
    ok = runner.invoke(args=["siproc", "audit", "verify"])
    assert ok.exit_code == 0 and "0 not yet sealed" in ok.output
    _drop_trigger("audit_events_seal_only")
    db.session.execute(sa.text("UPDATE audit_events SET actor_name = 'otro'"))
    db.session.commit()
    broken = runner.invoke(args=["siproc", "audit", "verify"])
    assert broken.exit_code == 1 and "modificada" in broken.output


def test_admin_page_filters_and_is_admin_only(login, users):
    officer = login("oficial.tap")
    instance = register_case(officer)
    case = db.session.get(type(instance), instance.id)
    admin = login("admin")
    page = admin.get("/admin/auditoria/", query_string={"usuario": users["oficial.tap"].id, "accion": "case_opened"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Caso abierto" in html and "1 registro" in html
    from app.cases.models import Case

    number = db.session.get(Case, case.case_id).number
    assert "Paso completado" in admin.get("/admin/auditoria/", query_string={"caso": number}).get_data(as_text=True)
    bad = admin.get("/admin/auditoria/", query_string={"desde": "ayer", "accion": "borrar_todo", "usuario": "x"})
    assert bad.status_code == 422 and "Fecha no válida" in bad.get_data(as_text=True)
    verified = admin.post("/admin/auditoria/verificar", follow_redirects=True)
    assert any("Cadena íntegra" in f for f in flashes(verified.get_data(as_text=True)))
    for role_user in ("oficial.tap", "consul.tap", "analista", "gestor"):
        assert login(role_user).get("/admin/auditoria/").status_code == 403
        assert login(role_user).post("/admin/auditoria/verificar").status_code == 403


def test_deploys_are_recorded(app):
    from app.workflow.deploy import deploy_files
    from tests.workflow.diagrams import FORMS, mini

    deploy_files({"mini.bpmn": mini()}, FORMS, comment="primera")
    db.session.commit()
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "diagram_published")
                              .order_by(AuditEvent.id.desc()))
    assert event.details["proceso"] == "mini" and event.details["comentario"] == "primera"
