"""The follow-up's «próxima fecha» drives its reminder (issue 17, part 6): the timer of «Seguimiento» is computed from
the task data (a timeCycle expression with instante_local()), not a fixed cycle; without a date the configured
default applies (FOLLOW_UP_REMINDER_DEFAULT); a date before today in the office's zone is refused."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.cases.models import FollowUp
from app.core import clock
from app.extensions import db
from app.scheduler.sweep import run_sweep
from app.workflow.language.interpreter import run_expression
from app.workflow.language.limits import DiagramCodeError, Limits
from app.workflow.models import HumanTask, Timer
from tests.conftest import flashes
from tests.helpers import ATENCION, EVALUACION_SIN_REMISION, register_case, single_open_task, snapshot, submit
from tests.scheduler.test_sweep import notices

TAPACHULA = ZoneInfo("America/Mexico_City")


def _local_today():
    return clock.now().astimezone(TAPACHULA).date()


def _at_follow_up(officer):
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_SIN_REMISION)
    submit(officer, single_open_task(instance_id=instance.id), ATENCION)
    task = single_open_task(instance_id=instance.id)
    assert task.title == "Seguimiento"
    return instance, task


def _follow_up(next_on=None, again=True):
    data = {"fecha_seguimiento": _local_today().isoformat(), "metodo": "llamada",
            "resultado_seguimiento": "Sigue en la estación migratoria, sin novedad.",
            "continuar_seguimiento": "si" if again else "no"}
    if next_on is not None:
        data["proxima_fecha"] = next_on.isoformat()
    return data


def _timer(instance_id):
    db.session.expire_all()
    return db.session.scalar(db.select(Timer).where(Timer.instance_id == instance_id))


def test_the_typed_date_drives_the_reminder_and_not_before(login, users):
    officer = login("oficial.tap")
    instance, task = _at_follow_up(officer)
    next_on = _local_today() + timedelta(days=12)
    submit(officer, task, _follow_up(next_on))
    follow_up = db.session.scalar(db.select(FollowUp))
    assert follow_up.next_on == next_on

    second = single_open_task(instance_id=instance.id)
    assert second.title == "Seguimiento" and second.id != task.id
    due = datetime.combine(next_on, time(9), tzinfo=TAPACHULA)  # 9:00 in the office's zone
    assert clock.as_utc(_timer(instance.id).due_at) == due
    assert clock.as_utc(second.due_at) == due  # the task's deadline follows the same date

    clock.travel(due - clock.now() - timedelta(minutes=5))  # five minutes before: the default 7 days passed long ago
    assert run_sweep().fired == 0 and notices("recordatorio") == []
    clock.travel(timedelta(minutes=10))
    assert run_sweep().fired == 1
    reminder, = notices("recordatorio", "oficial.tap")
    assert reminder.human_task_id == second.id
    # then again after the configured default, from the typed date
    assert clock.as_utc(_timer(instance.id).due_at) == due + timedelta(days=7)


def test_without_a_date_the_configured_default_applies(app, login):
    app.config["FOLLOW_UP_REMINDER_DEFAULT"] = "P3D"
    officer = login("oficial.tap")
    instance, task = _at_follow_up(officer)
    start = clock.now()
    submit(officer, task, _follow_up(None))
    due = clock.as_utc(_timer(instance.id).due_at)
    assert timedelta(days=3) <= due - start < timedelta(days=3, minutes=1)
    clock.travel(timedelta(days=2, hours=23))
    assert run_sweep().fired == 0 and notices("recordatorio") == []
    clock.travel(timedelta(hours=1, minutes=5))
    assert run_sweep().fired == 1 and len(notices("recordatorio", "oficial.tap")) == 1


def test_the_first_follow_up_reminds_after_the_default(login):
    """Before any follow-up there is no date: the reminder comes after the default (7 days)."""
    officer = login("oficial.tap")
    instance, _task = _at_follow_up(officer)
    due = clock.as_utc(_timer(instance.id).due_at)
    assert timedelta(days=7) - timedelta(minutes=1) < due - clock.now() <= timedelta(days=7)


def test_a_follow_up_date_in_the_past_is_refused_and_nothing_is_saved(login):
    officer = login("oficial.tap")
    instance, task = _at_follow_up(officer)
    before = (snapshot(FollowUp), snapshot(HumanTask), snapshot(Timer))
    response = submit(officer, task, _follow_up(_local_today() - timedelta(days=1)), expect=422)
    assert "La próxima fecha de seguimiento ya pasó: escriba hoy o una fecha futura." in " ".join(
        flashes(response.get_data(as_text=True))) + response.get_data(as_text=True)
    assert (snapshot(FollowUp), snapshot(HumanTask), snapshot(Timer)) == before
    # today (in the office's zone) is accepted
    submit(officer, task, _follow_up(_local_today()))
    assert db.session.scalar(db.select(FollowUp.next_on)) == _local_today()


@pytest.mark.parametrize("expression,expected", [
    ('instante_local("2026-12-10", "America/Mexico_City")', "2026-12-10T09:00:00-06:00"),
    ('instante_local("2026-07-01", "Europe/Madrid", 8)', "2026-07-01T08:00:00+02:00"),
])
def test_instante_local(expression, expected):
    assert run_expression_text(expression) == expected


@pytest.mark.parametrize("expression", [
    'instante_local("2026-12-10", "../../etc/passwd")', 'instante_local("2026-12-10", "Marte/Olimpo")',
    'instante_local("10/12/2026", "America/Mexico_City")', 'instante_local("2026-12-10", "America/Mexico_City", 25)',
])
def test_instante_local_refuses_bad_values(expression):
    with pytest.raises(DiagramCodeError):
        run_expression_text(expression)


def run_expression_text(expression):
    from app.workflow.language.checker import parsed

    limits = Limits()
    return run_expression(parsed(expression, "eval", limits), {}, None, limits)


def test_today_is_the_office_s_today_not_utc(login):
    """At 21:00 in Tapachula it is already tomorrow in UTC: the office's today is still accepted."""
    now = clock.now()
    evening = datetime.combine(now.astimezone(TAPACHULA).date() + timedelta(days=1), time(21), tzinfo=TAPACHULA)
    clock.travel(evening - now)
    assert clock.now().astimezone(TAPACHULA).date() < clock.now().date()  # UTC is a day ahead
    officer = login("oficial.tap")
    _instance, task = _at_follow_up(officer)
    submit(officer, task, _follow_up(_local_today()))
    assert db.session.scalar(db.select(FollowUp.next_on)) == _local_today()
