"""SpiffWorkflow's English messages reach process owners in Spanish, with the element id the editor marks; a
non-executable process says so instead of validating; `del` is called `del`."""
import re

import pytest
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import WorkflowException

from app.workflow import messages
from app.workflow.engine import DiagramError, get_engine
from app.workflow.language.checker import check
from tests.workflow.diagrams import mini

ENGLISH = re.compile(r"\b(the|was|not found|must|specify|Did you mean|process|is not|found)\b")


def _process(body, key="p_msg", executable="true"):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D_{key}"
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" name="{key}" isExecutable="{executable}">{body}</bpmn:process>
</bpmn:definitions>""".encode()


CALLS_MISSING = """
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="Call_perdido" name="Llamar" calledElement="no_existe">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Call_perdido" />
    <bpmn:sequenceFlow id="F2" sourceRef="Call_perdido" targetRef="E" />"""

MULTI_WITHOUT_INPUT = """
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Task_multi" name="Varias veces"><bpmn:incoming>F1</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics isSequential="true" />
      <bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Task_multi" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_multi" targetRef="E" />"""


def _engine_problems(data, name="m.bpmn"):
    with pytest.raises(DiagramError) as refused:
        get_engine().parse({name: data})
    return refused.value.problems


def test_a_missing_called_process_is_spanish_and_marks_the_call_activity(app):
    with app.test_request_context():
        [(filename, element, message)] = _engine_problems(_process(CALLS_MISSING))
    assert (filename, element) == ("m.bpmn", "Call_perdido")
    assert message.startswith("El proceso «no_existe» no existe. ¿Quiso decir: p_msg?")
    assert "Did you mean" not in message


def test_a_multiinstance_without_cardinality_is_spanish_with_its_element(app):
    with app.test_request_context():
        [(_, element, message)] = _engine_problems(_process(MULTI_WITHOUT_INPUT))
    assert element == "Task_multi"
    assert message.startswith("Una tarea multiinstancia debe indicar una cardinalidad (loopCardinality)")


def test_a_schema_error_from_the_parser_is_spanish_with_its_line(app):
    broken = _process('<bpmn:startEvent id="S"><bpmn:noSuchThing /></bpmn:startEvent>')
    with app.test_request_context():
        problems = _engine_problems(broken)
    assert [(f, e) for f, e, _ in problems] == [("m.bpmn", "S")]  # the element on the error's line
    message = problems[0][2]
    assert message.startswith("El elemento «noSuchThing» no cumple el esquema BPMN 2.0: este elemento no se admite en "
                              "esta posición (se esperaba: documentation, extensionElements")
    assert "{http" not in message and "(línea " in message


@pytest.mark.parametrize("english, spanish", [
    ("Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}startEvent', attribute 'foo': The attribute 'foo' is "
     "not allowed.", "El elemento «startEvent» no cumple el esquema BPMN 2.0: el atributo «foo» no está permitido"),
    ("Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}sequenceFlow': The attribute 'targetRef' is required but "
     "missing.", "El elemento «sequenceFlow» no cumple el esquema BPMN 2.0: falta el atributo obligatorio «targetRef»"),
    ("Element '{x}startEvent', attribute 'id': '1abc' is not a valid value of the atomic type 'xs:ID'.",
     "«1abc» no es un valor válido (tipo xs:ID)"),
])
def test_schema_messages_are_translated(app, english, spanish):
    with app.test_request_context():
        assert spanish in messages.translate(english)


@pytest.mark.parametrize("english, spanish", [
    ("The process 'x' was not found. Did you mean one of the following: a, b?",
     "El proceso «x» no existe. ¿Quiso decir: a, b?"),
    ("The process 'x' was not found. Did you mean one of the following: ?", "El proceso «x» no existe."),
    ("A multiinstance task must specify exactly one of cardinality or loop input data reference",
     "Una tarea multiinstancia debe indicar solo una de las dos"),
    ("No start event found", "El proceso no tiene evento de inicio."),
    ("Process p is not executable.", "El proceso «p» no es ejecutable"),
    ("Duplicate process ID: p", "El identificador de proceso «p» está repetido."),
    ("Non-default exclusive outgoing sequence flow without condition", "no tiene condición"),
    ("Cancel Events may only be used with transactions", "solo pueden usarse en transacciones"),
    ('No "calledElement" attribute for Call Activity.', "calledElement"),
    ("A Service Task must have an operator", "conector"),
    ("Multiple decision tables are not current supported.", "varias tablas de decisión"),
    ("The called process 'hijo' was not found.", "El proceso llamado «hijo» no existe."),
    ("No conditions satisfied on gateway", "Ninguna condición de la compuerta se cumple"),
    ("Time Specification Error. bad value", "El temporizador no es válido: bad value"),
    ('No DMN Diagram available with id "riesgo_x", Available DMN ids are: [\'riesgo\']',
     "La tabla de decisión «riesgo_x» no existe (tablas disponibles: 'riesgo')"),
])
def test_known_messages_are_translated(app, english, spanish):
    with app.test_request_context():
        text = messages.translate(english)
    assert spanish in text
    assert "not found" not in text and "must" not in text and "Did you" not in text


def test_an_unknown_message_keeps_its_words_after_a_spanish_prefix(app):
    with app.test_request_context():
        assert messages.translate("Something new went wrong") == \
            "El motor de procesos rechazó el diagrama: Something new went wrong"


def test_a_validation_exception_uses_its_first_argument_not_the_notes(app):
    exc = ValidationException("No start event found")
    exc.add_note("extra english note")
    with app.test_request_context():
        assert messages.validation_message(exc) == "El proceso no tiene evento de inicio."


def test_a_run_time_engine_message_names_the_element(app):
    class Spec:
        bpmn_id, bpmn_name = "Gateway_1", "¿Remitir?"

    exc = WorkflowException("No conditions satisfied for Gateway_1", task_spec=Spec())
    from app.workflow.engine import _engine_message

    with app.test_request_context():
        text = _engine_message(exc)
    assert text == ("error del diagrama en «¿Remitir?» (Gateway_1): Ninguna condición de la compuerta se cumple y no "
                    "tiene flujo por defecto.")


def test_deleting_is_named_del_in_refusals():
    assert check("del x.y", "exec")  # refused, and no message mentions the syntax tree's name
    assert not any("Delete" in p for p in check("del x.y", "exec"))
    from app.workflow.language.checker import NAMES
    from app.workflow.language.interpreter import STATEMENT_WORDS

    assert NAMES["Delete"] == "del" and STATEMENT_WORDS["Delete"] == "del"
    # the interpreter itself, handed a statement it has no rule for, names it as Python writes it
    import ast

    from app.workflow.language.interpreter import Run
    from app.workflow.language.limits import DEFAULT_LIMITS, DiagramCodeError

    with pytest.raises(DiagramCodeError) as refused:
        Run(DEFAULT_LIMITS, {}, {}).exec_block(ast.parse("import os").body)
    assert refused.value.message == "la instrucción «import» no está permitida"


# -- through HTTP: the editor -------------------------------------------------------------------------------
@pytest.fixture
def gestor(login):
    return login("gestor")


def _draft(client, key, data: bytes, name):
    from io import BytesIO

    response = client.post("/procesos/subir", data={"archivo": (BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_the_editor_shows_a_missing_called_process_in_spanish_on_its_element(gestor):
    xml = mini().decode().replace('id="mini"', 'id="mini_llama"').replace(
        '<bpmn:scriptTask id="Script_b" name="Calcular">', '<bpmn:callActivity id="Script_b" name="Calcular" '
        'calledElement="proceso_que_no_existe">').replace(
        "<bpmn:script>doble = valor * 2</bpmn:script>\n    </bpmn:scriptTask>", "</bpmn:callActivity>")
    _draft(gestor, "mini_llama", xml.encode(), "mini_llama.bpmn")
    body = gestor.post("/procesos/mini_llama/validar", json={"xml": xml}).get_json()
    spanish = [p for p in body["problems"] if "proceso_que_no_existe" in p["message"]]
    assert spanish, body
    assert any(p["element"] == "Script_b" and p["message"].startswith("El proceso «proceso_que_no_existe» no existe")
               for p in spanish), spanish
    assert not any(ENGLISH.search(p["message"]) and "Did you mean" in p["message"] for p in body["problems"])


def test_a_non_executable_process_does_not_validate_and_publishing_says_why(gestor):
    from app.extensions import db
    from app.workflow.models import ProcessVersion

    xml = mini().decode().replace('id="mini"', 'id="mini_noexec"').replace('isExecutable="true"',
                                                                             'isExecutable="false"')
    _draft(gestor, "mini_noexec", xml.encode(), "mini_noexec.bpmn")
    body = gestor.post("/procesos/mini_noexec/validar", json={"xml": xml}).get_json()
    assert body["message"] == "El diagrama tiene problemas."
    assert {"file": "mini_noexec.bpmn", "element": "mini_noexec",
            "message": 'El proceso «mini_noexec» no es ejecutable (isExecutable="false"): el motor no lo ejecuta y '
                       'no se publicaría. Márquelo como ejecutable (isExecutable="true").'} in body["problems"]
    response = gestor.post("/procesos/mini_noexec/publicar", json={"xml": xml})
    assert response.status_code == 422
    assert response.get_json()["message"].startswith("No se publicó: el proceso no es ejecutable")
    assert db.session.scalar(db.select(ProcessVersion).where(ProcessVersion.process_key == "mini_noexec")) is None


def test_publishing_an_unchanged_diagram_says_which_version_it_equals(gestor):
    from app.extensions import db
    from app.workflow.models import ProcessVersion

    xml = gestor.get("/procesos/proteccion_consular/borrador.bpmn").get_data(as_text=True)
    before = db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion))
    body = gestor.post("/procesos/proteccion_consular/publicar", json={"xml": xml}).get_json()
    assert body["ok"] and body["version"] == 1
    assert re.fullmatch(r"Sin cambios: el diagrama y sus formularios son idénticos a la versión 1 publicada el "
                        r"\d\d/\d\d/\d{4} \d\d:\d\d; no se guardó una versión nueva\.", body["message"]), body
    assert db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion)) == before


# -- called processes: not startable on their own, whatever the order of publication -------------------------
def _publish_new(client, key, xml):
    _draft(client, key, xml.encode(), f"{key}.bpmn")
    body = client.post(f"/procesos/{key}/publicar", json={"xml": xml}).get_json()
    assert body["ok"], body
    return body


def test_a_process_published_before_its_caller_stops_being_startable(gestor, login):
    from pathlib import Path

    from app.extensions import db
    from app.workflow.models import ProcessVersion

    gestor.post("/formularios/nuevo", data={"nombre": "mini.json"})
    mini_form = (Path(__file__).resolve().parents[1] / "data" / "forms" / "mini.json").read_text()
    assert gestor.post("/formularios/mini.json", data={"texto": mini_form}).status_code == 302
    callee = mini().decode().replace('id="mini"', 'id="hijo_llamado"').replace('name="Mini"', 'name="Hijo"')
    _publish_new(gestor, "hijo_llamado", callee)
    officer = login("oficial.tap")
    assert 'value="hijo_llamado"' in officer.get("/casos/nuevo").get_data(as_text=True)  # alone: startable

    caller = mini().decode().replace('id="mini"', 'id="padre_llama"').replace('name="Mini"', 'name="Padre"').replace(
        "Task_a", "Task_padre").replace(
        '<bpmn:scriptTask id="Script_b" name="Calcular">', '<bpmn:callActivity id="Script_b" name="Llamar al hijo" '
        'calledElement="hijo_llamado">').replace(
        "<bpmn:script>doble = valor * 2</bpmn:script>\n    </bpmn:scriptTask>", "</bpmn:callActivity>")
    _publish_new(gestor, "padre_llama", caller)
    db.session.expire_all()
    callee_versions = db.session.scalars(db.select(ProcessVersion).where(
        ProcessVersion.process_key == "hijo_llamado")).all()
    assert [v.is_startable for v in callee_versions] == [False]  # the same version, no longer startable
    page = officer.get("/casos/nuevo").get_data(as_text=True)
    assert 'value="padre_llama"' in page and 'value="hijo_llamado"' not in page
    before = db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion))
    officer.post("/casos/nuevo", data={"proceso": "hijo_llamado"})
    from app.workflow.models import WorkflowInstance

    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance).join(ProcessVersion).where(
        ProcessVersion.process_key == "hijo_llamado")) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion)) == before
    listing = gestor.get("/procesos/").get_data(as_text=True)
    assert "subproceso" in listing.split('data-testid="process-hijo_llamado"')[1].split("</tr>")[0]
