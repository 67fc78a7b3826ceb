"""Form documents edited by process owners: validated before they are stored, republished with the
processes that use them, previewed as officers will see them; open cases keep the form of their version."""
import json
import re

import pytest

from app.extensions import db
from app.modeler.models import FormDocument
from app.workflow.models import ProcessVersion
from tests.conftest import flashes
from tests.helpers import start_case

NAME = "registro_caso.json"
PROBLEM = re.compile(r'data-testid="form-problem">(.*?)</div>', re.S)


@pytest.fixture
def gestor(login):
    return login("gestor")


def document(name=NAME):
    db.session.expire_all()
    found = db.session.get(FormDocument, name)
    return found.text if found else None


def versions():
    db.session.expire_all()
    return db.session.execute(db.select(ProcessVersion.process_key, ProcessVersion.version)
                              .order_by(ProcessVersion.id)).all()


def state():
    return versions(), db.session.scalar(db.select(db.func.count()).select_from(FormDocument)), document()


def relabelled():
    schema = json.loads(document())
    schema["properties"]["relato"]["title"] = "Relato de los hechos (según la persona)"
    return json.dumps(schema, ensure_ascii=False, indent=2)


def test_saving_a_form_republishes_the_processes_that_use_it(gestor, login):
    officer = login("oficial.tap")
    old_task = start_case(officer)
    response = gestor.post(f"/formularios/{NAME}", data={"texto": relabelled()}, follow_redirects=True)
    assert response.status_code == 200
    assert "Formulario guardado. Procesos republicados: versión 2." in flashes(response.get_data(as_text=True))
    assert ("proteccion_consular", 2) in versions()
    assert ("busqueda_persona", 2) not in versions()  # it does not use the form
    latest = db.session.scalar(db.select(ProcessVersion).where(ProcessVersion.process_key == "proteccion_consular",
                                                               ProcessVersion.version == 2))
    assert latest.author.username == "gestor" and "registro_caso.json" in latest.comment
    new_task = start_case(officer)
    assert "Relato de los hechos (según la persona)" in officer.get(f"/tareas/{new_task.id}").get_data(as_text=True)
    old_page = officer.get(f"/tareas/{old_task.id}").get_data(as_text=True)
    assert "Relato de los hechos (según la persona)" not in old_page and "¿Qué ocurrió?" in old_page


@pytest.mark.parametrize("text, message", [
    ('{"title": "x", "type": "object", "properties": {', "JSON no válido"),
    ('{"title": "x", "type": "object", "properties": {"a": {"type": "blob", "title": "A"}}}', "JSON Schema no válido"),
    ('[1, 2, 3]', "el formulario debe ser un objeto JSON"),
    ('', "JSON no válido"),
])
def test_an_invalid_form_is_refused_with_its_reason_and_nothing_changes(gestor, text, message):
    before = state()
    response = gestor.post(f"/formularios/{NAME}", data={"texto": text})
    assert response.status_code == 422
    problems = PROBLEM.findall(response.get_data(as_text=True))
    assert problems and all(p.endswith("No se guardó nada.") for p in problems)
    assert any(message in p for p in problems), problems
    assert state() == before


def test_an_invalid_ui_schema_is_refused(gestor):
    before = state()
    response = gestor.post("/formularios/registro_caso_ui.json", data={"texto": "{no es json"})
    assert response.status_code == 422
    assert PROBLEM.findall(response.get_data(as_text=True))
    assert state() == before


def test_preview_shows_the_form_as_officers_see_it(gestor):
    html = gestor.get(f"/formularios/{NAME}/vista-previa").get_data(as_text=True)
    assert "Categoría principal" in html and "Ubicación y contacto" in html
    assert 'name="relato"' in html
    html = gestor.get("/formularios/registro_caso_ui.json/vista-previa").get_data(as_text=True)
    assert 'name="relato"' in html


def test_a_new_form_starts_from_a_valid_template(gestor):
    response = gestor.post("/formularios/nuevo", data={"nombre": "informe_psicosocial"})
    assert response.headers["Location"].endswith("/formularios/informe_psicosocial.json")
    assert json.loads(document("informe_psicosocial.json"))["properties"]["observaciones"]
    before = versions()
    response = gestor.post("/formularios/informe_psicosocial.json", data={"texto": document("informe_psicosocial.json")
                                                                            .replace("Nuevo formulario", "Informe")})
    assert response.status_code == 302
    assert versions() == before  # no process uses it yet


@pytest.mark.parametrize("name, message", [
    ("Con Espacios", "Nombre de archivo no válido"),
    ("../../etc/passwd", "Nombre de archivo no válido"),
    (NAME, "Ya existe el formulario registro_caso.json."),
])
def test_bad_new_form_names_store_nothing(gestor, name, message):
    before = state()
    response = gestor.post("/formularios/nuevo", data={"nombre": name}, follow_redirects=True)
    assert any(message in f for f in flashes(response.get_data(as_text=True)))
    assert state() == before


def test_an_unknown_form_is_not_found(gestor):
    assert gestor.get("/formularios/no_existe.json").status_code == 404
    assert gestor.post("/formularios/no_existe.json", data={"texto": "{}"}).status_code == 404


def test_a_ui_schema_its_form_cannot_use_is_refused_by_the_service_itself(app, users):
    """Not only the editor page: model imports and any other caller of save_form compile the pair too, so a widget
    the field cannot have never reaches the republication (which would fail on it)."""
    from app.core import clock
    from app.modeler import services

    before, published = document("registro_caso_ui.json"), versions()
    with pytest.raises(services.Refused) as refused:
        services.save_form("registro_caso_ui.json", json.dumps({"relato": {"ui:widget": "estrellas"}}),
                           users["gestor"], clock.now())
    message = refused.value.problems[0].message
    assert "estrellas" in message and "relato" in message
    assert document("registro_caso_ui.json") == before and versions() == published
