"""JSON Schema forms compiled to WTForms: field types, constraints, Spanish messages, JSON values."""
import json
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from app.formschema import FormSchemaError, compile_form, load_form
from app.reference.services import option_choices

SCHEMA = {
    "title": "Prueba",
    "type": "object",
    "required": ["nombre", "edad", "sexo", "acepta", "necesidades"],
    "properties": {
        "nombre": {"type": "string", "title": "Nombre", "minLength": 2, "maxLength": 10},
        "codigo": {"type": "string", "title": "Código", "pattern": "^[A-Z]{3}$"},
        "relato": {"type": "string", "title": "Relato", "description": "Qué pasó"},
        "edad": {"type": "integer", "title": "Edad", "minimum": 0, "maximum": 120},
        "monto": {"type": "number", "title": "Monto", "minimum": 0},
        "fecha": {"type": "string", "format": "date", "title": "Fecha", "x-siproc-not-future": True},
        "sexo": {"type": "string", "title": "Sexo", "oneOf": [{"const": "F", "title": "Mujer"},
                                                               {"const": "M", "title": "Hombre"}]},
        "color": {"type": "string", "title": "Color", "enum": ["r", "v"]},
        "acepta": {"type": "boolean", "title": "¿Acepta?"},
        "avisar": {"type": "boolean", "title": "Avisar"},
        "necesidades": {"type": "array", "title": "Necesidades", "items": {"type": "string", "enum": ["a", "b", "c"]}},
        "municipio": {"type": "string", "title": "Municipio", "x-siproc-options": "municipalities"},
    },
}
UI = {"relato": {"ui:widget": "textarea"}, "ui:order": ["sexo", "nombre"]}
VALID = {"nombre": "Ana", "edad": "30", "sexo": "F", "acepta": "si", "necesidades": ["a", "c"],
         "monto": "12.5", "fecha": "2020-01-31", "municipio": "0801", "codigo": "ABC"}


def form_for(app, data, schema=SCHEMA, ui=UI):
    compiled = compile_form("prueba.json", load_form("prueba.json", json.dumps(schema)), ui)
    pairs = [(k, v) for k, values in data.items() for v in (values if isinstance(values, list) else [values])]
    return compiled, compiled.build(option_choices, formdata=MultiDict(pairs), csrf=False)


def test_field_kinds_and_order(app):
    with app.test_request_context():
        compiled, form = form_for(app, {})
        kinds = {f.name: f.kind for f in compiled.fields}
        assert kinds == {"sexo": "select", "nombre": "string", "codigo": "string", "relato": "text",
                         "edad": "integer", "monto": "number", "fecha": "date", "color": "select",
                         "acepta": "yesno", "avisar": "checkbox", "necesidades": "multi", "municipio": "select"}
        assert [f.name for f in compiled.fields][:2] == ["sexo", "nombre"]
        assert form.relato.description == "Qué pasó"
        assert len(form.municipio.choices) == 299  # 298 municipalities and the empty choice


def test_valid_submission_becomes_json(app):
    with app.test_request_context():
        compiled, form = form_for(app, VALID)
        assert compiled.validate(form), form.errors
        assert compiled.to_json(form) == {
            "sexo": "F", "nombre": "Ana", "codigo": "ABC", "relato": None, "edad": 30, "monto": 12.5,
            "fecha": "2020-01-31", "color": None, "acepta": True, "avisar": False, "necesidades": ["a", "c"],
            "municipio": "0801"}
        labelled = dict(compiled.labelled(form))
        assert labelled["Sexo"] == "Mujer" and labelled["Municipio"] == "Distrito Central (Francisco Morazán)"
        assert labelled["¿Acepta?"] == "Sí" and labelled["Fecha"] == "31/01/2020"


@pytest.mark.parametrize("field,value,message", [
    ("nombre", "", "Este campo es obligatorio."),
    ("nombre", "A", "Debe tener entre 2 y 10 caracteres."),
    ("nombre", "Anastasia María", "Debe tener entre 2 y 10 caracteres."),
    ("codigo", "abc", "El formato no es válido."),
    ("edad", "121", "Debe estar entre 0 y 120."),
    ("edad", "treinta", "entero"),
    ("monto", "-1", "Debe ser como mínimo 0."),
    ("fecha", "2999-01-01", "La fecha no puede ser futura."),
    ("fecha", "31/01/2020", "fecha"),
    ("sexo", "Z", "válid"),
    ("acepta", "", "Este campo es obligatorio."),
    ("necesidades", [], "Seleccione al menos una opción."),
    ("necesidades", ["a", "zz"], "válid"),
    ("municipio", "9999", "válid"),
])
def test_invalid_values_get_spanish_messages(app, field, value, message):
    with app.test_request_context():
        compiled, form = form_for(app, {**VALID, field: value})
        assert not compiled.validate(form)
        assert any(message in e for e in form.errors[field]), form.errors


def test_cross_field_rules_use_jsonschema(app):
    schema = json.loads((Path(app.config["FORMS_DIR"]) / "respuesta_institucion.json").read_text())
    data = {"respuesta": "rechazada", "fecha_respuesta": "2026-01-01", "remitir_otra": "no"}
    with app.test_request_context():
        compiled, form = form_for(app, data, schema=schema, ui={})
        assert not compiled.validate(form)
        assert form.errors == {"motivo_rechazo": ["Este campo es obligatorio."]}
        compiled, form = form_for(app, {**data, "motivo_rechazo": "Sin cupo"}, schema=schema, ui={})
        assert compiled.validate(form)


@pytest.mark.parametrize("schema,message", [
    ("{not json", "JSON no válido"),
    ('{"type": "object", "properties": {"x": {"type": "object"}}}', "no soportado"),
    ('{"type": "object", "properties": {"x": {"type": "string", "x-siproc-options": "planetas"}}}', "planetas"),
    ('{"type": "object", "properties": {"data": {"type": "string"}}}', "reservado"),
    ('{"type": "object", "properties": {"x": {"type": "string"}}, "required": ["y"]}', "«y»"),
    ('{"type": "object", "properties": {"x": {"type": "string", "minLength": "dos"}}}', "JSON Schema no válido"),
    ('[1, 2]', "objeto"),
])
def test_unsupported_schemas_are_refused(schema, message):
    with pytest.raises(FormSchemaError) as refused:
        load_form("malo.json", schema)
    assert message in str(refused.value) and "malo.json" in str(refused.value)


def test_every_project_form_compiles(app):
    forms_dir = Path(app.config["FORMS_DIR"])
    schemas = [p for p in forms_dir.glob("*.json") if not p.name.endswith("_ui.json")]
    assert {"registro_caso.json", "persona.json", "aprobacion_cierre.json"} <= {p.name for p in schemas}
    for path in schemas:
        ui_path = path.with_name(path.stem + "_ui.json")
        ui = json.loads(ui_path.read_text()) if ui_path.exists() else {}
        compiled = compile_form(path.name, load_form(path.name, path.read_text()), ui)
        assert compiled.fields and compiled.title
