"""Arrays of objects (RJSF): a repeating group of rows, each a fieldset of single-value fields."""
import json
import re

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from app.formschema import FormSchemaError, compile_form, load_form
from app.reference.services import option_choices

REMISIONES = {
    "type": "array", "title": "Instituciones a las que se remite", "minItems": 1, "maxItems": 5,
    "items": {
        "type": "object", "title": "Remisión",
        "required": ["institucion", "servicio_solicitado"],
        "properties": {
            "institucion": {"type": "string", "title": "Institución", "x-siproc-options": "institutions"},
            "servicio_solicitado": {"type": "string", "title": "Servicio solicitado", "minLength": 5,
                                    "maxLength": 2000},
            "plazo_dias": {"type": "integer", "title": "Plazo de respuesta (días)", "minimum": 1, "maximum": 60},
        },
    },
}
SCHEMA = {"title": "Remisión a institución", "type": "object",
          "properties": {"remisiones": REMISIONES, "nota": {"type": "string", "title": "Nota"}}}
UI = {"remisiones": {"items": {"servicio_solicitado": {"ui:widget": "textarea"},
                               "ui:order": ["institucion", "servicio_solicitado", "plazo_dias"]}}}
RENDER = '{% from "_form.html" import render_compiled %}{{ render_compiled(compiled, form) }}'


def compiled_for(schema=SCHEMA, ui=UI):
    return compile_form("remision.json", load_form("remision.json", json.dumps(schema)), ui)


def form_for(data, schema=SCHEMA, ui=UI):
    compiled = compiled_for(schema, ui)
    return compiled, compiled.build(option_choices, formdata=MultiDict(data), csrf=False)


def refused(schema) -> str:
    with pytest.raises(FormSchemaError) as caught:
        compiled_for(schema, {})
    return str(caught.value)


def with_rows(**changes):
    return {**SCHEMA, "properties": {**SCHEMA["properties"], "remisiones": {**REMISIONES, **changes}}}


def with_item_property(name, prop):
    items = {**REMISIONES["items"], "properties": {**REMISIONES["items"]["properties"], name: prop}}
    return with_rows(items=items)


def row_fieldsets(html):
    return re.findall(r"<fieldset[^>]*data-row(?:>| [^>]*>)\s*<legend[^>]*>(.*?)</legend>", html)


def test_the_rows_render_as_numbered_fieldsets_with_the_row_fields(app):
    compiled = compiled_for()
    assert compiled.sources == {"institutions"}  # the catalogue inside the rows is loaded
    with app.test_request_context():
        form = compiled.build(option_choices, csrf=False)
        html = render_template_string(RENDER, compiled=compiled, form=form)
    assert row_fieldsets(html) == [f"Remisión {n}" for n in range(1, 6)]
    assert "Instituciones a las que se remite" in html
    for index in range(5):
        select = (f'<select class="form-select " id="remisiones-{index}-institucion" '
                  f'name="remisiones-{index}-institucion"')
        assert select in html
        assert f'name="remisiones-{index}-plazo_dias"' in html
    assert 'name="remisiones-5-institucion"' not in html
    assert '<option value="INM-MX">INM México' in html
    assert html.index("remisiones-0-institucion") < html.index("remisiones-0-servicio_solicitado") \
        < html.index("remisiones-0-plazo_dias")
    assert "Añadir otra" in html and "js/form_rows.js" in html
    # empty rows must stay sendable: no HTML "required" on the fields of a row (the server checks filled rows)
    controls = re.findall(r"<(?:input|select|textarea)[^>]*remisiones-[^>]*>", html)
    assert len(controls) == 15 and not any(" required" in c for c in controls)


def test_ui_widget_textarea_applies_inside_the_rows(app):
    with app.test_request_context():
        compiled = compiled_for()
        html = render_template_string(RENDER, compiled=compiled, form=compiled.build(option_choices, csrf=False))
    assert '<textarea class="form-control " id="remisiones-2-servicio_solicitado"' in html
    assert re.search(r'<input[^>]*name="remisiones-2-servicio_solicitado"', html) is None
    without_ui = compiled_for(ui={})
    assert [s.kind for s in without_ui.fields[0].items] == ["select", "string", "integer"]


def test_two_rows_and_a_blank_one_give_two_dicts(app):
    data = [("remisiones-0-institucion", "INM-MX"), ("remisiones-0-servicio_solicitado", "Retorno asistido"),
            ("remisiones-0-plazo_dias", "10"),
            ("remisiones-1-institucion", ""), ("remisiones-1-servicio_solicitado", "  "),
            ("remisiones-1-plazo_dias", ""),
            ("remisiones-2-institucion", "OFAMIR"), ("remisiones-2-servicio_solicitado", "Traslado a casa"),
            ("remisiones-2-plazo_dias", "")]
    with app.test_request_context():
        compiled, form = form_for(data)
        assert compiled.validate(form), form.errors
        assert compiled.to_json(form) == {"nota": None, "remisiones": [
            {"institucion": "INM-MX", "servicio_solicitado": "Retorno asistido", "plazo_dias": 10},
            {"institucion": "OFAMIR", "servicio_solicitado": "Traslado a casa", "plazo_dias": None}]}


def test_labelled_shows_the_choice_label_one_line_per_row(app):
    data = [("remisiones-0-institucion", "INM-MX"), ("remisiones-0-servicio_solicitado", "Retorno asistido"),
            ("remisiones-0-plazo_dias", "10"),
            ("remisiones-3-institucion", "OFAMIR"), ("remisiones-3-servicio_solicitado", "Traslado a casa")]
    with app.test_request_context():
        compiled, form = form_for(data)
        assert compiled.validate(form), form.errors
        labelled = dict(compiled.labelled(form))
    inm = dict(option_choices("institutions"))["INM-MX"]
    assert inm.startswith("INM México")
    ofamir = dict(option_choices("institutions"))["OFAMIR"]
    assert labelled["Instituciones a las que se remite"] == f"{inm}: Retorno asistido · 10\n{ofamir}: Traslado a casa"
    assert labelled["Nota"] == "—"


def test_a_partly_filled_row_gets_its_own_errors_and_nothing_else(app):
    data = [("remisiones-0-institucion", "INM-MX"), ("remisiones-0-servicio_solicitado", "Retorno asistido"),
            ("remisiones-1-institucion", "OFAMIR"), ("remisiones-1-servicio_solicitado", ""),
            ("remisiones-1-plazo_dias", "")]
    with app.test_request_context():
        compiled, form = form_for(data)
        assert not compiled.validate(form)
        assert form.errors == {"remisiones": [{}, {"servicio_solicitado": ["Este campo es obligatorio."]},
                                              {}, {}, {}]}
        html = render_template_string(RENDER, compiled=compiled, form=form)
    assert html.count("Este campo es obligatorio.") == 1
    assert '<textarea class="form-control is-invalid" id="remisiones-1-servicio_solicitado"' in html
    assert 'id="remisiones-0-servicio_solicitado"' in html and \
        '<textarea class="form-control is-invalid" id="remisiones-0-' not in html


def test_row_constraints_apply(app):
    data = [("remisiones-0-institucion", "INM-MX"), ("remisiones-0-servicio_solicitado", "Ret"),
            ("remisiones-0-plazo_dias", "61")]
    with app.test_request_context():
        compiled, form = form_for(data)
        assert not compiled.validate(form)
        errors = form.errors["remisiones"][0]
        assert errors == {"servicio_solicitado": ["Debe tener entre 5 y 2000 caracteres."],
                          "plazo_dias": ["Debe estar entre 1 y 60."]}


def test_no_rows_with_min_items_is_an_error_of_the_list(app):
    with app.test_request_context():
        compiled, form = form_for([("remisiones-0-institucion", ""), ("nota", "x")])
        assert not compiled.validate(form)
        assert form.errors == {"remisiones": ["Añada al menos 1 fila."]}
        html = render_template_string(RENDER, compiled=compiled, form=form)
    assert "Añada al menos 1 fila." in html


def test_a_required_list_needs_a_row_even_without_min_items(app):
    schema = {**with_rows(minItems=0), "required": ["remisiones"]}
    with app.test_request_context():
        compiled, form = form_for([], schema=schema)
        assert not compiled.validate(form)
        assert form.errors == {"remisiones": ["Añada al menos 1 fila."]}
        compiled, form = form_for([], schema=with_rows(minItems=0))
        assert compiled.validate(form), form.errors
        assert compiled.to_json(form)["remisiones"] == []


def test_min_items_counts_rows(app):
    data = [("remisiones-0-institucion", "INM-MX"), ("remisiones-0-servicio_solicitado", "Retorno asistido")]
    with app.test_request_context():
        compiled, form = form_for(data, schema=with_rows(minItems=2))
        assert not compiled.validate(form)
        assert form.errors == {"remisiones": ["Añada al menos 2 filas."]}


def test_a_row_index_beyond_max_items_is_ignored(app):
    data = [("remisiones-0-institucion", "INM-MX"), ("remisiones-0-servicio_solicitado", "Retorno asistido"),
            ("remisiones-7-institucion", "OFAMIR"), ("remisiones-7-servicio_solicitado", "Fuera de rango"),
            ("remisiones-99999999999999999999-institucion", "OFAMIR"), ("remisiones-x-institucion", "OFAMIR")]
    with app.test_request_context():
        compiled, form = form_for(data)
        assert len(form.remisiones.entries) == 5
        assert [e.name for e in form.remisiones.entries] == [f"remisiones-{n}" for n in range(5)]
        assert compiled.validate(form), form.errors
        assert compiled.to_json(form)["remisiones"] == [
            {"institucion": "INM-MX", "servicio_solicitado": "Retorno asistido", "plazo_dias": None}]
        html = render_template_string(RENDER, compiled=compiled, form=form)
    assert "remisiones-7" not in html and "Fuera de rango" not in html


def test_only_an_index_beyond_max_items_counts_as_no_rows(app):
    data = [("remisiones-7-institucion", "OFAMIR"), ("remisiones-7-servicio_solicitado", "Fuera de rango")]
    with app.test_request_context():
        compiled, form = form_for(data)
        assert not compiled.validate(form)
        assert form.errors == {"remisiones": ["Añada al menos 1 fila."]}


def test_saved_rows_come_back_into_the_form(app):
    saved = {"remisiones": [{"institucion": "OFAMIR", "servicio_solicitado": "Traslado a casa", "plazo_dias": 3},
                            "basura", {"institucion": "INM-MX", "meta": {"csrf": True}}]}
    with app.test_request_context():
        compiled = compiled_for()
        form = compiled.build(option_choices, data=saved, csrf=False)
        assert form.remisiones.entries[0].form.servicio_solicitado.data == "Traslado a casa"
        assert form.remisiones.entries[0].form.plazo_dias.data == 3
        assert form.remisiones.entries[1].form.institucion.data == "INM-MX"
        assert compiled.to_json(form)["remisiones"] == [
            {"institucion": "OFAMIR", "servicio_solicitado": "Traslado a casa", "plazo_dias": 3},
            {"institucion": "INM-MX", "servicio_solicitado": None, "plazo_dias": None}]
        html = render_template_string(RENDER, compiled=compiled, form=form)
    assert '<option selected value="OFAMIR">' in html
    assert 'id="remisiones-0-plazo_dias" max="60" min="1" name="remisiones-0-plazo_dias" type="number" value="3">' \
        in html
    assert 'id="remisiones-1-plazo_dias" max="60" min="1" name="remisiones-1-plazo_dias" type="number" value="">' \
        in html


def test_dates_and_yes_no_inside_rows_round_trip(app):
    items = {"type": "object", "required": ["fecha", "atendida"], "properties": {
        "fecha": {"type": "string", "format": "date", "title": "Fecha"},
        "atendida": {"type": "boolean", "title": "Atendida"}}}
    schema = {"type": "object", "properties": {"visitas": {"type": "array", "maxItems": 2, "items": items}}}
    with app.test_request_context():
        compiled, form = form_for([("visitas-0-fecha", "2026-01-31"), ("visitas-0-atendida", "no")], schema, {})
        assert compiled.validate(form), form.errors
        assert compiled.to_json(form) == {"visitas": [{"fecha": "2026-01-31", "atendida": False}]}
        assert dict(compiled.labelled(form)) == {"visitas": "31/01/2026: No"}
        again = compiled.build(option_choices, data=compiled.to_json(form), csrf=False)
        assert compiled.to_json(again) == {"visitas": [{"fecha": "2026-01-31", "atendida": False}]}


def test_schema_rules_see_the_rows(app):
    schema = with_rows(uniqueItems=True)
    row = [("institucion", "INM-MX"), ("servicio_solicitado", "Retorno asistido")]
    data = [(f"remisiones-{i}-{k}", v) for i in (0, 1) for k, v in row]
    with app.test_request_context():
        compiled, form = form_for(data, schema=schema)
        assert not compiled.validate(form)
        assert form.errors == {"remisiones": ["El valor no es válido."]}
        compiled, form = form_for(data[:2], schema=schema)
        assert compiled.validate(form), form.errors


@pytest.mark.parametrize("schema,message", [
    (with_item_property("telefonos", {"type": "array", "maxItems": 3, "items": {"type": "string"}}),
     "campo «remisiones»: campo de la fila «telefonos»: una fila no puede contener listas"),
    (with_item_property("otras", {"type": "array", "maxItems": 2, "items": {
        "type": "object", "properties": {"x": {"type": "string"}}}}),
     "campo de la fila «otras»: una fila no puede contener listas de filas"),
    (with_item_property("fijo", {"type": "string", "readOnly": True}), "aún no admiten «readOnly»"),
    ({**SCHEMA, "properties": {"remisiones": {k: v for k, v in REMISIONES.items() if k != "maxItems"}}},
     "campo «remisiones»: una lista de filas debe indicar «maxItems» entre 1 y 10"),
    (with_rows(maxItems=11), "campo «remisiones»: una lista de filas debe indicar «maxItems» entre 1 y 10"),
    (with_rows(maxItems=0), "«maxItems» entre 1 y 10"),
    (with_rows(minItems=6), "«minItems» de una lista de filas debe estar entre 0 y «maxItems»"),
    (with_rows(items={"type": "object", "title": "Remisión"}), "deben definir sus campos en «properties»"),
    (with_rows(items={**REMISIONES["items"], "required": ["nadie"]}), "«nadie» de la fila no está definido"),
    (with_item_property("data", {"type": "string"}), "campo de la fila «data»: el nombre está reservado"),
    (with_item_property("x", {"type": "string", "x-siproc-options": "planetas"}), "«planetas» desconocido"),
    (with_item_property("x", {"type": "null"}), "tipo «null» no soportado"),
    (with_item_property("x", {"type": ["string", "integer"]}), "indique un solo tipo"),
    (with_rows(items={"type": "object", "properties": {f"c{i}": {"type": "string"} for i in range(21)}}),
     "como máximo 20 campos"),
])
def test_unsupported_rows_are_refused_in_spanish(schema, message):
    assert message in refused(schema)


def test_the_row_ui_schema_is_checked():
    schema = load_form("remision.json", json.dumps(SCHEMA))
    for ui, message in [({"remisiones": {"items": []}}, "«items» debe ser un objeto"),
                        ({"remisiones": {"items": {"ui:order": "institucion"}}}, "«ui:order» debe ser una lista"),
                        ({"remisiones": {"items": {"institucion": {"ui:widget": 3}}}},
                         "«ui:widget» debe ser un texto")]:
        with pytest.raises(FormSchemaError) as caught:
            compile_form("remision.json", schema, ui)
        assert message in str(caught.value)


def test_submit_values_accepts_a_list_of_dicts(app, monkeypatch):
    from app.core.errors import DomainError
    from app.tasks import services

    compiled = compiled_for()
    seen = {}

    class Task:
        completed_at = None

    monkeypatch.setattr(services, "compiled_form", lambda task: compiled)
    monkeypatch.setattr(services, "complete_task",
                        lambda user, task, compiled_, form, extras=None: seen.update(
                            data=compiled_.to_json(form), details=compiled_.labelled(form)))
    with app.test_request_context():
        services.submit_values(None, Task(), {"remisiones": [
            {"institucion": "INM-MX", "servicio_solicitado": "Retorno asistido", "plazo_dias": 10},
            {"institucion": "OFAMIR", "servicio_solicitado": "Traslado a casa", "plazo_dias": None}]})
        assert seen["data"]["remisiones"] == [
            {"institucion": "INM-MX", "servicio_solicitado": "Retorno asistido", "plazo_dias": 10},
            {"institucion": "OFAMIR", "servicio_solicitado": "Traslado a casa", "plazo_dias": None}]
        with pytest.raises(DomainError) as caught:
            services.submit_values(None, Task(), {"remisiones": [{"institucion": "INM-MX"}]})
        assert "servicio_solicitado" in str(caught.value) and "Este campo es obligatorio." in str(caught.value)
