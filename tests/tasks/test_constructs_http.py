"""The construct corpus (tests/data/constructs) as a process owner and an officer meet it over HTTP: the diagram is
uploaded and published in the editor, a case is started from «Nuevo caso», and every task is completed in the
inbox until the process ends; timers fire through the scheduler's sweep."""
import io
from datetime import timedelta
from pathlib import Path

import pytest

from app.core import clock
from app.extensions import db
from app.modeler.models import ProcessDraft
from app.workflow.models import HumanTask, ProcessVersion, WorkflowInstance
from tests.helpers import open_tasks, submit
from tests.workflow.diagrams import FORMS

CONSTRUCTS = Path(__file__).resolve().parent.parent / "data" / "constructs"


@pytest.fixture
def gestor(login):
    client = login("gestor")
    assert client.post("/formularios/nuevo", data={"nombre": "mini"}).status_code == 302
    response = client.post("/formularios/mini.json", data={"texto": FORMS["mini.json"]})
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def officer(login):
    return login("oficial.tap")


def publish(gestor, name) -> str:
    """Upload a corpus file as a new process and publish it from the editor; returns its process key."""
    data = (CONSTRUCTS / name).read_bytes()
    response = gestor.post("/procesos/subir", data={"archivo": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    key = db.session.scalar(db.select(ProcessDraft.process_key).where(ProcessDraft.bpmn_xml == data.decode()))
    response = gestor.post(f"/procesos/{key}/publicar", json={"xml": data.decode()})
    body = response.get_json()
    assert (response.status_code, body["version"]) == (200, 1), body
    return key


def start(officer, key) -> WorkflowInstance:
    response = officer.post("/casos/nuevo", data={"proceso": key})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    task_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    return db.session.get(HumanTask, task_id).instance


def titles(instance):
    return sorted(task.task_spec for task in open_tasks(instance_id=instance.id))


def work(officer, instance, bpmn_id, valor=1):
    [task] = [t for t in open_tasks(instance_id=instance.id) if t.task_spec == bpmn_id]
    submit(officer, task, {"valor": str(valor)})


def status(instance):
    db.session.expire_all()
    return db.session.get(WorkflowInstance, instance.id).status


def sweep():
    from app.scheduler.sweep import run_sweep

    run_sweep()
    db.session.commit()


# (corpus file, [(tasks open before the step, the task completed and its value)], tasks that must never have run)
PATHS = [
    ("esp_signal_non_interrupting.bpmn", [(["Task_principal"], "Task_principal", 1),
                                          (["Task_aviso", "Task_despues"], "Task_despues", 1),
                                          (["Task_aviso"], "Task_aviso", 1)], []),
    ("esp_signal_interrupting.bpmn", [(["Task_principal"], "Task_principal", 1),
                                      (["Task_aviso"], "Task_aviso", 1)], ["Task_despues"]),
    ("esp_escalation_non_interrupting.bpmn", [(["Task_principal"], "Task_principal", 1),
                                              (["Task_aviso", "Task_despues"], "Task_aviso", 1),
                                              (["Task_despues"], "Task_despues", 1)], []),
    ("esp_escalation_interrupting.bpmn", [(["Task_principal"], "Task_principal", 1),
                                          (["Task_aviso"], "Task_aviso", 1)], ["Task_despues"]),
    ("esp_error.bpmn", [(["Task_revisar"], "Task_revisar", 60), (["Task_denunciar"], "Task_denunciar", 1)],
     ["Task_despues"]),
    ("esp_timer_interrupting.bpmn", [(["Task_principal"], "Task_principal", 1)], ["Task_plazo"]),
    ("transaction_cancel.bpmn", [(["Task_pago"], "Task_pago", 60), (["Task_anulado"], "Task_anulado", 1)],
     ["Task_despues"]),
    ("transaction_cancel.bpmn", [(["Task_pago"], "Task_pago", 10), (["Task_despues"], "Task_despues", 1)],
     ["Task_anulado"]),
    ("blackbox_pool.bpmn", [(["Task_remitir"], "Task_remitir", 1), (["Task_respuesta"], "Task_respuesta", 1)], []),
    ("implicit_end.bpmn", [(["Task_aviso", "Task_registro"], "Task_registro", 1),
                           (["Task_aviso", "Task_cerrar"], "Task_cerrar", 1), (["Task_aviso"], "Task_aviso", 1)], []),
    ("plain_activities.bpmn", [(["Task_nada"], "Task_nada", 1), (["Manual_llamar"], "Manual_llamar", 1),
                               (["Task_registrar"], "Task_registrar", 1)], []),
]


@pytest.mark.parametrize("name,steps,never", PATHS, ids=[f"{p[0]}-{i}" for i, p in enumerate(PATHS)])
def test_a_published_construct_runs_to_its_end_through_the_inbox(gestor, officer, name, steps, never):
    key = publish(gestor, name)
    instance = start(officer, key)
    for expected, bpmn_id, valor in steps:
        assert titles(instance) == expected
        assert status(instance) == "running"
        work(officer, instance, bpmn_id, valor)
    assert titles(instance) == [] and status(instance) == "completed"
    ran = set(db.session.scalars(db.select(HumanTask.task_spec).where(HumanTask.instance_id == instance.id,
                                                                     HumanTask.outcome == "completed")))
    assert not ran & set(never)


def test_an_interrupting_timer_event_subprocess_fires_through_the_scheduler(gestor, officer, login):
    instance = start(officer, publish(gestor, "esp_timer_interrupting.bpmn"))
    db.session.commit()
    clock.travel(timedelta(hours=2))
    sweep()
    officer = login("oficial.tap")  # two hours later: a new session
    assert titles(instance) == ["Task_plazo"]
    cancelled = db.session.scalar(db.select(HumanTask.outcome).where(HumanTask.instance_id == instance.id,
                                                                      HumanTask.task_spec == "Task_principal"))
    assert cancelled == "cancelled"  # the interrupted task left the inbox
    work(officer, instance, "Task_plazo")
    assert status(instance) == "completed"


def test_a_non_interrupting_timer_event_subprocess_adds_a_task_through_the_scheduler(gestor, officer, login):
    instance = start(officer, publish(gestor, "esp_timer_non_interrupting.bpmn"))
    db.session.commit()
    clock.travel(timedelta(hours=2))
    sweep()
    officer = login("oficial.tap")  # two hours later: a new session
    assert titles(instance) == ["Task_plazo", "Task_principal"]
    work(officer, instance, "Task_principal")
    assert status(instance) == "running"
    work(officer, instance, "Task_plazo")
    assert status(instance) == "completed"


def test_compensation_is_refused_at_publish_in_spanish_naming_the_elements(gestor):
    data = (CONSTRUCTS / "compensation_refused.bpmn").read_bytes()
    response = gestor.post("/procesos/subir", data={"archivo": (io.BytesIO(data), "c.bpmn")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    before = db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion))
    response = gestor.post("/procesos/compensacion/publicar", json={"xml": data.decode()})
    body = response.get_json()
    assert response.status_code == 422 and not body["ok"]
    marked = {p["element"] for p in body["problems"] if "la compensación no se puede ejecutar" in p["message"]}
    assert marked >= {"Comp_reserva", "Task_liberar", "Throw_compensar"}, body["problems"]
    assert db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion)) == before
