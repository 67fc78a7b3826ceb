"""The set-up commands that `make run` uses: each can run twice and leaves the data it promises."""
from app.audit.models import AuditEvent
from app.auth.models import User
from app.cases.models import Case
from app.extensions import db
from devtools.demo import demo_command


def test_demo_creates_users_and_cases_once_and_prints_working_credentials(app, tmp_path):
    runner = app.test_cli_runner()
    first = runner.invoke(demo_command)
    assert first.exit_code == 0, first.output
    db.session.expire_all()
    cases = db.session.scalar(db.select(db.func.count(Case.id)))
    assert cases == 6 and db.session.scalar(db.select(User).where(User.username == "consul.tap")) is not None
    second = runner.invoke(demo_command)
    assert second.exit_code == 0 and db.session.scalar(db.select(db.func.count(Case.id))) == cases
    # the test users already exist with their own passwords: the demo must not print a wrong one
    assert "(contraseña ya cambiada)" in first.output
    credentials = dict(line.split() for line in (tmp_path / "demo_credentials.txt").read_text().splitlines())
    assert credentials["admin"] not in first.output
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(AuditEvent.hash.is_(None))) == 0


def test_deploy_and_keys_commands_are_idempotent(app):
    runner = app.test_cli_runner()
    assert "unchanged" in runner.invoke(args=["siproc", "deploy"]).output
    assert runner.invoke(args=["siproc", "keys", "rotate", "--plaintext-only"]).exit_code == 0
    assert runner.invoke(args=["siproc", "audit", "verify"]).exit_code == 0
