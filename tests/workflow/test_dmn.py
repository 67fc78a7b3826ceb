"""DMN decision tables in business rule tasks: published with the process (snapshot and content hash), run through
the restricted interpreter within the run's budgets, linted at publish (Spanish, with the element id), and used for
real by the protection process (the risk matrix after the assessment sets the deadline of the assistance)."""
import json
import threading
import time
from datetime import timedelta
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core import clock
from app.extensions import db
from app.workflow import services as workflow
from app.workflow.deploy import deploy_files
from app.workflow.dmn import MAX_COLUMNS, MAX_RULES, lint_decision
from app.workflow.engine import DiagramError, Engine, EngineError, get_engine
from app.workflow.lint import lint_diagram
from app.workflow.models import ProcessVersion, WorkflowInstance
from tests.helpers import EVALUACION_SIN_REMISION, register_case, single_open_task, submit
from tests.workflow.diagrams import FORMS

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def table(rules, inputs=(("edad", "Edad"),), outputs=("categoria",), hit="UNIQUE", decision="tabla_prueba",
          extra=""):
    """A DMN 1.3 document with one decision table; rules are (input entries, output entries) tuples."""
    columns = "".join(f'<input id="In_{i}" label="{label}"><inputExpression id="IE_{i}"><text>{expression}</text>'
                      f'</inputExpression></input>' for i, (expression, label) in enumerate(inputs))
    columns += "".join(f'<output id="Out_{i}" label="{name}" name="{name}" />' for i, name in enumerate(outputs))
    body = ""
    for r, (ins, outs) in enumerate(rules):
        body += f'<rule id="Rule_{r}">'
        body += "".join(f'<inputEntry id="R{r}_I{i}"><text>{text}</text></inputEntry>' for i, text in enumerate(ins))
        body += "".join(f'<outputEntry id="R{r}_O{i}"><text>{text}</text></outputEntry>' for i, text in enumerate(outs))
        body += "</rule>"
    return (f'<?xml version="1.0" encoding="UTF-8"?><definitions xmlns="{DMN13}" id="Defs_{decision}" '
            f'name="{decision}" namespace="http://siproc.test"><decision id="{decision}" name="Tabla de prueba">'
            f'<decisionTable id="DT_{decision}" hitPolicy="{hit}" {extra}>{columns}{body}</decisionTable></decision>'
            f'</definitions>')


AGE_TABLE = table([(["&lt; 18"], ['"menor"']), (["&gt;= 65"], ['"mayor"']), (["-"], ['"adulto"'])])


def diagram(key="decide", decision="tabla_prueba", script="edad = 20", before_task=False):
    """Start -> script (the inputs) -> business rule task -> user task -> end; or, with before_task, a user task
    first (so an instance can wait before the decision runs)."""
    first = ('<bpmn:userTask id="Antes" name="Antes"><bpmn:extensionElements><spiffworkflow:properties>'
             '<spiffworkflow:property name="formJsonSchemaFilename" value="mini.json" /></spiffworkflow:properties>'
             '</bpmn:extensionElements><bpmn:incoming>F0</bpmn:incoming><bpmn:outgoing>F1</bpmn:outgoing>'
             '</bpmn:userTask>') if before_task else ""
    start_target = "Antes" if before_task else "X"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D_{key}" targetNamespace="x">
  <bpmn:process id="{key}" name="Proceso {key}" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L" name="Oficial consular">
      <bpmn:flowNodeRef>S</bpmn:flowNodeRef><bpmn:flowNodeRef>X</bpmn:flowNodeRef><bpmn:flowNodeRef>R</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>T</bpmn:flowNodeRef><bpmn:flowNodeRef>E</bpmn:flowNodeRef>
      {'<bpmn:flowNodeRef>Antes</bpmn:flowNodeRef>' if before_task else ''}
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S"><bpmn:outgoing>F0</bpmn:outgoing></bpmn:startEvent>
    {first}
    <bpmn:scriptTask id="X" name="Preparar"><bpmn:incoming>{'F1' if before_task else 'F0'}</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:businessRuleTask id="R" name="Decidir"><bpmn:extensionElements>
      <spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId></bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:userTask id="T" name="Revisar"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="mini.json" /></spiffworkflow:properties>
      </bpmn:extensionElements><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="{start_target}" />
    {'<bpmn:sequenceFlow id="F1" sourceRef="Antes" targetRef="X" />' if before_task else ''}
    <bpmn:sequenceFlow id="F2" sourceRef="X" targetRef="R" />
    <bpmn:sequenceFlow id="F3" sourceRef="R" targetRef="T" /><bpmn:sequenceFlow id="F4" sourceRef="T" targetRef="E" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def run_to_user_task(version, engine=None):
    """A new workflow of the version, run up to its user task; the data that task sees."""
    engine = engine or get_engine()
    wf = engine.new_workflow(version.cache_key, lambda: version.spec_json)
    engine.advance(wf)
    return engine.ready_user_tasks(wf)[0].data


def deployed(script="edad = 20", dmn=AGE_TABLE, key="decide", decision="tabla_prueba"):
    deploy_files({f"{key}.bpmn": diagram(key, decision, script=script)}, FORMS, decisions={"prueba.dmn": dmn})
    db.session.commit()
    return workflow.latest_version(key)


def problems_of(dmn, script="edad = 20"):
    return lint_diagram("decide.bpmn", diagram(script=script), FORMS, {"prueba.dmn": dmn})


# -- running ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("age", "expected"), [(10, "menor"), (40, "adulto"), (70, "mayor")])
def test_a_decision_table_sets_its_output_in_the_case_data(app, age, expected):
    version = deployed(script=f"edad = {age}")
    assert run_to_user_task(version)["categoria"] == expected


def test_the_stored_spec_round_trips_the_table_a_version_reloaded_from_the_database_runs(app):
    version_id = deployed(script="edad = 70").id
    db.session.expire_all()
    version = db.session.get(ProcessVersion, version_id)
    stored = json.loads(version.spec_json)["spec"]["task_specs"]["R"]
    assert stored["decision_table"]["hit_policy"] == "UNIQUE" and len(stored["decision_table"]["rules"]) == 3
    assert json.loads(version.decisions_json) == {"prueba.dmn": AGE_TABLE}
    fresh = Engine()  # no cache: the spec is restored from the stored JSON
    assert run_to_user_task(version, fresh)["categoria"] == "mayor"


def test_collect_gives_every_matching_output_and_first_the_first(app):
    rules = [(['"salud" in ?'], ['"hospital"']), (['"legal" in ?'], ['"abogado"']), (["-"], ['"consulado"'])]
    inputs = (("necesidades", "Necesidades"),)
    collect = deployed(script='necesidades = ["salud", "legal"]', key="colecta",
                       dmn=table(rules, inputs=inputs, outputs=("apoyo",), hit="COLLECT"))
    assert run_to_user_task(collect)["apoyo"] == ["hospital", "abogado", "consulado"]
    first = deployed(script='necesidades = ["legal"]', key="primera",
                     dmn=table(rules, inputs=inputs, outputs=("apoyo",), hit="FIRST", decision="otra_tabla"),
                     decision="otra_tabla")
    assert run_to_user_task(first)["apoyo"] == "abogado"


def test_an_entry_that_is_not_an_expression_is_joined_to_its_input_with_a_space(app):
    """SpiffWorkflow writes `nivel` + `in [...]` as `nivelin [...]`; SIPROC keeps them apart."""
    dmn = table([(['in ["alto", "critico"]'], ['"urgente"']), (["-"], ['"normal"'])], inputs=(("nivel", "Nivel"),),
                outputs=("prioridad",))
    assert run_to_user_task(deployed(script='nivel = "critico"', dmn=dmn))["prioridad"] == "urgente"


def test_a_changed_table_is_a_new_version_and_the_hash_covers_it(app):
    first = deployed()
    again = deploy_files({"decide.bpmn": diagram()}, FORMS, decisions={"prueba.dmn": AGE_TABLE})
    assert not again[0].created
    changed = AGE_TABLE.replace('"adulto"', '"persona adulta"')
    result = deploy_files({"decide.bpmn": diagram()}, FORMS, decisions={"prueba.dmn": changed})[0]
    assert result.created and result.version == first.version + 1
    newer = workflow.latest_version("decide")
    assert newer.content_hash != first.content_hash
    assert run_to_user_task(first)["categoria"] == "adulto"  # the old version keeps its table
    assert run_to_user_task(newer)["categoria"] == "persona adulta"


# -- lint at publish -------------------------------------------------------------------------------------------
def test_the_project_risk_matrix_is_clean_and_published_with_the_protection_process(app):
    from pathlib import Path

    text = (Path(app.config["BPMN_DIR"]).parent / "dmn" / "riesgo.dmn").read_text()
    assert lint_decision("riesgo.dmn", text) == []
    version = workflow.latest_version("proteccion_consular")
    assert list(json.loads(version.decisions_json)) == ["riesgo.dmn"]


@pytest.mark.parametrize(("dmn", "element", "expected"), [
    (table([(["-"], ['"x"'])], hit="RULE ORDER"), "DT_tabla_prueba", "«RULE ORDER»"),
    (table([(["-"], ['"x"'])], hit="PRIORITY"), "DT_tabla_prueba", "admitidas: UNIQUE, FIRST, COLLECT"),
    (table([(["-"], ["1"])], hit="COLLECT", extra='aggregation="SUM"'), "DT_tabla_prueba", "agregación «SUM»"),
    (table([(["?.__class__"], ['"x"'])]), "Rule_0", "__class__"),
    (table([([".__class__.__base__"], ['"x"'])]), "Rule_0", "__class__"),
    (table([(["-"], ['__import__("os").system("id")'])]), "Rule_0", "__import__"),
    (table([(["-"], ['"x"'])], inputs=(("edad.__class__", "Edad"),)), "In_0", "__class__"),
    (table([(["-"], ['"x"'])], inputs=(("", "Edad"),)), "In_0", "no indica su expresión"),
    (table([(["-"], ['"x"'])], outputs=("a.b",)), "Out_0", "nombre de variable"),
    (table([(["-", "-"], ['"x"'])]), "Rule_0", "celdas de entrada"),
    (table([(["[" * 100 + "1" + "]" * 100], ['"x"'])]), "Rule_0", "niveles de anidación"),
    (table([(["? ? ? ? ? ? ? ? ?"], ['"x"'])]), "Rule_0", "más de 8 veces"),
])
def test_a_table_sipoc_cannot_run_safely_is_refused_with_the_element(dmn, element, expected):
    problems = lint_decision("prueba.dmn", dmn)
    assert any(e == element and expected in m for e, m in problems), problems


def test_size_budgets_rules_columns_and_file(app):
    many_rules = table([([f"{i}"], ['"x"']) for i in range(MAX_RULES + 1)])
    assert any(f"el máximo es {MAX_RULES}" in m for _e, m in lint_decision("prueba.dmn", many_rules))
    wide = table([], inputs=[(f"c{i}", f"C{i}") for i in range(MAX_COLUMNS)], outputs=("a",))
    assert any(f"el máximo es {MAX_COLUMNS}" in m for _e, m in lint_decision("prueba.dmn", wide))
    huge = table([(["-"], ['"' + "x" * 900 + '"'])] * 1200)
    assert any("supera 1 MB" in m for _e, m in lint_decision("prueba.dmn", huge))


def test_the_lint_refuses_not_xml_doctype_and_other_files():
    assert lint_decision("prueba.dmn", "<definitions")[0][1].startswith("XML mal formado")
    doctype = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><definitions xmlns="' + DMN13 + '"/>'
    assert "DOCTYPE" in lint_decision("prueba.dmn", doctype)[0][1]
    assert "no es una tabla de decisión DMN" in lint_decision("prueba.dmn", "<definitions/>")[0][1]
    assert "Nombre de archivo no válido" in lint_decision("../prueba.dmn", AGE_TABLE)[0][1]


def test_a_diagram_calling_a_missing_decision_or_none_is_refused_at_publish_with_the_task(app):
    problems = lint_diagram("decide.bpmn", diagram(decision="no_existe"), FORMS, {"prueba.dmn": AGE_TABLE})
    assert ("decide.bpmn", "R", "La tabla de decisión «no_existe» de la tarea «Decidir» no existe (disponibles: "
            "tabla_prueba).") in problems
    with pytest.raises(DiagramError) as refused:
        deploy_files({"decide.bpmn": diagram(decision="")}, FORMS, decisions={"prueba.dmn": AGE_TABLE})
    assert any(e == "R" and "calledDecisionId" in m for _f, e, m in refused.value.problems)


def test_a_table_with_problems_refuses_the_diagram_naming_the_task_and_the_cell(app):
    bad = table([(["?.__class__"], ['"x"'])])
    with pytest.raises(DiagramError) as refused:
        deploy_files({"decide.bpmn": diagram()}, FORMS, decisions={"prueba.dmn": bad})
    assert any(e == "R" and "prueba.dmn (Rule_0)" in m and "__class__" in m for _f, e, m in refused.value.problems)
    assert workflow.latest_version("decide") is None


def test_inputs_must_be_defined_by_the_diagram(app):
    dmn = table([(["-"], ['"x"'])], inputs=(("ingresos", "Ingresos"),))
    problems = problems_of(dmn)
    assert ("decide.bpmn", "R", "La entrada In_0 de prueba.dmn lee «ingresos», que ningún formulario, script ni "
            "tabla de decisión de este diagrama define.") in problems
    assert not [p for p in problems_of(dmn, script="ingresos = 5") if p[1] == "R"]
    assert not [p for p in problems_of(table([(["-"], ['"x"'])], inputs=(("valor", "V"),))) if p[1] == "R"]


def test_a_form_field_the_form_keeps_from_the_process_is_named(app):
    forms = {**FORMS, "mini.json": json.dumps({"type": "object", "x-siproc-workflow-fields": [],
                                               "properties": {"valor": {"type": "integer"}}})}
    dmn = table([(["-"], ['"x"'])], inputs=(("valor", "V"),))
    problems = lint_diagram("decide.bpmn", diagram(script="otra = 1"), forms, {"prueba.dmn": dmn})
    assert any(e == "R" and "x-siproc-workflow-fields" in m and "«valor»" in m for _f, e, m in problems), problems


# -- budgets at run time ---------------------------------------------------------------------------------------
LOOPING = table([(["-"], ["sum(1 for i in range(n) for j in range(n))"])], inputs=(("n", "N"),), outputs=("total",))


def test_a_rule_that_loops_is_stopped_by_the_budget_with_a_spanish_message(app):
    version = deployed(script="n = 5000", dmn=LOOPING)
    engine = get_engine()
    wf = engine.new_workflow(version.cache_key, lambda: version.spec_json)
    started = time.perf_counter()
    with pytest.raises(EngineError) as stopped:
        engine.advance(wf)
    assert time.perf_counter() - started < 3
    assert "superó" in str(stopped.value) and "Decidir" in str(stopped.value)


def test_a_long_table_is_stopped_by_the_run_deadline_between_cells(app):
    """Each cell is cheap, so no single evaluation hits its own budget; the run's deadline still ends it."""
    app.config["DIAGRAM_RUN_MS"] = 30
    rules = [([f"len([j for j in range(n)]) == {-i - 1}"], ['"x"']) for i in range(MAX_RULES)]
    version = deployed(script="n = 3000", dmn=table(rules, inputs=(("n", "N"),), outputs=("nada",)))
    engine = get_engine()
    wf = engine.new_workflow(version.cache_key, lambda: version.spec_json)
    with pytest.raises(EngineError) as stopped:
        engine.advance(wf)
    assert "tiempo máximo" in str(stopped.value)


def test_the_dmn_engine_checks_the_run_deadline_before_every_cell():
    """A cell cheaper than the interpreter's own time check (every 64 steps) still cannot outrun the run."""
    from dataclasses import replace

    from app.workflow.dmn import BudgetedDMNEngine
    from app.workflow.language.limits import DEFAULT_LIMITS, BudgetExceeded, engine_run

    with engine_run(replace(DEFAULT_LIMITS, run_seconds=0.0)), pytest.raises(BudgetExceeded) as stopped:
        BudgetedDMNEngine(None).evaluate("edad", "1", task=None)  # refused before the task is even looked at
    assert "tabla de decisión superó el tiempo máximo" in stopped.value.message


def test_a_looping_table_at_case_start_ends_within_budget_saves_nothing_and_others_are_served(app, login):
    deploy_files({"bucle.bpmn": diagram("bucle", script="n = 5000")}, FORMS, decisions={"prueba.dmn": LOOPING})
    db.session.commit()
    attacker, colleague = login("oficial.tap"), login("oficial.hou")
    before = db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance))
    outcome = {}

    def run_poisoned():
        response = attacker.post("/casos/nuevo", data={"proceso": "bucle"})
        outcome.update(status=response.status_code, body=response.get_data(as_text=True))

    thread = threading.Thread(target=run_poisoned)
    thread.start()
    served = []
    while thread.is_alive() or not served:
        served.append(colleague.get("/tareas/").status_code)
    thread.join(10)
    assert outcome["status"] == 400 and "superó" in outcome["body"] and "Decidir" in outcome["body"], outcome
    assert set(served) == {200}
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkflowInstance)) == before


# -- the protection process ------------------------------------------------------------------------------------
ALTO = {"necesidades": ["proteccion_internacional"], "nivel_riesgo": "bajo", "requiere_remision": "no"}


def attention_days(instance):
    """Days the «Atención brindada» task of the instance is given: its deadline comes from the risk matrix."""
    task = single_open_task(instance_id=instance.id)
    assert task.title == "Atención brindada"
    return round((clock.as_utc(task.due_at) - clock.as_utc(task.created_at)).total_seconds() / 86400)


@pytest.mark.parametrize(("answers", "expected"), [
    (ALTO, "alto"),
    ({"necesidades": ["documentacion"], "nivel_riesgo": "critico", "requiere_remision": "no"}, "alto"),
    ({"necesidades": ["documentacion", "alojamiento", "alimentacion"], "nivel_riesgo": "bajo",
      "requiere_remision": "no"}, "medio"),
    (EVALUACION_SIN_REMISION, "bajo"),
])
def test_the_risk_matrix_rates_the_assessment_and_sets_the_attention_deadline_through_http(app, login, answers,
                                                                                            expected):
    """After the assessment, the business rule task rates the risk; a high risk gives the officer 2 days for the
    assistance instead of 5, and after 3 days the inbox shows it overdue."""
    officer = login("oficial.tap")
    instance = register_case(officer)
    submit(officer, single_open_task(instance_id=instance.id), answers)
    db.session.expire_all()
    assert db.session.get(WorkflowInstance, instance.id).error_message is None
    engine = get_engine()
    stored = db.session.get(WorkflowInstance, instance.id)
    wf = engine.load(stored.process_version.cache_key, lambda: stored.process_version.spec_json, stored.state_json,
                     stored.serializer_version)
    assert engine.ready_user_tasks(wf)[0].data["riesgo_sugerido"] == expected
    assert attention_days(instance) == (2 if expected == "alto" else 5)
    task = single_open_task(instance_id=instance.id)
    clock.travel(timedelta(days=3))
    officer = login("oficial.tap")  # three idle days ended the session
    overdue = officer.get("/tareas/", query_string={"vista": "vencidas"}).get_data(as_text=True)
    assert (f'href="/tareas/{task.id}"' in overdue) == (expected == "alto")


# -- fuzzed cells: the lint answers with problems, never with an exception -------------------------------------
CELL = st.one_of(st.text(max_size=60), st.sampled_from(["?", "-", "in [", ".__class__", "? > ?", "'", '"', "]",
                                                        "lambda: 1", "import os", "1 if", "\\", "&amp;"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=CELL, output=CELL, expression=CELL, hit=st.sampled_from(["UNIQUE", "FIRST", "COLLECT", "ANY", ""]))
def test_the_lint_never_raises_on_fuzzed_cells(entry, output, expression, hit):
    dmn = table([([escape(entry)], [escape(output)])], inputs=((escape(expression), "E"),), hit=hit)
    problems = lint_decision("prueba.dmn", dmn)
    assert all(isinstance(m, str) and m for _e, m in problems)
