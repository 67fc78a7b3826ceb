"""The process owner's editor, server side: drafts, validation, publication as a new version, uploads,
differences between versions, and everything a broken or hostile diagram must not do."""
import io
import json

import pytest

from app.audit.models import AuditEvent
from app.extensions import db
from app.modeler.models import ProcessDraft
from app.modeler.services import deploy_from_files
from app.workflow.models import HumanTask, ProcessVersion
from tests.conftest import flashes
from tests.helpers import REGISTRO, single_open_task, start_case, submit

KEY = "proteccion_consular"
OLD_NAME, NEW_NAME = 'name="Registro del caso"', 'name="Registro inicial del caso"'


@pytest.fixture
def gestor(login):
    return login("gestor")


def published(key=KEY):
    db.session.expire_all()
    return db.session.scalars(db.select(ProcessVersion).where(ProcessVersion.process_key == key)
                              .order_by(ProcessVersion.version)).all()


def draft_text(key=KEY):
    db.session.expire_all()
    return db.session.scalar(db.select(ProcessDraft.bpmn_xml).where(ProcessDraft.process_key == key))


def current_xml(client, key=KEY):
    response = client.get(f"/procesos/{key}/borrador.bpmn")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def renamed(client):
    xml = current_xml(client)
    assert xml.count(OLD_NAME) == 1
    return xml.replace(OLD_NAME, NEW_NAME)


def post(client, action, xml, key=KEY, **extra):
    response = client.post(f"/procesos/{key}/{action}", json={"xml": xml, **extra})
    return response.status_code, response.get_json()


def state():
    """What a refused request must leave exactly as it was."""
    db.session.expire_all()
    return (db.session.scalar(db.select(db.func.count()).select_from(ProcessVersion)),
            tuple(db.session.execute(db.select(ProcessDraft.process_key, ProcessDraft.bpmn_xml)
                                     .order_by(ProcessDraft.process_key)).all()))


# -- the editor page -------------------------------------------------------------------------------------
def test_editor_page_carries_the_draft_urls_forms_and_roles(gestor):
    html = gestor.get(f"/procesos/{KEY}/editor").get_data(as_text=True)
    config = json.loads(html.split('id="modeler-config">', 1)[1].split("</script>", 1)[0])
    assert config["xml_url"] == f"/procesos/{KEY}/borrador.bpmn"
    assert config["publish_url"] == f"/procesos/{KEY}/publicar"
    assert "registro_caso.json" in config["forms"] and "seguimiento_ui.json" in config["forms"]
    assert {"oficial", "supervisor"} <= {r["code"] for r in config["roles"]}
    assert config["csrf_token"]
    assert 'id="canvas"' in html and "bpmn-modeler.production.min.js" in html
    # opening the editor writes nothing: it shows the latest version until the first save stores a draft
    assert draft_text() is None
    assert gestor.get(config["xml_url"]).get_data(as_text=True) == published()[-1].bpmn_xml
    assert {r["lane"] for r in config["roles"]} >= {"Oficial consular", "Supervisor"}  # roles carry their lane


def test_process_list_shows_every_process_with_its_version(gestor):
    html = gestor.get("/procesos/").get_data(as_text=True)
    for key in (KEY, "busqueda_persona", "repatriacion_restos", "privacion_libertad", "nna_no_acompanado"):
        assert f'data-testid="process-{key}"' in html
    assert "v1" in html


# -- save, validate, publish -------------------------------------------------------------------------------
def test_saving_a_draft_keeps_the_published_version(gestor):
    xml = renamed(gestor)
    status, body = post(gestor, "borrador", xml)
    assert (status, body["ok"], body["problems"]) == (200, True, [])
    assert draft_text() == xml
    assert len(published()) == 1 and NEW_NAME not in published()[0].bpmn_xml


def test_publishing_makes_a_new_version_that_new_cases_use_and_open_cases_do_not(gestor, login):
    officer = login("oficial.tap")
    old_case_task = start_case(officer)
    status, body = post(gestor, "publicar", renamed(gestor), comment="Nombre más claro del primer paso")
    assert (status, body["ok"], body["version"]) == (200, True, 2), body
    assert "versión 2" in body["message"]
    versions = published()
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].comment == "Nombre más claro del primer paso"
    assert versions[1].author.username == "gestor"
    assert NEW_NAME in versions[1].bpmn_xml
    event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "diagram_published")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.actor_id == versions[1].author_id
    assert json.loads(event.details_json)["versión"] == 2
    # a case started now shows the new name in the officer's inbox; the open one keeps its version
    new_task = start_case(officer)
    assert new_task.title == "Registro inicial del caso"
    assert "Registro inicial del caso" in officer.get("/tareas/").get_data(as_text=True)
    assert db.session.get(HumanTask, old_case_task.id).title == "Registro del caso"
    submit(officer, db.session.get(HumanTask, old_case_task.id), REGISTRO)
    assert single_open_task(instance_id=old_case_task.instance_id).title == "Evaluación de necesidades y riesgos"


def test_publishing_the_same_diagram_again_makes_no_version(gestor):
    post(gestor, "publicar", renamed(gestor))
    status, body = post(gestor, "publicar", current_xml(gestor))
    assert (status, body["ok"], body["version"]) == (200, True, 2)
    assert "Sin cambios" in body["message"]
    assert len(published()) == 2


def test_a_diagram_with_problems_is_saved_as_draft_but_not_published(gestor):
    xml = current_xml(gestor).replace('value="registro_caso.json"', 'value="no_existe.json"', 1)
    before = len(published())
    status, body = post(gestor, "publicar", xml)
    assert status == 422 and body["ok"] is False
    assert "No se publicó" in body["message"]
    assert {"file": "proteccion_consular.bpmn", "element": "Task_registro",
            "message": "el formulario «no_existe.json» de la tarea «Registro del caso» no existe"} in body["problems"]
    assert len(published()) == before
    assert draft_text() == xml  # the work is not lost


def test_validate_reports_problems_without_storing(gestor):
    current_xml(gestor)
    before = state()
    xml = current_xml(gestor).replace('sourceRef="StartEvent_caso" targetRef="Task_registro"',
                                      'sourceRef="StartEvent_caso" targetRef="StartEvent_caso"')
    status, body = post(gestor, "validar", xml)
    assert status == 200 and body["message"] == "El diagrama tiene problemas."
    assert any(p["element"] == "Task_registro" for p in body["problems"]), body["problems"]
    assert state() == before
    status, body = post(gestor, "validar", current_xml(gestor))
    assert (body["message"], body["problems"]) == ("El diagrama es válido.", [])


@pytest.mark.parametrize("code, expected", [
    ('__import__("os").system("id")', "«__import__» no está permitido"),
    ('categoria.__class__.__mro__ == 1', "«__class__» no está permitido"),
    ('open("/etc/passwd").read() == "x"', "la función «open» no está permitida"),
])
def test_script_escapes_in_conditions_are_refused(gestor, code, expected):
    xml = current_xml(gestor).replace('categoria == "DET"', code, 1)
    status, body = post(gestor, "publicar", xml)
    assert status == 422
    assert any(expected in p["message"] for p in body["problems"]), body["problems"]
    assert len(published()) == 1


HOSTILE = {
    "malformed": ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process',
                  "XML mal formado"),
    "entities": ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                 '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                 '<bpmn:process id="proteccion_consular">&b;</bpmn:process></bpmn:definitions>', "DOCTYPE"),
    "external": ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                 '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                 '<bpmn:process id="proteccion_consular">&x;</bpmn:process></bpmn:definitions>', "DOCTYPE"),
    "not bpmn": ('<svg xmlns="http://www.w3.org/2000/svg"><process id="proteccion_consular"/></svg>',
                 "no es un diagrama BPMN"),
    "other process": ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                      '<bpmn:process id="otro_proceso"/></bpmn:definitions>', "no contiene el proceso"),
}


@pytest.mark.parametrize("action", ["borrador", "validar", "publicar"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_unusable_xml_is_refused_and_nothing_changes(gestor, action, case):
    current_xml(gestor)
    before = state()
    xml, expected = HOSTILE[case]
    status, body = post(gestor, action, xml)
    assert status == 422 and body["ok"] is False
    assert any(expected in p["message"] for p in body["problems"]), body["problems"]
    assert "root:" not in json.dumps(body)
    assert state() == before


def test_a_process_id_of_another_diagram_is_refused(gestor):
    current_xml(gestor)
    before = state()
    xml = current_xml(gestor).replace("</bpmn:definitions>", '<bpmn:process id="busqueda_persona" '
                                      'isExecutable="true"/></bpmn:definitions>')
    status, body = post(gestor, "borrador", xml)
    assert status == 422
    assert "ya lo usa otro diagrama (busqueda_persona.bpmn)" in body["problems"][0]["message"]
    assert state() == before


def test_oversized_and_empty_bodies_are_refused(gestor):
    current_xml(gestor)
    before = state()
    huge = current_xml(gestor).replace("</bpmn:definitions>", "<!--" + "x" * 5 * 1024 * 1024 + "--></bpmn:definitions>")
    response = gestor.post(f"/procesos/{KEY}/borrador", json={"xml": huge})
    assert response.status_code == 422
    assert "el archivo supera el límite de 5 MB" in response.get_json()["problems"][0]["message"]
    for payload in ({}, {"xml": ""}, {"xml": 12}, None):
        response = gestor.post(f"/procesos/{KEY}/publicar", json=payload) if payload is not None else \
            gestor.post(f"/procesos/{KEY}/publicar", data="no es json", content_type="text/plain")
        assert response.status_code == 422
        assert response.get_json()["message"] == "No se recibió el diagrama."
    assert state() == before


def test_an_unknown_process_is_not_found(gestor):
    assert gestor.get("/procesos/no_existe/editor").status_code == 404
    assert gestor.post("/procesos/no_existe/borrador", json={"xml": "<x/>"}).status_code == 422
    assert gestor.get("/procesos/no_existe/").status_code == 404


# -- new processes and uploads -----------------------------------------------------------------------------
def test_a_new_process_from_the_template_can_be_published_and_started(gestor, login):
    response = gestor.post("/procesos/nuevo", data={"clave": "asistencia_humanitaria",
                                                    "nombre": "Asistencia <humanitaria> & más"})
    assert response.status_code == 302
    xml = current_xml(gestor, "asistencia_humanitaria")
    assert 'name="Asistencia &lt;humanitaria&gt; &amp; más"' in xml
    status, body = post(gestor, "publicar", xml, key="asistencia_humanitaria")
    assert (status, body["version"]) == (200, 1), body
    version = published("asistencia_humanitaria")[0]
    assert version.is_startable and version.name == "Asistencia <humanitaria> & más"
    officer = login("oficial.tap")
    assert "Asistencia &lt;humanitaria&gt; &amp; más" in officer.get("/casos/nuevo").get_data(as_text=True)
    response = officer.post("/casos/nuevo", data={"proceso": "asistencia_humanitaria"})
    assert response.status_code == 302


@pytest.mark.parametrize("key, name, message", [
    ("Con Espacios", "X", "El identificador debe empezar"),
    ("ab", "X", "El identificador debe empezar"),
    ("nuevo_ok", "   ", "Escriba el nombre"),
    (KEY, "Duplicado", "Ya existe un proceso «proteccion_consular»"),
])
def test_bad_new_process_requests_store_nothing(gestor, key, name, message):
    before = state()
    response = gestor.post("/procesos/nuevo", data={"clave": key, "nombre": name}, follow_redirects=True)
    assert any(message in f for f in flashes(response.get_data(as_text=True)))
    assert state() == before


def test_uploading_a_file_replaces_the_draft_and_a_new_file_makes_a_new_process(gestor):
    xml = renamed(gestor)
    response = gestor.post(f"/procesos/{KEY}/subir", data={"archivo": (io.BytesIO(xml.encode()), "p.bpmn")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert draft_text() == xml
    other = current_xml(gestor).replace(f'id="{KEY}"', 'id="proceso_subido"').replace(
        f'processRef="{KEY}"', 'processRef="proceso_subido"')
    response = gestor.post("/procesos/subir", data={"archivo": (io.BytesIO(other.encode()), "nuevo.bpmn")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert draft_text("proceso_subido") == other


@pytest.mark.parametrize("content, filename, message", [
    (b"\xff\xfe<x/>", "latin.bpmn", "no está en UTF-8"),
    (b"<bpmn:definitions", "roto.bpmn", "XML mal formado"),
    (HOSTILE["entities"][0].encode(), "bomba.bpmn", "DOCTYPE"),
    (b"x" * (5 * 1024 * 1024 + 10), "enorme.bpmn", "5 MB"),
])
def test_bad_uploads_store_nothing(gestor, content, filename, message):
    current_xml(gestor)
    before = state()
    for url in ("/procesos/subir", f"/procesos/{KEY}/subir"):
        response = gestor.post(url, data={"archivo": (io.BytesIO(content), filename)},
                               content_type="multipart/form-data", follow_redirects=True)
        assert response.status_code == 200
        assert any(message in f and "No se guardó nada" in f for f in flashes(response.get_data(as_text=True)))
        assert state() == before


def test_uploading_an_existing_process_as_new_is_refused(gestor):
    current_xml(gestor)
    before = state()
    response = gestor.post("/procesos/subir", data={"archivo": (io.BytesIO(current_xml(gestor).encode()), "x.bpmn")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert any("ya existe" in f for f in flashes(response.get_data(as_text=True)))
    assert state() == before


# -- versions ------------------------------------------------------------------------------------------------
def test_versions_page_and_differences_show_the_renamed_task(gestor):
    post(gestor, "publicar", renamed(gestor), comment="Renombrar registro")
    html = gestor.get(f"/procesos/{KEY}/").get_data(as_text=True)
    assert "Renombrar registro" in html and "v2" in html
    html = gestor.get(f"/procesos/{KEY}/diferencias?desde=1&hasta=2").get_data(as_text=True)
    assert "Registro del caso" in html and "Registro inicial del caso" in html
    assert gestor.get(f"/procesos/{KEY}/diferencias").status_code == 200  # latest against the one before
    response = gestor.get(f"/procesos/{KEY}/diferencias?desde=1&hasta=9", follow_redirects=True)
    assert "Elija dos versiones existentes." in flashes(response.get_data(as_text=True))
    download = gestor.get(f"/procesos/{KEY}/v1.bpmn")
    assert download.headers["Content-Disposition"] == 'attachment; filename="proteccion_consular-v1.bpmn"'
    assert NEW_NAME not in download.get_data(as_text=True)


def test_deploying_the_repository_files_again_does_not_undo_an_editor_publication(app, gestor):
    post(gestor, "publicar", renamed(gestor))
    with app.app_context():
        results = deploy_from_files(app.config["BPMN_DIR"], app.config["FORMS_DIR"])
        db.session.commit()
    assert not any(r.created for r in results)
    assert NEW_NAME in published()[-1].bpmn_xml


# -- who may do it -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["oficial.tap", "consul.tap", "analista", "admin"])
def test_only_process_owners_edit_processes_and_forms(login, username):
    client = login(username)
    before = state()
    for url in ("/procesos/", "/formularios/", f"/procesos/{KEY}/editor"):
        assert client.get(url).status_code == 403, url
    assert client.post("/procesos/nuevo", data={"clave": "intruso", "nombre": "X"}).status_code == 403
    assert client.post(f"/procesos/{KEY}/publicar", json={"xml": "<x/>"}).status_code == 403
    assert client.post("/formularios/nuevo", data={"nombre": "intruso"}).status_code == 403
    assert state() == before
    assert "Procesos</a>" not in client.get("/tareas/").get_data(as_text=True)
