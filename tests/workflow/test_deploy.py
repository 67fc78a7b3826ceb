"""Deploying diagrams: versions by content hash, hardened parsing, the project's lint rules."""
import re
from pathlib import Path

import pytest

from app.extensions import db
from app.formschema import read_forms_dir
from app.workflow.deploy import deploy_directory, deploy_files
from app.workflow.engine import DiagramError
from app.workflow.models import ProcessVersion, WorkflowInstance
from app.workflow.services import latest_version, start_instance

from .diagrams import FORMS, mini


def versions(key):
    return db.session.scalars(db.select(ProcessVersion.version).where(ProcessVersion.process_key == key)
                              .order_by(ProcessVersion.version)).all()


def test_unchanged_file_is_not_reversioned(app):
    assert versions("proteccion_consular") == [1]
    results = deploy_directory(app.config["BPMN_DIR"], app.config["FORMS_DIR"])
    assert sorted((r.process_key, r.version, r.created) for r in results) == [
        (key, 1, False) for key in ("busqueda_persona", "nna_no_acompanado", "privacion_libertad",
                                    "proteccion_consular", "repatriacion_restos")]
    assert versions("proteccion_consular") == [1]


def test_changed_file_becomes_new_version_and_running_instances_keep_theirs(app, users):
    deploy_files({"mini.bpmn": mini("Primera versión")}, FORMS)
    v1 = latest_version("mini")
    running = start_instance(v1, users["oficial.tap"].office_id, users["oficial.tap"].id)

    result = deploy_files({"mini.bpmn": mini("Segunda versión")}, FORMS)
    assert [(r.version, r.created) for r in result] == [(2, True)]
    v2 = latest_version("mini")
    assert v2.version == 2 and v2.content_hash != v1.content_hash

    fresh = start_instance(v2, users["oficial.tap"].office_id, users["oficial.tap"].id)
    db.session.flush()
    assert db.session.get(WorkflowInstance, running.id).process_version_id == v1.id
    from app.workflow.models import HumanTask
    titles = dict(db.session.execute(db.select(HumanTask.instance_id, HumanTask.title)).all())
    assert titles[running.id] == "Primera versión" and titles[fresh.id] == "Segunda versión"


def test_form_change_alone_creates_a_new_version(app):
    deploy_files({"mini.bpmn": mini()}, FORMS)
    changed = {**FORMS, "mini.json": FORMS["mini.json"].replace('"Valor"', '"Valor entero"')}
    assert deploy_files({"mini.bpmn": mini()}, changed)[0].created
    assert versions("mini") == [1, 2]


def test_spec_is_stored_once_per_version_not_in_instances(app, users):
    import json

    version = latest_version("proteccion_consular")
    instance = start_instance(version, users["oficial.tap"].office_id, users["oficial.tap"].id)
    state = json.loads(instance.state_json)
    assert "spec" not in state and "subprocess_specs" not in state
    assert "tasks" in state and len(instance.state_json) < len(version.spec_json)


BAD_DIAGRAMS = [
    ("malformed XML", b"<bpmn:definitions", "XML mal formado"),
    ("doctype with entity", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>', "DOCTYPE"),
    ("billion laughs", b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
     "DOCTYPE"),
    ("external entity", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
     "DOCTYPE"),
    ("oversized", b"<a>" + b" " * (5 * 1024 * 1024 + 1) + b"</a>", "5 MB"),
    ("unknown element", mini().replace(b"<bpmn:startEvent", b"<bpmn:startEvento").replace(
        b"</bpmn:startEvent>", b"</bpmn:startEvento>"), "startEvento"),
]


@pytest.mark.parametrize("label,data,expected", BAD_DIAGRAMS, ids=[b[0] for b in BAD_DIAGRAMS])
def test_invalid_diagram_is_refused_naming_the_file(app, label, data, expected):
    with pytest.raises(DiagramError) as refused:
        deploy_files({"malo.bpmn": data}, FORMS)
    assert refused.value.problems[0][0] == "malo.bpmn"
    assert expected in str(refused.value)
    assert versions("mini") == []


LINT_CASES = [
    ("import in a script", {"script": "__import__('os').system('id')"}, "Script_b", "__import__"),
    ("dunder walk in a condition", {"condition": "().__class__.__bases__[0].__subclasses__()"}, "F4", "__class__"),
    ("open a file", {"script": "datos = open('/etc/passwd').read()"}, "Script_b", "open"),
    ("import statement", {"script": "import os"}, "Script_b", "«import»"),
    ("lane without a role", {"lane": "Contabilidad"}, "Task_a", "Contabilidad"),
    ("missing form", {"form": "no_existe.json"}, "Task_a", "no_existe.json"),
    ("syntax error", {"condition": "valor &gt;"}, "F4", "sintaxis"),
]


@pytest.mark.parametrize("label,kwargs,element,expected", LINT_CASES, ids=[c[0] for c in LINT_CASES])
def test_lint_refuses_with_file_and_element(app, label, kwargs, element, expected):
    with pytest.raises(DiagramError) as refused:
        deploy_files({"mini.bpmn": mini(**kwargs)}, FORMS)
    problems = refused.value.problems
    assert any(f == "mini.bpmn" and e == element and expected in m for f, e, m in problems), problems
    assert versions("mini") == []


@pytest.mark.parametrize("expression,expected", [
    ("R/P7D", "entre comillas"), ('"R/P7X"', "ISO 8601"), ('"mañana"', "ISO 8601"), ("7", "texto ISO 8601"),
])
def test_timer_expressions_are_checked_at_deploy(app, expression, expected):
    files = {p.name: p.read_bytes() for p in Path(app.config["BPMN_DIR"]).glob("*.bpmn")}  # with the called files
    bad, replaced = re.subn(rb'(<bpmn:timeCycle[^>]*>)[^<]*(</bpmn:timeCycle>)',  # the follow-up reminder
                            lambda m: m.group(1) + expression.encode() + m.group(2),
                            files["proteccion_consular.bpmn"])
    assert replaced == 1
    forms = read_forms_dir(app.config["FORMS_DIR"])
    with pytest.raises(DiagramError) as refused:
        deploy_files({**files, "proteccion_consular.bpmn": bad}, forms)
    assert any(e == "Timer_recordatorio" and expected in m for _f, e, m in refused.value.problems)
