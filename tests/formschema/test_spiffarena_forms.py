"""Forms written the way SpiffArena / RJSF writes them (tests/data/spiffarena_forms: name-schema.json with
name-uischema.json, no top-level type, $defs/$ref, anyOf with titles, nullable types, options from task data):
they compile, and a process that uses them is published and completed over HTTP."""
import json
import re
from pathlib import Path

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.formschema import compile_form, load_form
from app.formschema.loader import load_ui
from app.reference.services import option_choices
from app.workflow import services as workflow
from app.workflow.deploy import deploy_files
from app.workflow.models import HumanTask, WorkflowInstance

CORPUS = Path(__file__).resolve().parent.parent / "data" / "spiffarena_forms"
FORMS = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.json")}
SCHEMAS = sorted(name for name in FORMS if name.endswith("-schema.json"))
RENDER = '{% from "_form.html" import render_compiled %}{{ render_compiled(compiled, form) }}'


def compiled(name):
    ui_name = name.replace("-schema.json", "-uischema.json")
    return compile_form(name, load_form(name, FORMS[name]), load_ui(ui_name, FORMS.get(ui_name)))


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_corpus_form_compiles_and_renders(app, name):
    form_def = compiled(name)
    with app.test_request_context():
        form = form_def.build(option_choices, csrf=False, task_data={"fruits": ["apples"]})
        html = render_template_string(RENDER, compiled=form_def, form=form)
    assert form_def.fields and "<script>" not in html
    for spec in form_def.fields:
        assert spec.title in html or spec.hidden


def test_the_corpus_covers_the_spiffarena_idioms():
    texts = "".join(FORMS.values())
    for idiom in ('"$defs"', '"$ref"', '"definitions"', '"anyOf"', '"enumNames"', '["string", "null"]',
                  "options_from_task_data_var:", '"readOnly"', '"validationErrorMessage"', '"date-time"',
                  '"ui:order"', '"ui:widget": "hidden"', '"ui:emptyValue"', '"nullable"'):
        assert idiom in texts, idiom
    assert [name for name in SCHEMAS if "type" not in json.loads(FORMS[name])] == ["contacto-familiar-schema.json",
                                                                                 "detencion-schema.json"]


def test_the_detention_visit_form_keeps_its_read_only_and_hidden_values(app):
    form_def = compiled("detencion-schema.json")
    with app.test_request_context():
        form = form_def.build(option_choices, csrf=False, formdata=MultiDict([
            ("oficina", "Otra"), ("referencia", "X"), ("fecha_visita", "2026-12-07T09:15"),
            ("lugar-nombre", "CERESO 3"), ("lugar-web", "https://cereso.example"), ("dias", "12"),
            ("malos_tratos", "si"), ("indicios", "golpes"), ("indicios", "aislamiento"), ("abogado_correo", "")]))
        assert form_def.validate(form), form.errors
        data = form_def.to_json(form)
    assert data == {"oficina": "Consulado", "fecha_visita": "2026-12-07T09:15:00",
                    "lugar": {"nombre": "CERESO 3", "web": "https://cereso.example"}, "detenido_desde": None,
                    "abogado_correo": None, "dias": 12, "malos_tratos": True,
                    "indicios": ["golpes", "aislamiento"], "referencia": "VIS"}


DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D_spiff" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="spiff_formularios" name="Formularios SpiffArena" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L" name="Oficial consular">
      <bpmn:flowNodeRef>S</bpmn:flowNodeRef><bpmn:flowNodeRef>Datos</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Fruta</bpmn:flowNodeRef><bpmn:flowNodeRef>Contactos</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>E</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Datos" name="Preparar opciones">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:script>fruits = [{"value": "apples", "label": "Manzanas"},
                {"value": "oranges", "label": "Naranjas"}]</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="Fruta" name="Elegir fruta"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="seleccionar-fruta-schema.json" />
      <spiffworkflow:property name="formUiSchemaFilename" value="seleccionar-fruta-uischema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Contactos" name="Contactos familiares"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="contacto-familiar-schema.json" />
      <spiffworkflow:property name="formUiSchemaFilename" value="contacto-familiar-uischema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Datos" />
    <bpmn:sequenceFlow id="F2" sourceRef="Datos" targetRef="Fruta" />
    <bpmn:sequenceFlow id="F3" sourceRef="Fruta" targetRef="Contactos" />
    <bpmn:sequenceFlow id="F4" sourceRef="Contactos" targetRef="E" />
  </bpmn:process>
</bpmn:definitions>"""


def open_task(instance_id):
    db.session.expire_all()
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.completed_at.is_(None)))


def test_a_process_with_spiffarena_forms_is_published_and_completed_over_http(app, login, users):
    [result] = deploy_files({"spiff_formularios.bpmn": DIAGRAM.encode()}, FORMS, decisions={})
    assert result.created
    db.session.commit()
    officer = login("oficial.tap")
    instance = workflow.start_instance(workflow.latest_version("spiff_formularios"),
                                       users["oficial.tap"].office_id, users["oficial.tap"].id)
    db.session.commit()
    task = open_task(instance.id)
    page = officer.get(f"/tareas/{task.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<option value="oranges">Naranjas</option>' in html  # options from the task's own data
    assert html.index('name="favoriteFruit"') < html.index('name="urgency"') < html.index('name="comment"')
    refused = officer.post(f"/tareas/{task.id}", data={"favoriteFruit": "pears"})
    assert refused.status_code == 422
    response = officer.post(f"/tareas/{task.id}", data={"favoriteFruit": "oranges", "urgency": "alta"})
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    task = open_task(instance.id)
    assert task.title == "Contactos familiares"
    html = officer.get(f"/tareas/{task.id}").get_data(as_text=True)
    assert 'name="contactos-3-contacto-telefono"' in html and "Añadir otra" in html
    bad = officer.post(f"/tareas/{task.id}", data={"contactos-0-nombre": "Rosa", "contactos-0-parentesco": "madre",
                                                   "contactos-0-contacto-telefono": "abc"})
    assert bad.status_code == 422
    assert "Escriba solo cifras, espacios y + ( ) -" in bad.get_data(as_text=True)
    done = officer.post(f"/tareas/{task.id}", data={
        "contactos-0-nombre": "Rosa Pérez", "contactos-0-parentesco": "madre",
        "contactos-0-contacto-telefono": "+52 55 1234 5678", "contactos-2-nombre": "Juan Pérez",
        "contactos-2-parentesco": "padre", "contactos-2-contacto-correo": "juan@example.org", "avisar": "y"})
    assert done.status_code == 302, done.get_data(as_text=True)[-3000:]
    db.session.expire_all()
    finished = db.session.get(WorkflowInstance, instance.id)
    assert finished.status == "completed" and open_task(instance.id) is None
    data = workflow.load_workflow(finished).data  # what the process received from both forms
    assert data["favoriteFruit"] == "oranges" and data["urgency"] == "alta" and data["comment"] == ""
    assert data["contactos"] == [
        {"nombre": "Rosa Pérez", "parentesco": "madre", "contacto": {"telefono": "+52 55 1234 5678",
                                                                   "correo": None}},
        {"nombre": "Juan Pérez", "parentesco": "padre", "contacto": {"telefono": None,
                                                                   "correo": "juan@example.org"}}]
    assert data["avisar"] is True and data["observaciones"] is None


def test_bad_task_data_options_are_a_spanish_message_on_the_task_page(app, login, users):
    diagram = re.sub(r"fruits = \[.*?\]</bpmn:script>", 'fruits = "apples"</bpmn:script>', DIAGRAM, flags=re.S)
    deploy_files({"spiff_formularios.bpmn": diagram.encode()}, FORMS, decisions={})
    db.session.commit()
    officer = login("oficial.tap")
    instance = workflow.start_instance(workflow.latest_version("spiff_formularios"),
                                       users["oficial.tap"].office_id, users["oficial.tap"].id)
    db.session.commit()
    task = open_task(instance.id)
    page = officer.get(f"/tareas/{task.id}")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.get_data(as_text=True))
    assert "Las opciones de la lista «fruits» no están disponibles (los datos de la tarea no son una lista)" in text
    response = officer.post(f"/tareas/{task.id}", data={"favoriteFruit": "apples"})
    assert response.status_code == 422
    assert open_task(instance.id).id == task.id


# -- file fields: stored as case documents under the upload rules, the form keeps a reference ----------------------
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def with_file_field(gestor, name="evaluacion.json"):
    from app.modeler.models import FormDocument

    document = json.loads(db.session.get(FormDocument, name).text)
    document["properties"]["pasaporte"] = {"type": "string", "format": "data-url", "title": "Copia del pasaporte"}
    document.setdefault("required", []).append("pasaporte")
    response = gestor.post(f"/formularios/{name}", data={"texto": json.dumps(document)})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]


def test_a_file_field_stores_the_upload_as_a_case_document(app, login):
    import io

    from app.cases.models import Attachment, CaseEvent
    from tests.helpers import EVALUACION_SIN_REMISION, register_case, single_open_task

    with_file_field(login("gestor"))
    officer = login("oficial.tap")
    instance = register_case(officer)
    task = single_open_task(instance_id=instance.id)
    page = officer.get(f"/tareas/{task.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page and 'name="pasaporte"' in page
    missing = officer.post(f"/tareas/{task.id}", data=EVALUACION_SIN_REMISION)
    assert missing.status_code == 422 and "Este campo es obligatorio." in missing.get_data(as_text=True)
    wrong = officer.post(f"/tareas/{task.id}", data={**EVALUACION_SIN_REMISION,
                                                     "pasaporte": (io.BytesIO(b"MZ\x90"), "virus.exe")},
                         content_type="multipart/form-data", follow_redirects=True)
    assert "Tipo de archivo no permitido" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).completed_at is None
    assert db.session.scalar(db.select(db.func.count()).select_from(Attachment)) == 0  # nothing half-saved
    done = officer.post(f"/tareas/{task.id}", data={**EVALUACION_SIN_REMISION,
                                                    "pasaporte": (io.BytesIO(PDF), "pasaporte.pdf")},
                        content_type="multipart/form-data")
    assert done.status_code == 302, done.get_data(as_text=True)[-2000:]
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).completed_at is not None
    [attachment] = db.session.scalars(db.select(Attachment)).all()
    assert attachment.case_id == task.case_id and attachment.filename == "pasaporte.pdf"
    assert attachment.content_type == "application/pdf" and attachment.size == len(PDF)
    data = workflow.load_workflow(db.session.get(WorkflowInstance, instance.id)).data
    assert "pasaporte" not in data or data["pasaporte"] == {"attachment_id": attachment.id,
                                                            "filename": "pasaporte.pdf"}
    events = db.session.scalars(db.select(CaseEvent).where(CaseEvent.case_id == task.case_id)).all()
    assert any("pasaporte.pdf" in (e.title or "") for e in events)
    assert any(label == "Copia del pasaporte" and shown == "pasaporte.pdf"
               for e in events for label, shown in (e.details or []))


def test_a_file_field_on_a_task_without_a_case_is_refused_in_spanish(app):
    from types import SimpleNamespace

    from app.core.errors import DomainError
    from app.tasks import services

    compiled = compile_form("f.json", load_form("f.json", json.dumps(
        {"properties": {"doc": {"type": "string", "format": "data-url", "title": "Documento"}}})))
    import io

    from werkzeug.datastructures import FileStorage
    with app.test_request_context():
        form = compiled.build(option_choices, formdata=MultiDict(
            {"doc": FileStorage(io.BytesIO(PDF), filename="a.pdf")}), csrf=False)
        assert compiled.validate(form)
        with pytest.raises(DomainError) as caught:
            services._store_files(None, SimpleNamespace(case_id=None, title="Paso"), compiled, form)
    assert "«Documento» adjunta un archivo" in str(caught.value)


def test_the_file_picker_offers_the_case_document_types():
    from app.cases.records import ALLOWED_TYPES
    from app.formschema.compiler import FILE_EXTENSIONS

    assert set(FILE_EXTENSIONS) == set(ALLOWED_TYPES)
