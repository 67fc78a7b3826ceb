"""The keyed, anchored audit chain (issue 14): HMAC under a key outside the database, a signed anchor line after
every seal, and `verify` failing for each way an insider with database access rewrites the trail."""
import hashlib
import hmac
import os
import stat

import pytest
import sqlalchemy as sa

from app.audit import anchor, keys
from app.audit.models import GENESIS, KEYED_MARKER, AuditEvent
from app.audit.services import record, seal_pending, verify_chain
from app.extensions import db


def _drop_triggers():
    """What an attacker with database access does first (the triggers refuse DELETE and UPDATE of sealed rows)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events"))
    else:
        db.session.execute(sa.text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        db.session.execute(sa.text("DROP TRIGGER IF EXISTS audit_events_seal_only"))
    db.session.commit()


def _trail(n=5):
    for i in range(n):
        record("export", details={"n": i})
        db.session.commit()
        seal_pending()
    return db.session.scalars(db.select(AuditEvent.id).order_by(AuditEvent.id)).all()


def _recompute(key):
    """Rewrite every hash as an attacker would: plain SHA-256 (key None) or HMAC with a guessed key."""
    last = GENESIS
    db.session.expire_all()
    for event in db.session.scalars(db.select(AuditEvent).where(AuditEvent.hash.is_not(None)).order_by(AuditEvent.id)):
        event.prev_hash = last
        event.hash = last = event.compute_hash(last, key)
    db.session.commit()


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["siproc", "audit", *args])


def test_every_seal_appends_a_signed_anchor_line_and_the_key_is_private(app, tmp_path):
    app.config["AUDIT_HMAC_KEY"] = None  # the suite shares one configured key; here the instance generates its own
    ids = _trail(3)
    path = tmp_path / "audit_anchor.log"
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    latest = anchor.parse(lines[-1])
    last = db.session.get(AuditEvent, ids[-1])
    assert latest.last_id == last.id and latest.last_hash == last.hash and latest.count == len(ids)
    assert stat.S_IMODE(os.stat(tmp_path / "audit_key").st_mode) == 0o600
    # HMAC, not plain SHA-256: the hash cannot be recomputed from the database alone
    assert last.hash != hashlib.sha256((last.prev_hash + "\n" + last.content()).encode()).hexdigest()
    assert last.hash == hmac.new(keys.chain_key(), (last.prev_hash + "\n" + last.content()).encode(),
                                 hashlib.sha256).hexdigest()
    assert db.session.scalar(db.select(AuditEvent.action).order_by(AuditEvent.id)) == KEYED_MARKER
    result = _cli(app, "verify")
    assert result.exit_code == 0 and "Cadena íntegra" in result.output


def test_anchor_path_and_key_are_configurable(template_db, tmp_path):
    from tests.conftest import clone_db, make_app

    target = tmp_path / "fuera" / "ancla.log"
    other = make_app(clone_db(template_db, tmp_path), tmp_path / "inst", AUDIT_ANCHOR_PATH=str(target),
                     AUDIT_HMAC_KEY="una-clave-larga-de-prueba-0123456789")
    with other.app_context():
        _trail(2)
        assert target.exists() and not (tmp_path / "inst" / "audit_key").exists()
        assert verify_chain().ok
        other.extensions.pop("siproc_audit_key")
        other.config["AUDIT_HMAC_KEY"] = "otra-clave"  # a different key does not verify the chain
        assert not verify_chain().ok
        db.session.remove()
        db.engine.dispose()


def test_truncating_the_tail_is_detected(app):
    ids = _trail(5)
    _drop_triggers()
    db.session.execute(sa.text("DELETE FROM audit_events WHERE id >= :id"), {"id": ids[-2]})
    db.session.commit()
    report = verify_chain()
    assert any("registra" in p for p in report.problems) and any("no existe" in p for p in report.problems)
    result = _cli(app, "verify")
    assert result.exit_code == 1 and "alterada" in result.output


def test_deleting_every_row_is_detected(app):
    _trail(3)
    _drop_triggers()
    db.session.execute(sa.text("DELETE FROM audit_events"))
    db.session.commit()
    result = _cli(app, "verify")
    assert "checked 0 sealed rows" in result.output
    assert result.exit_code == 1 and "ancla: registra" in result.output


@pytest.mark.parametrize("key", [None, b"clave adivinada"], ids=["sha256", "guessed-key"])
def test_an_edit_a_deletion_and_a_recomputed_chain_are_detected(app, key):
    ids = _trail(5)
    _drop_triggers()
    db.session.execute(sa.text("UPDATE audit_events SET details_json = '{\"n\": 99}' WHERE id = :id"), {"id": ids[2]})
    db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[3]})
    db.session.commit()
    _recompute(key)
    report = verify_chain()
    assert any("modificada" in p for p in report.problems)  # the rows' HMAC under the real key
    assert any("cadena recalculada" in p for p in report.problems)  # and the anchor
    assert _cli(app, "verify").exit_code == 1


def test_moving_the_cut_over_and_recomputing_with_sha256_is_caught_by_the_anchor(app):
    """The cleverest rewrite: turn the marker into an ordinary row and add an unsealed marker at the end, so that
    every row verifies as a legacy SHA-256 row. Row by row the chain is then consistent; the anchor is not."""
    ids = _trail(4)
    _drop_triggers()
    db.session.execute(sa.text("UPDATE audit_events SET action = 'export' WHERE action = :m"), {"m": KEYED_MARKER})
    db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[2]})
    db.session.commit()
    _recompute(None)
    record(KEYED_MARKER)
    db.session.commit()
    report = verify_chain()
    assert not any(p.startswith("fila") for p in report.problems)  # the rows alone look fine...
    assert any("cadena recalculada" in p for p in report.problems) and not report.ok  # ...the anchor does not


def test_a_row_deleted_in_the_middle_is_detected(app):
    ids = _trail(5)
    _drop_triggers()
    db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[2]})
    db.session.commit()
    report = verify_chain()
    assert any("borrada" in p for p in report.problems) and any("registra" in p for p in report.problems)


def test_an_edited_anchor_line_is_detected(app, tmp_path):
    _trail(3)
    path = tmp_path / "audit_anchor.log"
    lines = path.read_text().splitlines()
    parts = lines[-1].split("\t")
    parts[2] = str(int(parts[2]) - 1)  # hide one row
    path.write_text("\n".join([*lines[:-1], "\t".join(parts)]) + "\n")
    report = verify_chain()
    assert any("línea 3: firma no válida" in p for p in report.problems)
    assert _cli(app, "verify").exit_code == 1


def test_a_deleted_anchor_file_with_keyed_rows_is_detected(app, tmp_path):
    _trail(2)
    (tmp_path / "audit_anchor.log").unlink()
    assert any("no hay ancla" in p for p in verify_chain().problems)


def test_verify_against_an_external_copy_of_the_anchor(app, tmp_path):
    _trail(3)
    copy = tmp_path / "copia.log"
    copy.write_text((tmp_path / "audit_anchor.log").read_text())
    _drop_triggers()
    db.session.execute(sa.text("DELETE FROM audit_events WHERE id = (SELECT MAX(id) FROM audit_events)"))
    db.session.commit()
    (tmp_path / "audit_anchor.log").write_text("")  # the local anchor emptied too
    result = _cli(app, "verify", "--ancla", str(copy))
    assert result.exit_code == 1 and "no existe" in result.output


def test_mail_anchor_sends_the_latest_line(app, monkeypatch):
    sent = []

    class FakeSMTP:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message)

    monkeypatch.setattr("app.core.mail.connection", lambda config: FakeSMTP())
    _trail(2)
    assert "Nada enviado" in _cli(app, "mail-anchor").output
    app.config.update(AUDIT_ANCHOR_EMAIL="direccion@example.org", MAIL_SERVER="smtp.example.org")
    result = _cli(app, "mail-anchor")
    assert result.exit_code == 0 and len(sent) == 1 and sent[0]["To"] == "direccion@example.org"
    assert anchor.read_all().latest.line().strip() in sent[0].get_content()


def test_cut_over_from_the_plain_sha256_release(tmp_path):
    """A deployment of the first release: rows sealed with plain SHA-256 (and one recorded, not yet sealed) before
    the migration keep verifying with SHA-256; the marker and every later row are sealed with the key."""
    from flask_migrate import upgrade

    from tests.conftest import make_app

    app = make_app(tmp_path / "old.db", tmp_path / "instance")
    with app.app_context():
        upgrade(revision="e14a00000001")
        last = GENESIS
        for i in range(3):
            event = record("export", details={"antes": i})
            db.session.flush()
            event.prev_hash, event.hash = last, event.compute_hash(last, None)  # the first release's seal
            last = event.hash
        db.session.commit()
        record("export", details={"sin_sellar": True})
        db.session.commit()
        upgrade()
        record("export", details={"despues": True})
        db.session.commit()
        assert seal_pending() == 3
        rows = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
        marker = next(r for r in rows if r.action == KEYED_MARKER)
        assert [r.id < marker.id for r in rows] == [True] * 4 + [False] * 2
        assert rows[3].hash == rows[3].compute_hash(rows[3].prev_hash, None)  # legacy scheme before the marker
        assert rows[-1].hash == rows[-1].compute_hash(rows[-1].prev_hash, keys.chain_key())
        report = verify_chain()
        assert report.ok and report.checked == 6, report.problems
        _drop_triggers()
        db.session.execute(sa.text("UPDATE audit_events SET details_json = '{}' WHERE id = :id"), {"id": rows[1].id})
        db.session.commit()
        assert any(f"fila {rows[1].id}" in p for p in verify_chain().problems)
        db.session.remove()
        db.engine.dispose()
