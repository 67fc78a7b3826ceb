"""SpiffArena's form file names (x-schema.json, x-uischema.json) are accepted everywhere a form is named: the
Formularios page, the pairing of a form with its UI schema, a diagram's task properties, publication and the
task page officers fill in. Names that could escape a folder or hide a file are refused."""
import io
import json

import pytest

from app.extensions import db
from app.modeler import services
from app.modeler.models import FormDocument
from app.workflow.models import HumanTask
from tests.helpers import submit
from tests.workflow.diagrams import mini

SCHEMA = {"title": "Solicitud", "type": "object", "required": ["detalle"],
          "properties": {"detalle": {"type": "string", "title": "Detalle de la solicitud", "maxLength": 500}}}
UI = {"detalle": {"ui:widget": "textarea", "ui:help": "Escriba lo que pide la persona."}}


@pytest.fixture
def gestor(login):
    return login("gestor")


def create(client, name):
    return client.post("/formularios/nuevo", data={"nombre": name})


def save(client, name, document):
    return client.post(f"/formularios/{name}", data={"texto": json.dumps(document, ensure_ascii=False)})


@pytest.mark.parametrize("name", ["solicitud-schema.json", "solicitud-uischema.json", "Solicitud.v2.json",
                                  "registro_caso_2_ui.json"])
def test_the_formularios_page_creates_spiffarena_names(gestor, name):
    response = create(gestor, name)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/formularios/{name}")
    assert db.session.get(FormDocument, name) is not None
    assert name in gestor.get("/formularios/").get_data(as_text=True)


@pytest.mark.parametrize("name", ["../fuera.json", ".oculto.json", "a..b.json", "sub/carpeta.json", "x" * 116 + ".json",
                                  "sin extension", "espacio en medio.json", "-guion.json"])
def test_names_that_could_escape_or_hide_are_refused(gestor, name):
    before = db.session.scalar(db.select(db.func.count()).select_from(FormDocument))
    response = create(gestor, name)
    assert response.status_code == 302
    page = gestor.get("/formularios/").get_data(as_text=True)
    assert "Nombre de archivo no válido" in page
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(FormDocument)) == before


def test_a_spiffarena_ui_schema_pairs_with_its_schema_in_the_editor_and_preview(gestor):
    create(gestor, "solicitud-schema.json")
    create(gestor, "solicitud-uischema.json")
    assert save(gestor, "solicitud-uischema.json", UI).status_code == 302
    assert save(gestor, "solicitud-schema.json", SCHEMA).status_code == 302
    db.session.expire_all()
    assert json.loads(db.session.get(FormDocument, "solicitud-schema.json").text) == SCHEMA
    assert db.session.get(FormDocument, "solicitud-uischema.json").is_ui
    listing = gestor.get("/formularios/").get_data(as_text=True)
    row = listing.split(">solicitud-uischema.json<")[1].split("</tr>")[0]
    assert "presentación" in row  # listed as a UI schema, not as a form
    # the preview of either document shows the form with the UI schema applied (textarea and help text)
    for name in ("solicitud-schema.json", "solicitud-uischema.json"):
        html = gestor.get(f"/formularios/{name}/vista-previa").get_data(as_text=True)
        assert "Detalle de la solicitud" in html and "<textarea" in html and "Escriba lo que pide la persona." in html
    # a UI schema that is not valid is refused with the Spanish problems beside the text
    response = save(gestor, "solicitud-uischema.json", ["no", "es", "un", "objeto"])
    assert response.status_code == 422


def test_pairing_follows_the_tasks_and_both_conventions(app):
    documents = {"a.json": "", "a_ui.json": "", "b-schema.json": "", "b-uischema.json": "", "c.json": "",
                 "c-uischema.json": ""}
    assert services.ui_name_for("a.json", documents, {}) == "a_ui.json"
    assert services.ui_name_for("b-schema.json", documents, {}) == "b-uischema.json"
    assert services.ui_name_for("c.json", documents, {}) == "c-uischema.json"
    assert services.schema_name_for("b-uischema.json", documents, {}) == "b-schema.json"
    assert services.schema_name_for("a_ui.json", documents, {}) == "a.json"
    # a task's formUiSchemaFilename names a UI schema whatever its name
    pairs = {"d.json": "presentacion_d.json"}
    assert services.is_ui_name("presentacion_d.json", pairs) and not services.is_ui_name("d.json", pairs)
    assert services.ui_name_for("d.json", documents, pairs) == "presentacion_d.json"
    assert services.schema_name_for("presentacion_d.json", documents, pairs) == "d.json"


def test_a_diagram_naming_spiffarena_forms_publishes_and_its_task_renders(gestor, login):
    create(gestor, "solicitud-schema.json")
    create(gestor, "solicitud-uischema.json")
    save(gestor, "solicitud-schema.json", SCHEMA)
    save(gestor, "solicitud-uischema.json", UI)
    xml = mini(form="solicitud-schema.json").decode().replace('id="mini"', 'id="mini_spiff"').replace(
        '<spiffworkflow:property name="formJsonSchemaFilename" value="solicitud-schema.json" />',
        '<spiffworkflow:property name="formJsonSchemaFilename" value="solicitud-schema.json" />'
        '<spiffworkflow:property name="formUiSchemaFilename" value="solicitud-uischema.json" />').replace(
        "doble = valor * 2", "largo = len(detalle)").replace("doble &gt; 10", "largo &gt; 10")
    response = gestor.post("/procesos/subir", data={"archivo": (io.BytesIO(xml.encode()), "mini_spiff.bpmn")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    body = gestor.post("/procesos/mini_spiff/publicar", json={"xml": xml}).get_json()
    assert body["ok"] and body["version"] == 1, body
    officer = login("oficial.tap")
    response = officer.post("/casos/nuevo", data={"proceso": "mini_spiff"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    task = db.session.get(HumanTask, int(response.headers["Location"].rstrip("/").split("/")[-1]))
    page = officer.get(f"/tareas/{task.id}").get_data(as_text=True)
    assert "Detalle de la solicitud" in page and "<textarea" in page and "Escriba lo que pide la persona." in page
    submit(officer, task, {"detalle": "Una constancia de nacionalidad"})
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).instance.status == "completed"
    # the form editor knows the published version uses the UI schema too
    assert "Mini v1" in gestor.get("/formularios/solicitud-uischema.json").get_data(as_text=True)


def test_the_editor_offers_spiffarena_schemas_and_pairs_their_ui_schema(gestor):
    create(gestor, "solicitud-schema.json")
    create(gestor, "solicitud-uischema.json")
    html = gestor.get("/procesos/proteccion_consular/editor").get_data(as_text=True)
    config = json.loads(html.split('id="modeler-config">', 1)[1].split("</script>", 1)[0])
    assert {"solicitud-schema.json", "solicitud-uischema.json"} <= set(config["forms"])
    from pathlib import Path

    panel = (Path(__file__).resolve().parents[2] / "app/static/js/modeler/panel/user-task.js").read_text()
    assert "-uischema.json" in panel and "(_ui|-uischema)" in panel


def test_forms_seeded_from_the_forms_folder_keep_spiffarena_names(app, tmp_path):
    (tmp_path / "visita-schema.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "visita-uischema.json").write_text(json.dumps(UI))
    with app.app_context():
        assert services.seed_forms(tmp_path) == 2
        db.session.commit()
        documents = services.forms()
        assert services.check_form("visita-schema.json", documents["visita-schema.json"]) == []
        assert services.ui_name_for("visita-schema.json", documents, {}) == "visita-uischema.json"
        assert db.session.get(FormDocument, "visita-uischema.json").is_ui


def test_the_new_form_field_lets_the_browser_send_spiffarena_names(gestor):
    import re

    html = gestor.get("/formularios/").get_data(as_text=True)
    pattern = re.search(r'name="nombre"[^>]*pattern="([^"]+)"', html).group(1).replace("\\-", "-")
    for name in ("solicitud-schema.json", "solicitud-uischema.json", "registro_caso", "Solicitud.v2.json"):
        assert re.fullmatch(pattern, name), name
