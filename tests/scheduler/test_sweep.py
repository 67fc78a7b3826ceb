"""The sweep: due timers only, exactly once (two schedulers, interrupted sweeps), reminders, deadlines,
escalations, failures with back-off, e-mail through a real SMTP server, the bell and the admin page."""
import threading
from datetime import timedelta
from unittest import mock

import pytest

from app.auth.models import User
from app.cases.models import Case
from app.core import clock
from app.extensions import db
from app.notifications.models import Notification
from app.scheduler.models import SchedulerLease, SweepRun, TimerFailure
from app.scheduler.sweep import run_sweep
from app.workflow import services as workflow
from app.workflow.deploy import deploy_files
from app.workflow.models import Timer, WorkflowInstance
from tests.conftest import flashes
from tests.helpers import ATENCION, EVALUACION_SIN_REMISION, register_case, single_open_task, submit
from tests.workflow.diagrams import FORMS, boundary_timer_diagram


def at_follow_up(login, **overrides):
    """A case whose 'Seguimiento' is pending (its weekly reminder timer armed), worked by oficial.tap."""
    officer = login("oficial.tap")
    instance = register_case(officer, **overrides)
    submit(officer, single_open_task(instance_id=instance.id), EVALUACION_SIN_REMISION)
    submit(officer, single_open_task(instance_id=instance.id), ATENCION)
    return db.session.get(WorkflowInstance, instance.id)


def notices(kind=None, username=None):
    db.session.expire_all()
    query = db.select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    if username:
        query = query.join(User, Notification.user_id == User.id).where(User.username == username)
    return db.session.scalars(query).all()


def test_reminder_after_seven_days_overdue_notice_and_escalation_after_fourteen(login):
    instance = at_follow_up(login)
    follow_up = single_open_task(instance_id=instance.id)
    clock.travel(timedelta(days=6, hours=23))
    assert run_sweep().fired == 0 and notices() == []  # nothing early

    clock.travel(timedelta(hours=2))  # 7 days: the reminder timer fires; the follow-up's P7D deadline passes
    result = run_sweep()
    assert result.fired == 1
    reminder, = notices("recordatorio", "oficial.tap")
    assert reminder.human_task_id == follow_up.id and reminder.link == f"/tareas/{follow_up.id}"
    assert [n.kind for n in notices(username="oficial.tap")] == ["recordatorio", "vencida"]
    assert notices("escalamiento") == []

    assert run_sweep().fired == 0 and len(notices()) == 2  # same day: never a second notice
    clock.travel(timedelta(days=6, hours=22))  # day 13: a new day's overdue notice, still no escalation
    run_sweep()
    assert len(notices("vencida")) == 2 and notices("escalamiento") == []
    clock.travel(timedelta(hours=3))  # day 14: a second weekly reminder, and the supervisors are told
    run_sweep()
    assert len(notices("recordatorio")) == 2
    assert [n.user.username for n in notices("escalamiento")] == ["consul.tap"]


def test_a_duration_timer_reminds_once(app, login, users):
    """The same rule with a non-interrupting "P7D" instead of a weekly cycle."""
    from pathlib import Path

    files = {p.name: p.read_bytes() for p in Path(app.config["BPMN_DIR"]).glob("*.bpmn")}
    import re

    files["proteccion_consular.bpmn"], replaced = re.subn(  # the follow-up reminder's cycle (issue 17: from data)
        rb'<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">[^<]*</bpmn:timeCycle>',
        b'<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P7D"</bpmn:timeDuration>',
        files["proteccion_consular.bpmn"])
    assert replaced == 1
    from app.formschema import read_forms_dir

    deploy_files(files, read_forms_dir(app.config["FORMS_DIR"]))
    db.session.commit()
    at_follow_up(login)
    clock.travel(timedelta(days=7, minutes=5))
    assert run_sweep().fired == 1 and len(notices("recordatorio")) == 1
    clock.travel(timedelta(days=7, minutes=5))
    assert run_sweep().fired == 0 and len(notices("recordatorio")) == 1
    assert db.session.scalar(db.select(db.func.count(Timer.id))) == 0


def test_only_due_instances_are_loaded(login):
    first = at_follow_up(login)
    clock.travel(timedelta(days=3))
    at_follow_up(login, dni="0801199012345", nombres="Otra", primer_apellido="Persona", fecha_nacimiento="1970-01-01")
    clock.travel(timedelta(days=4, minutes=5))  # only the first one's timer is due
    with mock.patch.object(workflow, "load_workflow", wraps=workflow.load_workflow) as loads:
        assert run_sweep().fired == 1
    assert [call.args[0].id for call in loads.call_args_list] == [first.id]


def test_two_schedulers_at_once_fire_each_timer_once(app, login):
    at_follow_up(login)
    at_follow_up(login, dni="0801199012345", nombres="Otra", primer_apellido="Persona", fecha_nacimiento="1970-01-01")
    db.session.commit()
    clock.travel(timedelta(days=7, minutes=5))
    results, barrier = [], threading.Barrier(2)

    def scheduler(name):
        with app.app_context():
            barrier.wait()
            results.append(run_sweep(holder=name))
            db.session.remove()

    threads = [threading.Thread(target=scheduler, args=(f"scheduler-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.fired for r in results) == 2
    assert len(notices("recordatorio")) == 2 and len(notices("vencida")) == 2
    assert db.session.get(SchedulerLease, "sweep").holder is None  # released


def test_an_interrupted_sweep_never_fires_a_timer_twice(login):
    at_follow_up(login)
    at_follow_up(login, dni="0801199012345", nombres="Otra", primer_apellido="Persona", fecha_nacimiento="1970-01-01")
    clock.travel(timedelta(days=7, minutes=5))

    def crash(_instance_id):
        raise KeyboardInterrupt("the scheduler process was stopped")

    with pytest.raises(KeyboardInterrupt):
        run_sweep(after_instance=crash)
    assert len(notices("recordatorio")) == 1  # the first instance fired and was committed
    assert db.session.get(SchedulerLease, "sweep").holder is None
    assert run_sweep().fired == 1  # only the second one is left
    assert len(notices("recordatorio")) == 2
    assert run_sweep().fired == 0


def test_a_crashed_sweep_lease_expires(app, login):
    at_follow_up(login)
    db.session.add(SchedulerLease(name="sweep", holder="dead-process", expires_at=clock.now() + timedelta(minutes=5)))
    db.session.commit()
    clock.travel(timedelta(days=7, minutes=5))  # long after its lease ran out
    assert run_sweep().fired == 1


def test_other_sweeps_wait_while_the_lease_is_held(login):
    at_follow_up(login)
    clock.travel(timedelta(days=7, minutes=5))
    db.session.add(SchedulerLease(name="sweep", holder="other", expires_at=clock.now() + timedelta(minutes=5)))
    db.session.commit()
    assert run_sweep().skipped and notices() == []




def failing_diagram():
    """A user task with a one-hour reminder whose path runs a script that fails."""
    return boundary_timer_diagram("falla", "resultado = 1 / (len(hoy()) - 10)")


def test_a_failing_instance_is_recorded_retried_with_back_off_and_does_not_stop_the_others(login, users):
    deploy_files({"falla.bpmn": failing_diagram()}, FORMS)
    officer = users["oficial.tap"]
    broken = workflow.start_instance(workflow.latest_version("falla"), officer.office_id, officer.id)
    db.session.commit()
    healthy = at_follow_up(login)
    clock.travel(timedelta(days=7, minutes=5))
    result = run_sweep()
    assert (result.fired, result.failed) == (1, 1)  # the healthy case still got its reminder
    failure = db.session.scalar(db.select(TimerFailure))
    assert failure.instance_id == broken.id and failure.attempts == 1 and "Calcular" in failure.error
    assert clock.as_utc(failure.next_retry_at) - clock.now() <= timedelta(minutes=1)
    assert run_sweep().failed == 0  # waiting for its back-off: not tried again at once
    clock.travel(timedelta(minutes=2))
    assert run_sweep().failed == 1
    db.session.expire_all()
    assert failure.attempts == 2 and clock.as_utc(failure.next_retry_at) - clock.now() > timedelta(minutes=1)
    assert len(notices("recordatorio")) >= 1 and healthy.id != broken.id

    admin = login("admin")
    page = admin.get("/admin/planificador/").get_data(as_text=True)
    assert "Calcular" in page and "2 intentos" in page
    admin.post(f"/admin/planificador/fallos/{failure.id}/reintentar")
    db.session.expire_all()
    assert clock.as_utc(failure.next_retry_at) <= clock.now()
    for username in ("oficial.tap", "consul.tap", "analista", "gestor"):
        assert login(username).get("/admin/planificador/").status_code == 403
        assert login(username).post("/admin/planificador/barrer").status_code == 403




def test_notices_are_emailed_in_spanish_with_case_task_and_link_but_no_personal_data(login, users, smtp_server):
    users["oficial.tap"].email = "ana.reyes@consulado.example"
    db.session.commit()
    instance = at_follow_up(login)
    case = db.session.get(Case, instance.case_id)
    task = single_open_task(instance_id=instance.id)
    clock.travel(timedelta(days=7, minutes=5))
    result = run_sweep()
    assert result.emails == 2 and len(smtp_server.messages) == 2
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["ana.reyes@consulado.example"]
    text = envelope.content.decode("utf-8", errors="replace")
    import email

    message = email.message_from_bytes(envelope.content)
    body = message.get_payload(decode=True).decode("utf-8")
    assert case.number in message["Subject"] and "Seguimiento" in message["Subject"]
    assert f"https://siproc.example/tareas/{task.id}" in body and "no contiene datos personales" in body
    for personal in ("José", "Hernández", "0501", "Retenido", case.person.full_name):
        assert personal not in body and personal not in text
    assert {n.email_status for n in notices(username="oficial.tap")} == {"enviado"}
    assert {n.email_status for n in notices(username="consul.tap")} <= {"sin_correo"}


def test_an_unreachable_mail_server_keeps_notices_pending(app, login, users):
    users["oficial.tap"].email = "ana.reyes@consulado.example"
    db.session.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9)  # nothing listens there
    at_follow_up(login)
    clock.travel(timedelta(days=7, minutes=5))
    assert run_sweep().emails == 0
    assert {n.email_status for n in notices(username="oficial.tap")} == {"pendiente"}


def test_the_bell_lists_marks_read_and_leads_to_the_task(login):
    instance = at_follow_up(login)
    clock.travel(timedelta(days=7, minutes=5))
    run_sweep()
    officer = login("oficial.tap")
    page = officer.get("/tareas/").get_data(as_text=True)
    assert 'data-testid="unread-count">2<' in page
    listing = officer.get("/avisos/").get_data(as_text=True)
    assert listing.count('data-testid="notice"') == 2 and "Recordatorio" in listing
    reminder = notices("recordatorio")[0]
    response = officer.post(f"/avisos/{reminder.id}/leido", data={"abrir": "1"})
    assert response.headers["Location"].endswith(f"/tareas/{reminder.human_task_id}")
    assert 'data-testid="unread-count">1<' in officer.get("/tareas/").get_data(as_text=True)
    other = login("consul.tap")
    other.post(f"/avisos/{reminder.id}/leido")  # not theirs: nothing happens
    other.post("/avisos/999999/leido")
    officer.post("/avisos/leidos", follow_redirects=True)
    assert all(n.read_at for n in notices(username="oficial.tap"))
    assert single_open_task(instance_id=instance.id).title == "Seguimiento"


def test_sweep_runs_are_recorded_and_shown(login):
    run_sweep()
    run_sweep()
    assert db.session.scalar(db.select(db.func.count(SweepRun.id))) == 2
    admin = login("admin")
    html = admin.get("/admin/planificador/").get_data(as_text=True)
    assert 'data-testid="runs"' in html
    swept = admin.post("/admin/planificador/barrer", follow_redirects=True)
    assert any("Barrida hecha" in f for f in flashes(swept.get_data(as_text=True)))
