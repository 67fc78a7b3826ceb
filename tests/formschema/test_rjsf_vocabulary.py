"""The JSON Schema / RJSF vocabulary SpiffArena forms use: nested objects, repeatable groups, lists, choices,
readOnly, defaults, nullable types, local references, formats, custom error text and the ui:* keys; what is
still not supported is refused with a Spanish message naming the feature and the field."""
import json
import re

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from app.formschema import FormSchemaError, compile_form, load_form
from app.reference.services import option_choices

RENDER = '{% from "_form.html" import render_compiled %}{{ render_compiled(compiled, form) }}'


def compiled_for(schema, ui=None):
    return compile_form("f.json", load_form("f.json", json.dumps(schema)), ui or {})


def refused(schema, ui=None) -> str:
    with pytest.raises(FormSchemaError) as caught:
        compiled_for(schema, ui)
    return str(caught.value)


def submit(app, schema, data, ui=None, **build):
    compiled = compiled_for(schema, ui)
    with app.test_request_context():
        form = compiled.build(option_choices, formdata=MultiDict(data), csrf=False, **build)
        ok = compiled.validate(form)
        return ok, compiled.to_json(form), form.errors


def html_of(app, schema, ui=None, **build):
    compiled = compiled_for(schema, ui)
    with app.test_request_context():
        return render_template_string(RENDER, compiled=compiled, form=compiled.build(option_choices, csrf=False,
                                                                                    **build))


PERSONA = {
    "title": "Contacto", "required": ["nombre"],  # no top-level "type": RJSF assumes an object
    "properties": {
        "nombre": {"type": "string", "title": "Nombre"},
        "domicilio": {"type": "object", "title": "Domicilio", "required": ["ciudad"], "properties": {
            "ciudad": {"type": "string", "title": "Ciudad"},
            "pais": {"type": "string", "title": "País", "default": "México"},
            "geo": {"type": "object", "title": "Coordenadas", "properties": {
                "lat": {"type": "number", "title": "Latitud"}}},
        }},
    },
}


def test_a_schema_without_top_level_type_but_with_properties_is_accepted():
    assert [f.name for f in compiled_for(PERSONA).fields] == ["nombre", "domicilio"]


@pytest.mark.parametrize("schema, message", [
    ({"title": "Sin campos"}, "el formulario debe definir sus campos en «properties»"),
    ({"type": "object", "properties": {}}, "debe definir sus campos en «properties»"),
    ({"type": "array", "items": {"type": "string"}}, "un formulario que es una lista"),
    ({"type": "string", "properties": {"a": {"type": "string"}}}, "debe ser de tipo «object»"),
])
def test_a_form_without_fields_is_refused_with_the_right_reason(schema, message):
    problem = refused(schema)
    assert message in problem and "f.json" in problem, problem
    if "type" not in schema:
        assert "object" not in problem  # it does not blame the missing "type"


def test_nested_objects_render_as_fieldsets_and_come_back_as_objects(app):
    html = html_of(app, PERSONA)
    assert re.search(r'<fieldset[^>]*id="domicilio"[^>]*data-group>\s*<legend[^>]*>Domicilio</legend>', html)
    assert 'name="domicilio-ciudad"' in html and 'name="domicilio-geo-lat"' in html
    assert 'value="México"' in html  # a nested default
    ok, data, errors = submit(app, PERSONA, {"nombre": "Ana", "domicilio-ciudad": "León",
                                             "domicilio-pais": "México", "domicilio-geo-lat": "21.1"})
    assert ok, errors
    assert data == {"nombre": "Ana", "domicilio": {"ciudad": "León", "pais": "México", "geo": {"lat": 21.1}}}
    ok, data, errors = submit(app, PERSONA, {"nombre": "Ana"})
    assert not ok and errors["domicilio"] == {"ciudad": ["Este campo es obligatorio."]}


FAMILIA = {"type": "object", "properties": {"contactos": {
    "type": "array", "title": "Contactos familiares", "minItems": 1, "maxItems": 3,
    "items": {"type": "object", "title": "Contacto", "required": ["nombre"], "properties": {
        "nombre": {"type": "string", "title": "Nombre"},
        "telefono": {"type": "object", "title": "Teléfono", "properties": {
            "prefijo": {"type": "string"}, "numero": {"type": "string", "pattern": "^[0-9]+$"}}},
    }}}}}


def test_a_repeatable_group_may_contain_a_nested_object(app):
    html = html_of(app, FAMILIA)
    assert html.count("data-remove-row") == 3 and "Añadir otra" in html and "js/form_rows.js" in html
    assert 'name="contactos-2-telefono-numero"' in html and 'name="contactos-3-nombre"' not in html
    assert "<script>" not in html and "onclick" not in html  # CSP: no inline script
    ok, data, errors = submit(app, FAMILIA, {"contactos-0-nombre": "Luis", "contactos-0-telefono-numero": "555",
                                             "contactos-2-telefono-prefijo": "+52", "contactos-2-nombre": "Eva"})
    assert ok, errors
    assert data == {"contactos": [{"nombre": "Luis", "telefono": {"prefijo": None, "numero": "555"}},
                                  {"nombre": "Eva", "telefono": {"prefijo": "+52", "numero": None}}]}
    ok, data, errors = submit(app, FAMILIA, {"contactos-1-telefono-numero": "abc"})
    assert not ok and errors["contactos"][1] == {"nombre": ["Este campo es obligatorio."],
                                                 "telefono": {"numero": ["El formato no es válido."]}}
    ok, _data, errors = submit(app, FAMILIA, {})
    assert not ok and "Añada al menos 1 fila." in errors["contactos"]


def test_defaults_inside_rows_fill_the_rows_the_list_starts_with_and_leave_empty_rows_empty(app):
    schema = {"properties": {"visitas": {"type": "array", "maxItems": 3, "default": [{"lugar": "CERESO"}],
                                         "items": {"type": "object", "properties": {
                                             "lugar": {"type": "string"},
                                             "veces": {"type": "integer", "default": 1}}}}}}
    html = html_of(app, schema)
    assert re.search(r'name="visitas-0-veces"[^>]*value="1"', html)
    assert not re.search(r'name="visitas-1-veces"[^>]*value="1"', html)
    ok, data, errors = submit(app, schema, {"visitas-0-lugar": "CERESO", "visitas-0-veces": "1"})
    assert ok and data == {"visitas": [{"lugar": "CERESO", "veces": 1}]}, errors


def test_a_list_of_texts_is_rows_of_one_field_and_unique_enum_items_are_checkboxes(app):
    schema = {"properties": {
        "alias": {"type": "array", "title": "Otros nombres", "maxItems": 4, "items": {"type": "string",
                                                                                      "maxLength": 5}},
        "idiomas": {"type": "array", "title": "Idiomas", "uniqueItems": True,
                    "items": {"type": "string", "enum": ["es", "en", "qu"], "enumNames": ["Español", "Inglés",
                                                                                          "Quechua"]}}}}
    html = html_of(app, schema)
    assert 'name="alias-3"' in html and 'name="alias-4"' not in html
    assert 'type="checkbox"' in html and "Quechua" in html
    ok, data, errors = submit(app, schema, MultiDict([("alias-0", "Pepe"), ("alias-2", "Toño"),
                                                      ("idiomas", "es"), ("idiomas", "qu")]))
    assert ok, errors
    assert data == {"alias": ["Pepe", "Toño"], "idiomas": ["es", "qu"]}
    ok, _data, errors = submit(app, schema, {"alias-1": "demasiado largo", "idiomas": "fr"})
    assert not ok and errors["alias"][1] == ["Debe tener como máximo 5 caracteres."] and errors["idiomas"]


def test_enum_names_and_titled_one_of_and_any_of_are_choices_that_keep_their_type(app):
    schema = {"properties": {
        "riesgo": {"type": "integer", "title": "Riesgo", "anyOf": [{"const": 1, "title": "Bajo"},
                                                                   {"const": 3, "title": "Alto"}]},
        "via": {"type": "string", "oneOf": [{"const": "tel", "title": "Teléfono"},
                                            {"const": "mail", "title": "Correo"}]},
        "sexo": {"type": "string", "enum": ["f", "m"], "enumNames": ["Mujer", "Hombre"]}}}
    html = html_of(app, schema, {"via": {"ui:widget": "radio"}})
    assert '<option value="3">Alto</option>' in html and 'type="radio"' in html and ">Mujer</option>" in html
    ok, data, errors = submit(app, schema, {"riesgo": "3", "via": "mail", "sexo": "f"})
    assert ok, errors
    assert data == {"riesgo": 3, "via": "mail", "sexo": "f"}
    ok, _data, errors = submit(app, schema, {"riesgo": "2"})
    assert not ok and errors["riesgo"]


@pytest.mark.parametrize("prop, message", [
    ({"type": "string", "anyOf": [{"minLength": 2}, {"pattern": "a"}]}, "campo «x»: «anyOf» solo se admite"),
    ({"type": "string", "oneOf": [{"title": "A"}]}, "campo «x»: cada opción de «oneOf» debe ser un objeto con «const»"),
    ({"type": "array", "items": {"type": "string", "format": "data-url"}}, "campo «x»: las listas de archivos"),
    ({"type": "string", "format": "data-url", "readOnly": True}, None),
    ({"type": "string", "ui": 1, "anyOf": ["otra cosa"]}, "«anyOf» con texto"),
    ({"type": ["string", "integer"]}, "campo «x»: tipo"),
    ({"type": "object"}, "campo «x»: tipo «object» sin «properties» no soportado"),
    ({"type": "null"}, "tipo «null» no soportado"),
    ({"title": "Sin tipo"}, "campo «x»: indique «type»"),
    ({"type": "string", "validationErrorMessage": 3}, "«validationErrorMessage» debe ser un texto"),
])
def test_unsupported_features_name_the_feature_and_the_field(prop, message):
    if message is None:  # a file field is a file input; readOnly does not apply to it
        assert compiled_for({"properties": {"x": prop}}).fields[0].kind == "file"
        return
    problem = refused({"properties": {"x": prop}})
    assert message in problem, problem


def test_a_file_inside_rows_is_refused_naming_the_field():
    problem = refused({"properties": {"docs": {"type": "array", "maxItems": 2, "items": {
        "type": "object", "properties": {"copia": {"type": "string", "format": "data-url"}}}}}})
    assert "campo «docs»: campo de la fila «copia»: los campos de archivo" in problem, problem


@pytest.mark.parametrize("ui, message", [
    ({"x": {"ui:widget": "colorpicker"}}, "control «colorpicker» desconocido"),
    ({"x": {"ui:widget": "checkboxes"}}, "el control «checkboxes» no sirve para este campo"),
    ({"x": {"ui:options": {"rows": "cinco"}}}, "«rows» debe ser un número entero"),
    ({"x": {"ui:options": 5}}, "«ui:options» debe ser un objeto"),
    ({"x": {"ui:readonly": "sí"}}, "«ui:readonly» debe ser true o false"),
    ({"g": {"y": "textarea"}}, "campo «g»: campo «y»: la presentación de un campo debe ser un objeto"),
])
def test_ui_schema_problems_name_the_widget_and_the_field(ui, message):
    schema = {"properties": {"x": {"type": "string"}, "g": {"type": "object", "properties": {
        "y": {"type": "string"}}}}}
    problem = refused(schema, ui)
    assert message in problem and ("«x»" in problem or "«g»" in problem), problem


def test_unknown_ui_keys_are_ignored():
    compiled = compiled_for({"properties": {"x": {"type": "string"}}},
                            {"x": {"ui:colorScheme": "dark", "ui:enableMarkdownInDescription": True},
                             "ui:submitButtonOptions": {"norender": True}})
    assert compiled.fields[0].kind == "string"


def test_read_only_values_are_never_taken_from_the_submission(app):
    schema = {"properties": {
        "oficina": {"type": "string", "title": "Oficina", "readOnly": True, "default": "Tapachula"},
        "codigo": {"type": "string", "default": "K-1"},
        "nota": {"type": "string"},
        "grupo": {"type": "object", "properties": {"fijo": {"type": "integer", "default": 7}}}}}
    ui = {"codigo": {"ui:widget": "hidden"}, "grupo": {"fijo": {"ui:disabled": True}}}
    html = html_of(app, schema, ui)
    assert re.search(r'<input[^>]*disabled[^>]*name="oficina"[^>]*value="Tapachula"', html), html
    assert re.search(r'<input[^>]*name="codigo" type="hidden" value="K-1"', html), html
    ok, data, errors = submit(app, schema, {"oficina": "Otra", "codigo": "X", "nota": "n", "grupo-fijo": "9"}, ui)
    assert ok, errors
    assert data == {"oficina": "Tapachula", "codigo": "K-1", "nota": "n", "grupo": {"fijo": 7}}
    ok, data, _errors = submit(app, schema, {"oficina": "Otra"}, ui, fixed={"oficina": "Houston"})
    assert data["oficina"] == "Houston"  # a prefilled value stays


@pytest.mark.parametrize("prop", [
    {"type": ["string", "null"]},
    {"type": "string", "nullable": True},
    {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]},
    {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/corto"}]},
])
def test_nullable_types_are_optional_fields_that_become_none(app, prop):
    schema = {"$defs": {"corto": {"type": "string", "maxLength": 3}}, "properties": {"x": prop}}
    assert compiled_for(schema).fields[0].kind == "string" and compiled_for(schema).fields[0].nullable
    ok, data, errors = submit(app, schema, {"x": ""})
    assert ok and data == {"x": None}, errors
    ok, data, _errors = submit(app, schema, {"x": "abc"})
    assert ok and data == {"x": "abc"}


def test_local_refs_defs_and_definitions_are_resolved():
    schema = {"definitions": {"telefono": {"type": "string", "title": "Teléfono", "pattern": "^[0-9 +]+$"}},
              "$defs": {"persona": {"type": "object", "title": "Persona", "properties": {
                  "nombre": {"type": "string"}, "telefono": {"$ref": "#/definitions/telefono"}}}},
              "properties": {"titular": {"$ref": "#/$defs/persona", "title": "Titular"},
                             "otro": {"$ref": "#/$defs/persona"}}}
    compiled = compiled_for(schema)
    assert [(f.name, f.kind, f.title) for f in compiled.fields] == [("titular", "group", "Titular"),
                                                                    ("otro", "group", "Persona")]
    assert compiled.fields[0].items[1].title == "Teléfono"


@pytest.mark.parametrize("prop, value, message", [
    ({"type": "string", "format": "email"}, "ana@", "dirección de correo válida"),
    ({"type": "string", "format": "uri"}, "no es una uri", "dirección completa"),
    ({"type": "string", "format": "date-time"}, "ayer", "Not a valid datetime value."),
    ({"type": "string", "format": "date"}, "31/02/2026", "Not a valid date value."),
])
def test_formats_are_checked_on_the_server(app, prop, value, message):
    ok, _data, errors = submit(app, {"properties": {"x": prop}}, {"x": value})
    assert not ok and errors["x"], errors


def test_date_time_is_a_datetime_local_input_stored_as_iso(app):
    schema = {"properties": {"cuando": {"type": "string", "format": "date-time"},
                             "correo": {"type": "string", "format": "email"},
                             "web": {"type": "string", "format": "uri"}}}
    html = html_of(app, schema)
    assert 'type="datetime-local"' in html and 'type="email"' in html and 'type="url"' in html
    ok, data, errors = submit(app, schema, {"cuando": "2026-12-08T10:30", "correo": "ana@sre.gob.mx",
                                            "web": "https://sre.gob.mx"})
    assert ok, errors
    assert data == {"cuando": "2026-12-08T10:30:00", "correo": "ana@sre.gob.mx", "web": "https://sre.gob.mx"}


def test_validation_error_message_replaces_the_generic_messages(app):
    schema = {"required": ["curp"], "properties": {"curp": {
        "type": "string", "pattern": "^[A-Z]{4}[0-9]{6}", "validationErrorMessage": "La CURP no es válida."}}}
    for value in ("", "abc"):
        ok, _data, errors = submit(app, schema, {"curp": value})
        assert not ok and errors == {"curp": ["La CURP no es válida."]}


def test_ui_keys_change_the_control(app):
    schema = {"properties": {
        "relato": {"type": "string", "title": "Relato", "description": "Lo que cuenta la persona"},
        "clave": {"type": "string"}, "edad": {"type": "integer"}, "menor": {"type": "boolean"},
        "fecha": {"type": "string"}, "nota": {"type": "string"}}}
    ui = {"relato": {"ui:widget": "textarea", "ui:options": {"rows": 7}, "ui:title": "Relato de los hechos",
                     "ui:help": "Sin juicios.", "ui:autofocus": True, "ui:placeholder": "Escriba aquí"},
          "clave": {"ui:widget": "password"}, "edad": {"ui:widget": "updown"},
          "menor": {"ui:widget": "select"}, "fecha": {"ui:widget": "date"},
          "nota": {"ui:options": {"label": False}, "ui:emptyValue": ""},
          "ui:order": ["nota", "*", "relato"]}
    compiled = compiled_for(schema, ui)
    assert [f.name for f in compiled.fields] == ["nota", "clave", "edad", "menor", "fecha", "relato"]
    html = html_of(app, schema, ui)
    assert re.search(r'<textarea[^>]*autofocus[^>]*name="relato"[^>]*placeholder="Escriba aquí" rows="7"', html)
    assert "Relato de los hechos" in html and "Lo que cuenta la persona Sin juicios." in html
    assert 'type="password"' in html and 'type="number"' in html and 'type="date"' in html
    assert re.search(r'<select[^>]*name="menor"', html)
    assert re.search(r'<label class="form-label visually-hidden" for="nota"', html)
    ok, data, errors = submit(app, schema, {"menor": "si", "edad": "4"}, ui)
    assert ok, errors
    assert data["nota"] == "" and data["menor"] is True and data["edad"] == 4


TASK_OPTIONS = {"properties": {
    "fruta": {"type": "string", "title": "Fruta", "anyOf": ["options_from_task_data_var:frutas"]},
    "varias": {"type": "array", "items": {"type": "string", "anyOf": ["options_from_task_data_var:frutas"]}}},
    "required": ["fruta"]}


def test_options_from_task_data(app):
    compiled = compiled_for(TASK_OPTIONS)
    assert compiled.task_vars == {"frutas"}
    frutas = {"frutas": [{"value": "manzana", "label": "Manzana"}, "pera"]}
    html = html_of(app, TASK_OPTIONS, task_data=frutas)
    assert '<option value="manzana">Manzana</option>' in html and '<option value="pera">pera</option>' in html
    ok, data, errors = submit(app, TASK_OPTIONS, MultiDict([("fruta", "pera"), ("varias", "manzana")]),
                              task_data=frutas)
    assert ok and data == {"fruta": "pera", "varias": ["manzana"]}, errors
    ok, _data, errors = submit(app, TASK_OPTIONS, {"fruta": "uva"}, task_data=frutas)
    assert not ok and errors["fruta"]


@pytest.mark.parametrize("value, why", [
    (None, "no tienen esa lista"),
    ("manzana", "no son una lista"),
    (["x"] * 501, "más de 500 opciones"),
    (["x" * 201], "más de 200 caracteres"),
    ([{"value": {"a": 1}, "label": "A"}], "cada opción debe ser un texto"),
])
def test_task_data_options_of_the_wrong_shape_are_a_spanish_note_not_a_500(app, value, why):
    html = html_of(app, TASK_OPTIONS, task_data={"frutas": value} if value is not None else {})
    assert "Las opciones de la lista «frutas» no están disponibles" in html and why in html
    ok, _data, errors = submit(app, TASK_OPTIONS, {"fruta": "x"}, task_data={"frutas": value})
    assert not ok and errors["fruta"]


def test_budgets_of_fields_and_nesting():
    many = {"properties": {f"c{i}": {"type": "object", "properties": {f"d{j}": {"type": "string"} for j in range(30)}}
                           for i in range(20)}}
    assert "más de 500 campos" in refused(many)
    deep = {"type": "string"}
    for level in range(10):
        deep = {"type": "object", "properties": {f"n{level}": deep}}
    assert "niveles de grupos y filas anidados" in refused({"properties": {"raiz": deep}})


# -- the Formularios pages: what used to answer 500, and the new vocabulary, over HTTP ------------------------
@pytest.mark.parametrize("text", [
    {"properties": {"x": {"type": "string", "oneOf": [{"title": "A"}, {"title": "B"}]}}},
    {"properties": {"x": {"type": "string", "anyOf": [{"type": "string"}, {"type": "integer"}]}}},
    {"properties": {"x": {"type": "array", "items": {"type": "string", "format": "data-url"}}}},
])
def test_the_editor_refuses_unsupported_idioms_with_a_422_naming_the_field(login, text):
    gestor = login("gestor")
    response = gestor.post("/formularios/registro_caso.json", data={"texto": json.dumps(text)})
    assert response.status_code == 422
    assert "campo «x»" in response.get_data(as_text=True)


def test_the_editor_saves_and_previews_a_spiffarena_style_form(login):
    gestor = login("gestor")
    gestor.post("/formularios/nuevo", data={"nombre": "contacto_prueba"})
    response = gestor.post("/formularios/contacto_prueba.json", data={"texto": json.dumps(
        {**PERSONA, "properties": {**PERSONA["properties"], "fruta": TASK_OPTIONS["properties"]["fruta"]}})})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    page = gestor.get("/formularios/contacto_prueba.json/vista-previa")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="domicilio-geo-lat"' in html and "Coordenadas" in html
    response = gestor.post("/formularios/registro_caso_ui.json", data={"texto": json.dumps(
        {"relato": {"ui:widget": "colorpicker"}})})
    assert response.status_code == 422
    assert "campo «relato»: control «colorpicker» desconocido" in response.get_data(as_text=True)


def test_submit_values_sends_groups_rows_and_lists_as_the_web_form_does(app, monkeypatch):
    from app.tasks import services

    schema = {"properties": {**PERSONA["properties"], **FAMILIA["properties"],
                             "alias": {"type": "array", "maxItems": 3, "items": {"type": "string"}}}}
    compiled = compiled_for(schema)
    seen = {}

    class Task:
        completed_at = None
        case_id = None

    monkeypatch.setattr(services, "compiled_form", lambda task: compiled)
    monkeypatch.setattr(services, "complete_task", lambda user, task, compiled_, form, extras=None: seen.update(
        data=compiled_.to_json(form)))
    values = {"nombre": "Ana", "domicilio": {"ciudad": "León", "pais": "Perú", "geo": {"lat": 1.5}},
              "contactos": [{"nombre": "Luis", "telefono": {"prefijo": "+1", "numero": "22"}}],
              "alias": ["A", "B"]}
    with app.test_request_context():
        services.submit_values(None, Task(), values)
    assert seen["data"] == {**values, "contactos": [{"nombre": "Luis", "telefono": {"prefijo": "+1",
                                                                                   "numero": "22"}}]}


def test_the_preview_says_where_task_data_options_come_from(login):
    gestor = login("gestor")
    gestor.post("/formularios/nuevo", data={"nombre": "frutas_prueba"})
    assert gestor.post("/formularios/frutas_prueba.json",
                       data={"texto": json.dumps(TASK_OPTIONS)}).status_code == 302
    html = gestor.get("/formularios/frutas_prueba.json/vista-previa").get_data(as_text=True)
    assert "(opciones de «frutas» en los datos de la tarea)" in html and "no están disponibles" not in html
