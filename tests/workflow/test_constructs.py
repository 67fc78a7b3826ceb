"""Standard BPMN constructs a process owner draws (event sub-processes, transactions with cancellation, black-box
pools, implicit ends, untyped and manual tasks, milestones): each diagram of tests/data/constructs passes the lint
and runs to its end in the engine; what SpiffWorkflow 3.2 cannot run (compensation) is refused naming the element."""
import json
import re
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from app.core import clock
from app.formschema import read_forms_dir
from app.workflow.deploy import deploy_files
from app.workflow.engine import DiagramError, get_engine
from app.workflow.lint import lint_diagram
from app.workflow.services import latest_version

from .diagrams import FORMS

CONSTRUCTS = Path(__file__).resolve().parent.parent / "data" / "constructs"


def corpus(name: str) -> bytes:
    return (CONSTRUCTS / name).read_bytes()


class Run:
    """One instance of a corpus diagram in the engine, driven as the inbox would: complete the ready tasks."""

    def __init__(self, name):
        engine = get_engine()
        self.engine = engine
        [process] = engine.parse({name: corpus(name)})
        self.workflow = engine.new_workflow((process.key, uuid4().hex), process.spec_json)
        engine.advance(self.workflow)

    def ready(self):
        return sorted(task.info.bpmn_id for task in self.engine.ready_user_tasks(self.workflow))

    def complete(self, bpmn_id, valor=1):
        [task] = [t for t in self.engine.ready_user_tasks(self.workflow) if t.info.bpmn_id == bpmn_id]
        self.engine.complete_user_task(self.workflow, task.id, {"valor": valor})
        self.engine.advance(self.workflow)

    def wait(self, hours):
        clock.travel(timedelta(hours=hours))
        self.engine.advance(self.workflow)

    @property
    def done(self):
        return self.engine.completed_bpmn_ids(self.workflow)

    @property
    def finished(self):
        return self.engine.is_completed(self.workflow)


@pytest.mark.parametrize("name", sorted(p.name for p in CONSTRUCTS.glob("*.bpmn") if "refused" not in p.name))
def test_every_construct_of_the_corpus_passes_the_lint_and_deploys(app, name):
    assert lint_diagram(name, corpus(name), FORMS) == []
    [result] = deploy_files({name: corpus(name)}, FORMS)
    assert result.created and result.version == 1


# -- event sub-processes -----------------------------------------------------------------------------------------
def test_a_timer_event_subprocess_that_never_fires_ends_with_the_process(app):
    run = Run("esp_timer_interrupting.bpmn")
    assert run.ready() == ["Task_principal"]
    run.complete("Task_principal")
    assert run.finished and "Task_plazo" not in run.done
    assert run.engine.waiting_timers(run.workflow) == []  # no timer left armed for the scheduler


def test_an_interrupting_timer_event_subprocess_cancels_the_main_path(app):
    run = Run("esp_timer_interrupting.bpmn")
    run.wait(hours=2)
    assert run.ready() == ["Task_plazo"]  # «Atender el caso» was interrupted
    run.complete("Task_plazo")
    assert run.finished and "Task_principal" not in run.done


def test_a_non_interrupting_timer_event_subprocess_runs_beside_the_main_path(app):
    run = Run("esp_timer_non_interrupting.bpmn")
    run.wait(hours=2)
    assert run.ready() == ["Task_plazo", "Task_principal"]
    run.complete("Task_principal")
    assert not run.finished  # the process waits for its running event sub-process
    run.complete("Task_plazo")
    assert run.finished


@pytest.mark.parametrize("kind", ["signal", "escalation"])
def test_a_non_interrupting_event_subprocess_runs_beside_the_path_that_threw(app, kind):
    run = Run(f"esp_{kind}_non_interrupting.bpmn")
    run.complete("Task_principal")
    assert run.ready() == ["Task_aviso", "Task_despues"]
    run.complete("Task_despues")
    run.complete("Task_aviso")
    assert run.finished


@pytest.mark.parametrize("kind", ["signal", "escalation"])
def test_an_interrupting_event_subprocess_cancels_the_path_that_threw(app, kind):
    run = Run(f"esp_{kind}_interrupting.bpmn")
    run.complete("Task_principal")
    assert run.ready() == ["Task_aviso"]
    run.complete("Task_aviso")
    assert run.finished and "Task_despues" not in run.done


def test_an_error_from_an_embedded_subprocess_starts_the_error_event_subprocess_and_stops_the_rest(app):
    run = Run("esp_error.bpmn")
    assert run.ready() == ["Task_revisar"]  # the error sub-process does not start by itself
    run.complete("Task_revisar", valor=60)  # «documento falso»
    assert run.ready() == ["Task_denunciar"]
    run.complete("Task_denunciar")
    assert run.finished and "Task_despues" not in run.done


def test_without_the_error_the_error_event_subprocess_never_runs(app):
    run = Run("esp_error.bpmn")
    run.complete("Task_revisar", valor=10)
    assert run.ready() == ["Task_despues"]
    run.complete("Task_despues")
    assert run.finished and "Task_denunciar" not in run.done


def test_a_running_instance_with_an_event_subprocess_survives_being_stored(app):
    engine = get_engine()
    [process] = engine.parse({"e.bpmn": corpus("esp_timer_interrupting.bpmn")})
    key = (process.key, uuid4().hex)
    workflow = engine.new_workflow(key, process.spec_json)
    engine.advance(workflow)
    engine._specs.clear()  # a fresh worker: the spec and its event sub-processes come back from the stored JSON
    workflow = engine.load(key, process.spec_json, engine.dump(workflow), workflow_version())
    clock.travel(timedelta(hours=2))
    engine.advance(workflow)
    assert [t.info.bpmn_id for t in engine.ready_user_tasks(workflow)] == ["Task_plazo"]


def workflow_version():
    from app.workflow.engine import SERIALIZER_VERSION
    return SERIALIZER_VERSION


# -- transactions ------------------------------------------------------------------------------------------------
def test_a_transaction_that_completes_continues_on_its_normal_path(app):
    run = Run("transaction_cancel.bpmn")
    run.complete("Task_pago", valor=10)
    assert run.ready() == ["Task_despues"]
    run.complete("Task_despues")
    assert run.finished and "Task_anulado" not in run.done


def test_a_cancel_end_event_leaves_the_transaction_by_its_cancel_boundary_event(app):
    run = Run("transaction_cancel.bpmn")
    run.complete("Task_pago", valor=60)
    assert run.ready() == ["Task_anulado"]
    run.complete("Task_anulado")
    assert run.finished and "Cancel_pago" in run.done and "Task_despues" not in run.done


def test_compensation_is_refused_naming_each_element(app):
    with pytest.raises(DiagramError) as refused:
        deploy_files({"c.bpmn": corpus("compensation_refused.bpmn")}, FORMS)
    problems = {(e, m) for _f, e, m in refused.value.problems}
    for element in ("Comp_reserva", "Task_liberar", "Throw_compensar"):
        assert any(e == element and "la compensación no se puede ejecutar en SIPROC" in m for e, m in problems), \
            problems


# -- pools, implicit ends, plain activities -------------------------------------------------------------------------
def test_black_box_pools_and_their_message_flows_do_not_stop_the_process(app):
    run = Run("blackbox_pool.bpmn")
    run.complete("Task_remitir")
    run.complete("Task_respuesta")
    assert run.finished


def test_paths_that_end_at_an_activity_without_outgoing_flow_end_the_process(app):
    run = Run("implicit_end.bpmn")
    assert run.ready() == ["Task_aviso", "Task_registro"]
    run.complete("Task_registro")
    run.complete("Task_cerrar")  # inside the sub-process that has no outgoing flow
    assert not run.finished  # «Avisar a la familia» still runs on its own path
    run.complete("Task_aviso")
    assert run.finished


def test_an_untyped_task_and_a_manual_task_wait_for_a_person_and_a_milestone_passes(app):
    run = Run("plain_activities.bpmn")
    assert run.ready() == ["Task_nada"]
    run.complete("Task_nada")
    assert run.ready() == ["Manual_llamar"]
    run.complete("Manual_llamar")
    assert "Hito_llamada" in run.done and run.ready() == ["Task_registrar"]
    run.complete("Task_registrar")
    assert run.finished


# -- what the lint still refuses ---------------------------------------------------------------------------------
def refused(xml: bytes):
    with pytest.raises(DiagramError) as exc:
        deploy_files({"x.bpmn": xml}, FORMS)
    return [(e, m) for _f, e, m in exc.value.problems]


def test_a_truly_dead_node_is_still_refused(app):
    xml = corpus("plain_activities.bpmn").replace(b'sourceRef="Task_nada" targetRef="Manual_llamar"',
                                                  b'sourceRef="Task_nada" targetRef="Task_registrar"')
    problems = refused(xml)
    assert ("Manual_llamar", "«Llamar a la familia» no es alcanzable desde un evento de inicio") in problems
    assert ("Hito_llamada", "«Familia contactada» no es alcanzable desde un evento de inicio") in problems


def test_a_loop_without_exit_is_still_refused(app):
    xml = corpus("plain_activities.bpmn").replace(b'sourceRef="Task_registrar" targetRef="End_simple"',
                                                  b'sourceRef="Task_registrar" targetRef="Task_nada"')
    problems = refused(xml)
    assert ("Task_registrar", "desde «Registrar la llamada» no se llega a ningún evento de fin") in problems


def test_nodes_inside_a_subprocess_are_checked_within_it(app):
    xml = corpus("implicit_end.bpmn").replace(b'<bpmn:sequenceFlow id="H2" sourceRef="Task_cerrar" '
                                              b'targetRef="End_sub_impl" />', b"")
    problems = refused(xml)
    assert ("Task_cerrar", "desde «Cerrar el expediente» no se llega a ningún evento de fin") in problems
    assert ("End_sub_impl", "«End_sub_impl» no es alcanzable desde un evento de inicio") in problems


def test_an_event_subprocess_needs_a_trigger_it_can_be_started_by(app):
    xml = re.sub(rb"<bpmn:timerEventDefinition.*?</bpmn:timerEventDefinition>", b"",
                 corpus("esp_timer_interrupting.bpmn"), flags=re.S)
    assert any(e == "Start_plazo" and "debe empezar con un evento de temporizador, señal, error o escalamiento" in m
               for e, m in refused(xml))


def test_a_signal_event_subprocess_nested_in_a_subprocess_is_refused(app):
    inner = re.search(rb'    <bpmn:subProcess id="Sub_aviso".*?</bpmn:subProcess>\n',
                      corpus("esp_signal_non_interrupting.bpmn"), flags=re.S).group(0)
    xml = corpus("esp_error.bpmn").replace(b"    </bpmn:subProcess>\n", b"  " + inner + b"    </bpmn:subProcess>\n", 1)
    xml = xml.replace(b"<bpmn:process", b'<bpmn:signal id="Signal_alerta" name="alerta_interna" />\n  <bpmn:process')
    assert any(e == "Start_aviso" and "solo puede iniciarlo con un temporizador" in m for e, m in refused(xml))


def test_cancel_events_outside_a_transaction_are_refused(app):
    xml = corpus("transaction_cancel.bpmn").replace(b"<bpmn:transaction ", b"<bpmn:subProcess ").replace(
        b"</bpmn:transaction>", b"</bpmn:subProcess>")
    problems = refused(xml)
    assert ("End_cancelar", "«Pago anulado»: un evento de fin de cancelación solo puede estar dentro de una "
                            "transacción") in problems
    assert ("Cancel_pago", "«Anulado»: un evento de cancelación solo puede estar en el borde de una transacción") \
        in problems


def test_an_error_start_event_outside_an_event_subprocess_is_refused(app):
    xml = corpus("esp_error.bpmn").replace(
        b'<bpmn:startEvent id="Start_esp_error"><bpmn:outgoing>F1</bpmn:outgoing>',
        b'<bpmn:startEvent id="Start_esp_error"><bpmn:outgoing>F1</bpmn:outgoing>'
        b'<bpmn:errorEventDefinition errorRef="Error_documento" />')
    assert any(e == "Start_esp_error" and "solo puede iniciar un subproceso de evento" in m for e, m in refused(xml))


def test_a_manual_task_needs_a_lane_and_a_form_like_a_user_task(app):
    xml = corpus("plain_activities.bpmn").replace(b"<bpmn:flowNodeRef>Manual_llamar</bpmn:flowNodeRef>", b"")
    assert ("Manual_llamar", "la tarea «Llamar a la familia» no está en ningún carril (lane)") in refused(xml)


# -- the project's own process ----------------------------------------------------------------------------------
EVENT_SUBPROCESS = """
    <bpmn:subProcess id="Sub_reapertura_aviso" name="Aviso de plazo" triggeredByEvent="true">
      <bpmn:startEvent id="Start_aviso_plazo" name="Treinta días" isInterrupting="false">
        <bpmn:outgoing>Flow_aviso_1</bpmn:outgoing>
        <bpmn:timerEventDefinition id="Timer_aviso_plazo">
          <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P30D"</bpmn:timeDuration>
        </bpmn:timerEventDefinition>
      </bpmn:startEvent>
      <bpmn:scriptTask id="Script_aviso_plazo" name="Marcar el plazo">
        <bpmn:incoming>Flow_aviso_1</bpmn:incoming><bpmn:outgoing>Flow_aviso_2</bpmn:outgoing>
        <bpmn:script>plazo_vencido = True</bpmn:script>
      </bpmn:scriptTask>
      <bpmn:endEvent id="End_aviso_plazo"><bpmn:incoming>Flow_aviso_2</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="Flow_aviso_1" sourceRef="Start_aviso_plazo" targetRef="Script_aviso_plazo" />
      <bpmn:sequenceFlow id="Flow_aviso_2" sourceRef="Script_aviso_plazo" targetRef="End_aviso_plazo" />
    </bpmn:subProcess>
  </bpmn:process>"""


def test_adding_an_event_subprocess_to_the_protection_process_is_accepted(app):
    files = {p.name: p.read_bytes() for p in Path(app.config["BPMN_DIR"]).glob("*.bpmn")}
    text = files["proteccion_consular.bpmn"].decode()
    assert text.count("</bpmn:process>") == 1 and 'xmlns:xsi=' in text
    files["proteccion_consular.bpmn"] = text.replace("</bpmn:process>", EVENT_SUBPROCESS.strip(), 1).encode()
    results = {r.process_key: r for r in deploy_files(files, read_forms_dir(app.config["FORMS_DIR"]))}
    assert results["proteccion_consular"].created
    version = latest_version("proteccion_consular")
    assert "Sub_reapertura_aviso" in json.loads(version.spec_json)["event_subprocesses"]


class TextRun(Run):
    """A run of a variant of a corpus diagram, given as its text."""

    def __init__(self, xml: bytes):
        engine = get_engine()
        self.engine = engine
        [process] = engine.parse({"v.bpmn": xml})
        self.workflow = engine.new_workflow((process.key, uuid4().hex), process.spec_json)
        engine.advance(self.workflow)


def test_a_script_right_after_an_interrupting_throw_never_runs(app):
    xml = re.sub(rb'<bpmn:userTask id="Task_despues".*?</bpmn:userTask>',
                 b'<bpmn:scriptTask id="Task_despues" name="Seguir"><bpmn:incoming>F3</bpmn:incoming>'
                 b'<bpmn:outgoing>F4</bpmn:outgoing><bpmn:script>seguido = True</bpmn:script></bpmn:scriptTask>',
                 corpus("esp_signal_interrupting.bpmn"), flags=re.S)
    run = TextRun(xml)
    run.complete("Task_principal")
    assert run.ready() == ["Task_aviso"] and "Task_despues" not in run.done
    run.complete("Task_aviso")
    assert run.finished and "Task_despues" not in run.done


def test_a_repeating_timer_event_subprocess_stops_with_the_main_path_and_lets_its_tasks_finish(app):
    xml = corpus("esp_timer_non_interrupting.bpmn").replace(b'"PT1H"', b'"R/PT1H"').replace(
        b"timeDuration", b"timeCycle")
    assert lint_diagram("v.bpmn", xml, FORMS) == []
    run = TextRun(xml)
    run.wait(hours=1.1)
    run.wait(hours=1.1)
    assert run.ready() == ["Task_plazo", "Task_plazo", "Task_principal"]  # it fired twice
    run.complete("Task_principal")
    assert run.engine.waiting_timers(run.workflow) == []  # the cycle stopped with the main path
    run.wait(hours=1.1)
    assert run.ready() == ["Task_plazo", "Task_plazo"] and not run.finished
    for _ in range(2):
        [task, *_rest] = run.engine.ready_user_tasks(run.workflow)
        run.engine.complete_user_task(run.workflow, task.id, {"valor": 1})
        run.engine.advance(run.workflow)
    assert run.finished


CALLER = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D_llama" targetNamespace="x">
  <bpmn:process id="llama_aviso" name="Llama al aviso" isExecutable="true">
    <bpmn:startEvent id="Start_llama"><bpmn:outgoing>C1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="Call_aviso" name="Aviso" calledElement="esp_signal_non_interrupting">
      <bpmn:incoming>C1</bpmn:incoming><bpmn:outgoing>C2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:endEvent id="End_llama"><bpmn:incoming>C2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="C1" sourceRef="Start_llama" targetRef="Call_aviso" />
    <bpmn:sequenceFlow id="C2" sourceRef="Call_aviso" targetRef="End_llama" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_called_process_whose_signal_event_subprocess_would_never_start_is_refused(app):
    with pytest.raises(DiagramError) as exc:
        deploy_files({"llama.bpmn": CALLER, "aviso.bpmn": corpus("esp_signal_non_interrupting.bpmn")}, FORMS)
    assert ("aviso.bpmn", "Sub_aviso", "el subproceso de evento «Atender el aviso» no se iniciaría nunca: está en un "
            "proceso llamado o en un subproceso, donde SpiffWorkflow solo lo inicia con un temporizador") \
        in exc.value.problems


def test_an_untyped_task_without_a_form_is_refused_saying_a_person_completes_it(app):
    xml = re.sub(rb'(<bpmn:task id="Task_nada" name="Preparar la llamada">)\s*<bpmn:extensionElements>.*?'
                 rb'</bpmn:extensionElements>', rb"\1", corpus("plain_activities.bpmn"), flags=re.S)
    assert ("Task_nada", "la tarea «Preparar la llamada» la completa una persona en SIPROC (como una tarea de "
            "usuario): indique su carril y su formulario (formJsonSchemaFilename)") in refused(xml)
