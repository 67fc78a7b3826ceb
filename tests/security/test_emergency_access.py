"""Break-glass: an officer of another office reads a case for two hours after stating why; the case's
supervisors are told at once; it is audited, read-only, visible on the case page, ends by itself, can be
ended early, and can be turned off."""
from datetime import timedelta

import pytest

from app.audit.models import AuditEvent
from app.cases.emergency import EmergencyAccess
from app.cases.models import Case
from app.core import clock
from app.extensions import db
from app.notifications.models import Notification
from tests.conftest import flashes
from tests.helpers import register_case

REASON = "La persona está hospitalizada en Houston y el hospital pide su identidad ya."


@pytest.fixture
def tap_case(login):
    instance = register_case(login("oficial.tap"))
    db.session.expire_all()
    return db.session.get(Case, instance.case_id)


def ask(client, case, reason=REASON):
    return client.post("/casos/emergencia", data={"numero": case.number, "motivo": reason})


def count(model, *where):
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def test_an_officer_of_another_office_opens_a_case_read_only_and_the_office_is_told(login, tap_case):
    houston = login("oficial.hou")
    assert houston.get(f"/casos/{tap_case.id}").status_code == 403
    response = ask(houston, tap_case)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/casos/{tap_case.id}")
    page = houston.get(f"/casos/{tap_case.id}")
    assert page.status_code == 200
    assert 'data-testid="emergency-banner"' in page.get_data(as_text=True)
    assert houston.get(f"/casos/{tap_case.id}/persona").status_code == 403  # the person form edits: not theirs
    assert houston.post(f"/casos/{tap_case.id}/notas", data={"texto": "intento"}).status_code in (403, 404)

    notice, = db.session.scalars(db.select(Notification).where(Notification.kind == "emergencia")).all()
    assert notice.user.username == "consul.tap" and REASON in notice.body and tap_case.number in notice.title
    granted, = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "emergency_access_granted")).all()
    assert granted.case_id == tap_case.id and granted.actor_name == "oficial.hou"
    assert REASON not in granted.details_json  # the reason stays encrypted with the grant

    supervisor_page = login("consul.tap").get(f"/casos/{tap_case.id}").get_data(as_text=True)
    assert 'data-testid="emergency-accesses"' in supervisor_page and REASON in supervisor_page
    officer_page = login("oficial.tap").get(f"/casos/{tap_case.id}").get_data(as_text=True)
    assert 'data-testid="emergency-accesses"' not in officer_page  # supervisors and central users only


def test_the_access_ends_by_itself_after_two_hours(login, tap_case):
    houston = login("oficial.hou")
    ask(houston, tap_case)
    clock.travel(timedelta(hours=1, minutes=59))
    assert login("oficial.hou").get(f"/casos/{tap_case.id}").status_code == 200  # a new session: idle expiry
    clock.travel(timedelta(minutes=2))
    assert login("oficial.hou").get(f"/casos/{tap_case.id}").status_code == 403


def test_the_holder_or_the_office_supervisor_can_end_it_early(login, tap_case):
    houston = login("oficial.hou")
    ask(houston, tap_case)
    access = db.session.scalar(db.select(EmergencyAccess))
    assert login("oficial2.tap").post(f"/casos/emergencia/{access.id}/terminar").status_code == 403
    login("consul.tap").post(f"/casos/emergencia/{access.id}/terminar")
    assert houston.get(f"/casos/{tap_case.id}").status_code == 403
    assert count(AuditEvent, AuditEvent.action == "emergency_access_ended") == 1


@pytest.mark.parametrize("reason", ["", "urgente", "x" * 1001])
def test_a_missing_short_or_huge_reason_is_refused_and_nothing_is_granted(login, tap_case, reason):
    houston = login("oficial.hou")
    response = ask(houston, tap_case, reason)
    assert response.status_code == 400
    assert any("motivo" in f for f in flashes(response.get_data(as_text=True)))
    assert count(EmergencyAccess) == 0 and count(Notification, Notification.kind == "emergencia") == 0
    assert houston.get(f"/casos/{tap_case.id}").status_code == 403


def test_an_unknown_number_is_refused(login):
    response = login("oficial.hou").post("/casos/emergencia", data={"numero": "NO-EXISTE", "motivo": REASON})
    assert response.status_code == 404 and count(EmergencyAccess) == 0


@pytest.mark.parametrize("username", ["analista", "gestor", "admin"])
def test_roles_that_do_not_work_cases_cannot_ask(login, tap_case, username):
    assert login(username).post("/casos/emergencia", data={"numero": tap_case.number,
                                                           "motivo": REASON}).status_code == 403
    assert count(EmergencyAccess) == 0


def test_it_can_be_turned_off(app, login, tap_case):
    app.config["EMERGENCY_ACCESS_ENABLED"] = False
    houston = login("oficial.hou")
    assert houston.get("/casos/emergencia").status_code == 403
    assert ask(houston, tap_case).status_code == 403
    assert houston.get(f"/casos/{tap_case.id}").status_code == 403


def test_an_access_granted_before_it_was_turned_off_stops_working(app, login, tap_case):
    houston = login("oficial.hou")
    ask(houston, tap_case)
    app.config["EMERGENCY_ACCESS_ENABLED"] = False
    assert houston.get(f"/casos/{tap_case.id}").status_code == 403
