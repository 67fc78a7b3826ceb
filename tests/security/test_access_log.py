"""The access log of a case (issue 14): supervisors of the case's office and central users see who viewed or
changed what and when, newest first; officers and other offices do not; opening it is itself audited."""
import pytest

from app.audit.models import AuditEvent
from app.extensions import db
from tests.helpers import register_case


@pytest.fixture
def case_id(login):
    officer = login("oficial.tap")
    instance = register_case(officer)
    officer.get(f"/casos/{instance.case_id}")
    return instance.case_id


def test_the_office_supervisor_sees_who_accessed_newest_first(login, case_id):
    supervisor = login("consul.tap")
    detail = supervisor.get(f"/casos/{case_id}").get_data(as_text=True)
    assert f"/casos/{case_id}/accesos" in detail  # linked from the case page
    page = supervisor.get(f"/casos/{case_id}/accesos")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Registro de accesos del caso" in html
    assert "oficial.tap" in html and "Consulta de expediente" in html and "Caso abierto" in html
    assert html.index("consul.tap") < html.index("Caso abierto")  # the supervisor's own view is the newest
    db.session.expire_all()
    row = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "access_log_viewed"))
    assert row.case_id == case_id and row.actor_name == "consul.tap" and row.hash


@pytest.mark.parametrize("username", ["analista", "admin"])
def test_central_users_see_it(login, case_id, username):
    assert login(username).get(f"/casos/{case_id}/accesos").status_code == 200


@pytest.mark.parametrize("username", ["oficial.tap", "oficial2.tap", "oficial.hou", "consul.hou"])
def test_officers_and_other_offices_are_refused(login, case_id, username):
    client = login(username)
    assert client.get(f"/casos/{case_id}/accesos").status_code == 403
    if username.endswith(".tap"):
        assert f"/casos/{case_id}/accesos" not in client.get(f"/casos/{case_id}").get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "access_log_viewed"))


def test_unknown_case_is_404(login):
    assert login("consul.tap").get("/casos/999999/accesos").status_code == 404


def test_the_log_is_paginated(app, login, case_id):
    app.config["AUDIT_ACCESS_LOG_PAGE_SIZE"] = 2
    supervisor = login("consul.tap")
    html = supervisor.get(f"/casos/{case_id}/accesos").get_data(as_text=True)
    assert "Página 1 de" in html and "pagina=2" in html
    assert supervisor.get(f"/casos/{case_id}/accesos", query_string={"pagina": 2}).status_code == 200
