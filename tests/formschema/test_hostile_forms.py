"""Form documents are untrusted (a process owner's account may be compromised): regular expressions run in RE2,
references stay local and acyclic, size and nesting are bounded, and any document either loads or is refused
with a Spanish message, through the loader and through the «Formularios» page, never a 500 or a frozen worker."""
import html
import json
import re
import time
from pathlib import Path

import pytest
from flask import render_template_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.formschema import CompiledForm, FormSchemaError, compile_form, load_form, loader
from app.formschema.loader import MAX_DEPTH, load_ui
from app.modeler.models import FormDocument
from app.reference.services import option_choices
from app.workflow.models import ProcessVersion
from tests.helpers import REGISTRO, start_case

EVIL = "^(a+)+$"
SLOW_INPUT = "a" * 50000 + "!"
PROBLEM = re.compile(r'data-testid="form-problem">(.*?)</div>', re.S)
WARNING = re.compile(r'<div class="alert alert-warning py-2">(.*?)</div>', re.S)


def schema(**extra):
    """A one-field form; extra top-level keywords (or a replaced "properties") are merged in."""
    return {"title": "Prueba", "type": "object", "properties": {"codigo": {"type": "string", "title": "Código"}},
            **extra}


def field(**prop):
    return schema(properties={"codigo": {"type": "string", "title": "Código", **prop}})


def compiled_for(document, ui=None):
    text = document if isinstance(document, str) else json.dumps(document)
    return compile_form("prueba.json", load_form("prueba.json", text), ui or {})


def refused(document, ui_text=None) -> str:
    with pytest.raises(FormSchemaError) as caught:
        text = document if isinstance(document, str) else json.dumps(document)
        compile_form("prueba.json", load_form("prueba.json", text), load_ui("prueba_ui.json", ui_text))
    return str(caught.value)


def nested(levels: int) -> str:
    """A form whose extra value nests `levels` levels in all (the form object itself is the first)."""
    return json.dumps(schema())[:-1] + ', "x-extra": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


# -- 1. regular expressions ----------------------------------------------------------------------------
def test_a_backtracking_pattern_is_checked_in_linear_time_by_the_fields(app):
    compiled = compiled_for(field(pattern=EVIL, **{"x-siproc-pattern-message": "Solo letras a."}))
    with app.test_request_context():
        form = compiled.build(option_choices, formdata=MultiDict({"codigo": SLOW_INPUT}), csrf=False)
        started = time.perf_counter()
        assert not compiled.validate(form)
        assert time.perf_counter() - started < 1
        assert form.errors == {"codigo": ["Solo letras a."]}


def test_a_backtracking_pattern_is_checked_in_linear_time_by_the_schema_rules(app):
    compiled = compiled_for(field(pattern=EVIL))
    with app.test_request_context():
        started = time.perf_counter()
        assert compiled.schema_errors({"codigo": SLOW_INPUT}) == {"codigo": "El formato no es válido."}
        assert time.perf_counter() - started < 1
        assert compiled.schema_errors({"codigo": "aaaa"}) == {}


def test_pattern_properties_and_additional_properties_use_re2(app):
    name = "a" * 40 + "b"  # Python re would take 2**40 steps to find that ^(a+)+$ does not match it
    document = schema(properties={name: {"type": "string"}}, patternProperties={EVIL: {"minLength": 3}},
                      additionalProperties={"maxLength": 2})
    compiled = compiled_for(document)
    with app.test_request_context():
        started = time.perf_counter()
        assert compiled.schema_errors({name: "xyz"}) == {}
        assert time.perf_counter() - started < 1
    document = schema(properties={"aaa": {"type": "string"}}, patternProperties={EVIL: {"minLength": 3}})
    with app.test_request_context():
        assert compiled_for(document).schema_errors({"aaa": "x"}) == {"aaa": "El texto es demasiado corto."}


@pytest.mark.parametrize("pattern, accepted, refused_value", [
    ("[0-9]", "abc1", "abc"),  # JSON Schema patterns are not anchored
    ("^[A-Z]{3}$", "ABC", "ABCD"),
    (r"^\d{4}-\d{4}$", "2231-1988", "22311988"),
    ("^[a-zñ]{4}$", "niño", "nino!"),  # UTF-8: ñ is one character
])
def test_patterns_keep_json_schema_semantics_in_both_checks(app, pattern, accepted, refused_value):
    compiled = compiled_for(field(pattern=pattern))
    with app.test_request_context():
        for value, ok in ((accepted, True), (refused_value, False)):
            form = compiled.build(option_choices, formdata=MultiDict({"codigo": value}), csrf=False)
            assert form.validate() is ok, (value, form.errors)
            assert (compiled.schema_errors({"codigo": value}) == {}) is ok


@pytest.mark.parametrize("document, where", [
    (field(pattern=r"(a)\1"), "campo «codigo»"),
    (field(pattern="(?=a)b"), "campo «codigo»"),
    (field(pattern="(?<!a)b"), "campo «codigo»"),
    (field(pattern="a" * 1001), "campo «codigo»"),
    (schema(**{"if": {"properties": {"codigo": {"const": "x"}}},
               "then": {"properties": {"codigo": {"pattern": "(?!x)"}}}}), "campo «codigo» (then/properties"),
    (schema(**{"else": {"properties": {"codigo": {"pattern": r"(\w)\1"}}}}), "campo «codigo» (else/properties"),
    (schema(allOf=[{"properties": {"codigo": {"pattern": "(?=a)"}}}]), "campo «codigo» (allOf/0/properties"),
    (schema(**{"$defs": {"codigo_hn": {"pattern": "(?=a)"}}}), "«$defs/codigo_hn/pattern»"),
    (schema(properties={"lista": {"type": "array", "items": {"enum": ["a"], "pattern": "(?=a)"}}}), "campo «lista»"),
    (schema(patternProperties={"(?<=a)b": {}}), "«patternProperties»"),
    (schema(propertyNames={"pattern": r"(a)\1"}), "«propertyNames/pattern»"),
    (schema(dependentSchemas={"codigo": {"not": {"pattern": "(?=a)"}}}), "«dependentSchemas/codigo/not/pattern»"),
])
def test_patterns_re2_cannot_compile_are_refused_naming_where(document, where):
    message = refused(document)
    assert "prueba.json" in message and "expresión regular" in message and where in message, message


def test_the_regex_format_never_compiles_submitted_values_with_python_re(app):
    compiled = compiled_for(field(format="regex"))
    with app.test_request_context():
        started = time.perf_counter()
        assert compiled.schema_errors({"codigo": "(" * 10000}) == {}  # not checked: it would run re.compile
        assert time.perf_counter() - started < 1


def test_every_project_form_loads_and_compiles_with_re2(app):
    forms_dir = Path(app.config["FORMS_DIR"])
    names = sorted(p.name for p in forms_dir.glob("*.json"))
    assert len(names) > 20
    with app.test_request_context():
        for name in names:
            if name.endswith("_ui.json"):
                assert isinstance(load_ui(name, (forms_dir / name).read_text(encoding="utf-8")), dict)
                continue
            ui_path = forms_dir / (name[:-5] + "_ui.json")
            ui = load_ui(ui_path.name, ui_path.read_text(encoding="utf-8") if ui_path.exists() else None)
            compiled = compile_form(name, load_form(name, (forms_dir / name).read_text(encoding="utf-8")), ui)
            assert compiled.fields
            compiled.schema_errors({})
            compiled.build(option_choices, csrf=False)


# -- 2. references -------------------------------------------------------------------------------------
@pytest.mark.parametrize("document, message", [
    (schema(**{"$defs": {"a": {"$ref": "#/$defs/a"}}},
            properties={"codigo": {"type": "string", "$ref": "#/$defs/a"}}), "forma un ciclo"),
    (schema(**{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}), "forma un ciclo"),
    (schema(**{"$defs": {"a": {"allOf": [{"$ref": "#/$defs/b"}]}, "b": {"not": {"$ref": "#/$defs/a"}}}}),
     "forma un ciclo"),
    (schema(**{"$defs": {"a": {"properties": {"hijo": {"$ref": "#/$defs/a"}}}}}), "forma un ciclo"),
    (schema(allOf=[{"$ref": "#/allOf/0"}]), "forma un ciclo"),
    (field(**{"$ref": "http://169.254.169.254/latest/meta-data"}), "solo se admiten referencias locales"),
    (field(**{"$ref": "https://example.com/esquema.json#/a"}), "solo se admiten referencias locales"),
    (field(**{"$ref": "file:///etc/passwd"}), "solo se admiten referencias locales"),
    (field(**{"$ref": "persona.json"}), "solo se admiten referencias locales"),
    (field(**{"$ref": "#"}), "solo se admiten referencias locales"),
    (field(**{"$ref": "#/%24defs/a"}), "solo se admiten referencias locales"),
    (field(**{"$ref": "#ancla"}), "solo se admiten referencias locales"),
    (field(**{"$ref": "#/$defs/no_existe"}), "no apunta a ningún esquema"),
    (field(**{"$ref": "#/properties/codigo/title"}), "no apunta a ningún esquema"),
    (schema(**{"x-datos": {"type": 5}}, allOf=[{"$ref": "#/x-datos"}]), "no apunta a ningún esquema"),
    (field(**{"$dynamicRef": "#meta"}), "«$dynamicRef» no está admitido"),
    (schema(**{"$id": "https://evil.example/"}), "«$id» no está admitido"),
    (schema(**{"$defs": {"a": {"$id": "otro.json", "type": "string"}}}), "«$id» no está admitido"),
    (schema(**{"$schema": "https://evil.example/schema"}), "«$schema» solo puede indicarse en la raíz"),
    (schema(allOf=[{"$schema": "https://json-schema.org/draft/2020-12/schema"}]), "«$schema» solo puede"),
])
def test_non_local_dangling_or_cyclic_references_are_refused(document, message):
    problem = refused(document)
    assert "prueba.json" in problem and message in problem, problem


def test_a_long_chain_of_references_is_refused():
    defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(40)} | {"d40": {"minLength": 1}}
    assert "niveles de anidamiento" in refused(schema(**{"$defs": defs}, allOf=[{"$ref": "#/$defs/d0"}]))


def test_references_that_multiply_the_work_are_refused_quickly():
    defs = {f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}] * 10} for i in range(8)} | {"d8": {"minLength": 1}}
    started = time.perf_counter()  # 10**8 subschemas for jsonschema to evaluate on every submission
    assert "más de 10000 esquemas" in refused(schema(**{"$defs": defs}, allOf=[{"$ref": "#/$defs/d0"}]))
    assert time.perf_counter() - started < 1
    assert "más de 10000 esquemas" in refused(schema(allOf=[{}] * 10_001))


def test_local_acyclic_references_work(app):
    document = schema(**{"$schema": "https://json-schema.org/draft/2020-12/schema",
                         "$defs": {"corto": {"minLength": 2}, "codigo": {"allOf": [{"$ref": "#/$defs/corto"}]}}},
                      properties={"codigo": {"type": "string", "$ref": "#/$defs/codigo"},
                                  "otro": {"type": "string", "$ref": "#/$defs/corto"}})
    compiled = compiled_for(document)
    with app.test_request_context():
        assert compiled.schema_errors({"codigo": "a", "otro": "bb"}) == {"codigo": "El texto es demasiado corto."}


def test_a_field_defined_only_by_ref_takes_the_referenced_definition():
    document = schema(**{"$defs": {"texto": {"type": "string", "title": "Código"}}},
                      properties={"codigo": {"$ref": "#/$defs/texto"}})
    assert [(f.name, f.kind, f.title) for f in compiled_for(document).fields] == [("codigo", "string", "Código")]


@pytest.mark.parametrize("document", [
    field(**{"$ref": "http://127.0.0.1:9/nada.json"}),
    schema(**{"$defs": {"a": {"$ref": "#/$defs/a"}}}, properties={"codigo": {"type": "string",
                                                                             "$ref": "#/$defs/a"}}),
])
def test_schema_rules_never_fetch_or_recurse_even_without_the_loader(app, document):
    compiled = CompiledForm("prueba.json", document, {})  # as if a stored version predated the checks
    with app.test_request_context():
        assert compiled.schema_errors({"codigo": "x"}) == {
            "__form__": "El formulario tiene una regla que no se puede comprobar."}


# -- 3. size and nesting -------------------------------------------------------------------------------
def test_a_document_nested_100000_levels_is_refused_quickly():
    started = time.perf_counter()
    assert "más de 32 niveles de anidamiento" in refused(nested(100_000))
    assert time.perf_counter() - started < 1
    assert "niveles de anidamiento" in refused(nested(MAX_DEPTH + 1))
    assert compiled_for(nested(MAX_DEPTH)).fields


def test_brackets_and_escaped_quotes_inside_strings_do_not_count_as_nesting():
    title = '\\"' + "[{" * 500 + '\\\\'
    compiled = compiled_for('{"title": "' + title + '", "type": "object", "properties": {"a": {"type": "string"}}}')
    assert compiled.title.startswith('"[{[{')


def test_ui_schemas_are_bounded_too():
    assert "niveles de anidamiento" in refused(schema(), ui_text='{"codigo": ' + "[" * 5000 + "]" * 5000 + "}")


@pytest.mark.parametrize("text, message", [
    (json.dumps(schema(description="x" * 300_000)), "supera 256 KB"),
    ('{"type": "object", "properties": {"n": {"type": "number", "maximum": NaN}}}', "JSON no válido"),
    ('{"type": "object", "properties": {"n": {"type": "number", "maximum": -Infinity}}}', "JSON no válido"),
    ('{"type": "object", "properties": {"n": {"type": "number", "maximum": 1e999}}}', "JSON no válido"),
    ('{"type": "object", "properties": {"n": {"type": "integer", "maximum": 1' + "0" * 5000 + '}}}',
     "JSON no válido"),
])
def test_oversized_or_non_finite_documents_are_refused(text, message):
    assert message in refused(text)


@pytest.mark.parametrize("error", [RecursionError, TypeError, ValueError])
def test_a_schema_check_that_chokes_is_a_form_schema_error(monkeypatch, error):
    def choke(*args, **kwargs):
        raise error("boom")
    monkeypatch.setattr(loader.Draft202012Validator, "check_schema", choke)
    assert "JSON Schema no válido" in refused(schema())


# -- 4. idioms that used to answer 500, and every other value of the wrong type ------------------------
@pytest.mark.parametrize("document, message", [
    (field(oneOf=[{"title": "Sin valor"}]), "cada opción de «oneOf» debe ser un objeto con «const»"),
    (field(oneOf=[True]), "cada opción de «oneOf»"),
    (schema(properties={"l": {"type": "array", "items": {"oneOf": [{"title": "A"}]}}}), "items: cada opción"),
    (schema(properties={"codigo": {"type": ["string", "integer"]}}), "indique un solo tipo"),
    (schema(properties={"codigo": {"type": "string", "x-siproc-options": ["offices"]}}), "catálogo"),
    (schema(properties={"codigo": {"type": "string", "items": {"x-siproc-options": {"a": 1}}}}), "catálogo"),
    (schema(properties={"l": {"type": "array", "items": True}}), "las listas deben ser de opciones"),
    (field(**{"x-siproc-check": {"nombre": "dni"}}), "comprobación"),
    (field(enum=["a"], **{"x-enum-titles": "A"}), "«x-enum-titles» debe ser una lista de textos"),
    (field(**{"x-siproc-pattern-message": 5}), "«x-siproc-pattern-message» debe ser un texto"),
    (field(**{"x-siproc-required-message": ["x"]}), "«x-siproc-required-message» debe ser un texto"),
    (field(format="date", default=20200131), "el valor por defecto no es de tipo «string»"),
    (schema(properties={"n": {"type": "integer", "default": True}}), "el valor por defecto"),
    (schema(properties={"l": {"type": "array", "items": {"enum": ["a"]}, "default": "a"}}), "el valor por defecto"),
    (schema(**{"x-siproc-workflow-fields": "codigo"}), "«x-siproc-workflow-fields» debe ser una lista"),
    (schema(**{"x-siproc-action": ["cases.assess"]}), "«x-siproc-action» debe ser el nombre de una acción"),
    (schema(properties={"Meta": {"type": "string"}}), "reservado"),
    (schema(properties={"post_process": {"type": "string"}}), "reservado"),
])
def test_values_of_the_wrong_shape_are_refused_in_spanish(document, message):
    problem = refused(document)
    assert message in problem, problem


@pytest.mark.parametrize("ui, message", [
    ('{"codigo": "texto"}', "la presentación de un campo debe ser un objeto"),
    ('{"codigo": ["ui:widget", "textarea"]}', "la presentación de un campo debe ser un objeto"),
    ('{"ui:order": 5}', "«ui:order»: debe ser una lista de nombres de campo"),
    ('{"ui:order": "codigo"}', "«ui:order»: debe ser una lista"),
    ('{"ui:order": [["codigo"]]}', "«ui:order»: debe ser una lista"),
    ('{"ui:sections": {"title": "A"}}', "«ui:sections»: debe ser una lista de secciones"),
    ('{"ui:sections": ["A"]}', "cada sección debe ser un objeto"),
    ('{"ui:sections": [{"title": 1, "fields": ["codigo"]}]}', "cada sección"),
    ('{"ui:sections": [{"fields": "codigo"}]}', "cada sección"),
    ('{"codigo": {"ui:help": {"es": "Ayuda"}}}', "«ui:help» debe ser un texto"),
    ('{"codigo": {"ui:widget": 1}}', "«ui:widget» debe ser un texto"),
    ('[1]', "el esquema de interfaz debe ser un objeto JSON"),
])
def test_ui_schemas_of_the_wrong_shape_are_refused_in_spanish(ui, message):
    problem = refused(schema(), ui_text=ui)
    assert "prueba_ui.json" in problem and message in problem, problem


def test_compile_form_checks_a_ui_dict_given_directly():
    with pytest.raises(FormSchemaError):
        compile_form("prueba.json", load_form("prueba.json", json.dumps(schema())), {"codigo": "texto"})


def test_repeated_names_in_ui_order_give_one_field_each():
    compiled = compiled_for(schema(properties={"a": {"type": "string"}, "b": {"type": "string"}}),
                            ui={"ui:order": ["b", "b", "a", "zz"]})
    assert [f.name for f in compiled.fields] == ["b", "a"]


def test_rules_naming_unknown_fields_land_on_the_form_not_on_form_attributes(app):
    document = schema(then={"required": ["validate", "__class__"]}, dependentRequired={"codigo": ["meta"]},
                      **{"if": True})
    compiled = compiled_for(document)
    with app.test_request_context():
        form = compiled.build(option_choices, formdata=MultiDict({"codigo": "x"}), csrf=False)
        assert not compiled.validate(form)
        assert form.form_errors == ["Este campo es obligatorio.", "Este campo es obligatorio."]


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-inf", "1E+999999999"])
def test_non_finite_numbers_are_refused_not_a_500(app, value):
    compiled = compiled_for(schema(properties={"monto": {"type": "number", "minimum": 0}}))
    with app.test_request_context():
        form = compiled.build(option_choices, formdata=MultiDict({"monto": value}), csrf=False)
        assert not compiled.validate(form)
        assert form.errors == {"monto": ["Debe ser un número."]}


KEYWORDS = ["type", "properties", "required", "items", "enum", "oneOf", "anyOf", "allOf", "not", "const", "title",
            "description", "pattern", "patternProperties", "propertyNames", "additionalProperties",
            "unevaluatedProperties", "if", "then", "else", "$ref", "$defs", "$id", "$schema", "$dynamicRef",
            "format", "minimum", "maximum", "minLength", "maxLength", "multipleOf", "default", "dependentRequired",
            "dependentSchemas", "prefixItems", "contains", "uniqueItems", "x-siproc-options", "x-siproc-check",
            "x-siproc-not-future", "x-siproc-action", "x-siproc-workflow-fields", "x-enum-titles",
            "x-siproc-required-message", "x-siproc-pattern-message", "ui:order", "ui:sections", "ui:widget",
            "ui:help", "ui:placeholder", "ui:width", "fields", "codigo", "edad", "data", "Meta"]
WORDS = ["object", "string", "integer", "number", "boolean", "array", "null", "date", "regex", "email", "textarea",
         "radio", "checkbox", "half", "third", "offices", "countries", "dni", "#/$defs/a", "#/$defs/b",
         "#/properties/codigo", "http://example.com/", "https://json-schema.org/draft/2020-12/schema", EVIL,
         "(?=a)", "^[A-Z]{3}$", "codigo", "edad", "cases.assess"]
scalars = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
           | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(WORDS) | st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(KEYWORDS) | st.text(max_size=6), inner, max_size=5),
                      max_leaves=25)
def rarely(common, rare, odds=10):
    """One draw in `odds` from rare, the others from common."""
    return st.integers(0, odds).flatmap(lambda n: rare if n == odds // 2 else common)  # not a bound: drawn less


names = rarely(st.sampled_from(["codigo", "edad", "lista", "activo"]), st.sampled_from(["data", "_x", "Meta"]))
texts = st.text(max_size=6)
PLAUSIBLE = {  # keyword -> values a form author would write (random JSON values are mixed in, see keyed())
    "type": rarely(st.sampled_from(["string", "integer", "number", "boolean", "array"]),
                   st.sampled_from(["object", ["string", "null"]])),
    "title": texts, "description": texts, "x-siproc-required-message": texts, "x-siproc-pattern-message": texts,
    "pattern": st.sampled_from([EVIL, "^[A-Z]{3}$", "[0-9]", "(?=a)", r"(a)\1", "a" * 1001, "é+"]),
    "format": st.sampled_from(["date", "regex", "email", "uuid", "time"]),
    "minimum": st.integers(-5, 200) | st.floats(-1e6, 1e6), "maximum": st.integers(-5, 200),
    "multipleOf": st.sampled_from([1, 0.5, 1e-300]), "minLength": st.integers(0, 20),
    "maxLength": st.integers(0, 20), "const": scalars, "default": scalars,
    "enum": st.lists(scalars, min_size=1, max_size=4), "x-enum-titles": st.lists(texts, max_size=4),
    "oneOf": st.lists(st.fixed_dictionaries({"const": scalars}, optional={"title": texts}), min_size=1, max_size=3),
    "x-siproc-options": st.sampled_from(["offices", "countries", "planetas"]),
    "x-siproc-check": st.sampled_from(["dni", "telefono", "nada"]), "x-siproc-not-future": st.booleans(),
    "$ref": st.sampled_from(["#/$defs/a", "#/$defs/b", "#/properties/codigo", "#/allOf/0", "http://example.com/",
                             "#"]),
    "required": st.lists(names, unique=True, max_size=3), "x-siproc-workflow-fields": st.lists(names, max_size=2),
    "x-siproc-action": st.sampled_from(["cases.assess", "no.existe"]),
    "dependentRequired": st.dictionaries(names, st.lists(names, max_size=2), max_size=2),
    "$schema": st.sampled_from(["https://json-schema.org/draft/2020-12/schema", "http://example.com/"]),
    "ui:widget": st.sampled_from(["textarea", "radio", "checkbox"]), "ui:help": texts, "ui:placeholder": texts,
    "ui:width": st.sampled_from(["half", "third", "full"]),
    "ui:order": st.lists(names, max_size=4),
    "ui:sections": st.lists(st.fixed_dictionaries({"fields": st.lists(names, max_size=3)}, optional={"title": texts}),
                            max_size=3),
}
PROPERTY_KEYS = ["title", "description", "pattern", "format", "minimum", "maximum", "multipleOf", "minLength",
                 "maxLength", "const", "default", "enum", "x-enum-titles", "oneOf", "items", "x-siproc-options",
                 "x-siproc-check", "x-siproc-not-future", "x-siproc-required-message", "x-siproc-pattern-message",
                 "$ref", "not", "allOf"]
RULE_KEYS = ["properties", "required", "allOf", "anyOf", "not", "if", "then", "else", "$ref", "pattern",
             "minLength", "enum", "const", "dependentRequired", "patternProperties", "additionalProperties",
             "propertyNames", "$defs", "$id", "$dynamicRef", "unevaluatedProperties", "type"]
FORM_KEYS = ["title", "description", "required", "allOf", "if", "then", "else", "$defs", "dependentRequired",
             "dependentSchemas", "patternProperties", "additionalProperties", "propertyNames",
             "unevaluatedProperties", "x-siproc-workflow-fields", "x-siproc-action", "$schema", "$id"]


def keyed(keys, max_size, fixed=None):
    """Dicts with up to max_size of these keys: mostly plausible values, now and then any JSON value."""
    def value(key):
        return rarely(PLAUSIBLE.get(key, values), values, odds=30)
    fixed = fixed or {}
    return st.lists(st.sampled_from(keys), max_size=max_size, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({**fixed, **{k: value(k) for k in chosen if k not in fixed}}))


rules = st.deferred(lambda: st.booleans() | keyed(RULE_KEYS, 3))
PLAUSIBLE.update({
    "not": rules, "if": rules, "then": rules, "else": rules, "additionalProperties": rules,
    "unevaluatedProperties": rules, "allOf": st.lists(rules, min_size=1, max_size=2),
    "anyOf": st.lists(rules, min_size=1, max_size=2), "$defs": st.dictionaries(st.sampled_from(["a", "b"]), rules),
    "patternProperties": st.dictionaries(PLAUSIBLE["pattern"], rules, max_size=2),
    "propertyNames": st.fixed_dictionaries({"pattern": PLAUSIBLE["pattern"]}),
    "dependentSchemas": st.dictionaries(names, rules, max_size=2),
    "items": keyed(["enum", "oneOf", "x-siproc-options", "type", "pattern"], 2) | st.booleans(),
    "properties": st.dictionaries(names, rules, max_size=2),
})
fields = keyed(PROPERTY_KEYS, 4, fixed={"type": PLAUSIBLE["type"]})
forms = rarely(keyed(FORM_KEYS, 3, fixed={
    "type": st.just("object"), "properties": st.dictionaries(names, fields, min_size=1, max_size=4)}), values)
PLAUSIBLE.update(dict.fromkeys(["codigo", "edad", "lista", "activo"],
                               keyed(["ui:widget", "ui:help", "ui:placeholder", "ui:width"], 3)))
uis = st.none() | values | keyed(["codigo", "edad", "lista", "activo", "ui:order", "ui:sections"], 4)
RENDER = '{% from "_form.html" import render_compiled %}{{ render_compiled(compiled, form) }}'


@pytest.mark.nodb  # compiles and renders only: once, in the SQLite pass
@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(document=forms, ui=uis, data=st.data())
def test_random_documents_load_or_are_refused_and_never_crash(app, document, ui, data):
    try:
        compiled = compile_form("azar.json", load_form("azar.json", json.dumps(document)),
                                load_ui("azar_ui.json", None if ui is None else json.dumps(ui)))
    except FormSchemaError:
        return
    with app.test_request_context():
        compiled.schema_errors({})
        compiled.schema_errors({spec.name: data.draw(values) for spec in compiled.fields})
        render_template_string(RENDER, compiled=compiled, form=compiled.build(option_choices, csrf=False))
        submitted = MultiDict({spec.name: data.draw(st.sampled_from(["", "a", "12", "si", "2020-01-31", SLOW_INPUT]))
                               for spec in compiled.fields})
        compiled.validate(compiled.build(option_choices, formdata=submitted, csrf=False))


@pytest.mark.nodb
def test_random_documents_positive_control(app):
    """The path of the test above with a valid document: it compiles, renders its field and accepts valid data."""
    document = {"type": "object", "title": "Azar", "properties": {"codigo": {"type": "string", "title": "Código"}}}
    compiled = compile_form("azar.json", load_form("azar.json", json.dumps(document)), load_ui("azar_ui.json", None))
    with app.test_request_context():
        assert compiled.schema_errors({"codigo": "a"}) == {}
        html = render_template_string(RENDER, compiled=compiled, form=compiled.build(option_choices, csrf=False))
        assert 'name="codigo"' in html
        assert compiled.validate(compiled.build(option_choices, formdata=MultiDict({"codigo": "a"}), csrf=False))


# -- 5. the «Formularios» page -------------------------------------------------------------------------
NAME, UI_NAME = "registro_caso.json", "registro_caso_ui.json"


@pytest.fixture
def gestor(login):
    return login("gestor")


def stored():
    db.session.expire_all()
    documents = dict(db.session.execute(db.select(FormDocument.name, FormDocument.text)).all())
    versions = db.session.execute(db.select(ProcessVersion.process_key, ProcessVersion.version)).all()
    return documents, sorted(versions)


def registro(codigo=None, **top) -> str:
    """The project's registro_caso.json with a field «codigo» (a plain text by default) and top-level changes."""
    document = json.loads(stored()[0][NAME])
    document["properties"]["codigo"] = {"type": "string", "title": "Código", **(codigo or {})}
    return json.dumps({**document, **top}, ensure_ascii=False)


HOSTILE_FORMS = {
    "backreference": (lambda: registro({"pattern": r"(a)\1"}), "expresión regular"),
    "lookahead in then": (lambda: registro(then={"properties": {"codigo": {"pattern": "(?=x)"}}}),
                          "expresión regular"),
    "long pattern": (lambda: registro({"pattern": "a" * 1001}), "supera 1000 caracteres"),
    "ref loop": (lambda: registro({"$ref": "#/$defs/a"}, **{"$defs": {"a": {"$ref": "#/$defs/a"}}}),
                 "forma un ciclo"),
    "mutual refs": (lambda: registro({"$ref": "#/$defs/a"}, **{"$defs": {"a": {"$ref": "#/$defs/b"},
                                                                        "b": {"$ref": "#/$defs/a"}}}),
                    "forma un ciclo"),
    "remote ref": (lambda: registro({"$ref": "http://169.254.169.254/latest"}), "referencias locales"),
    "nested 100000": (lambda: nested(100_000), "niveles de anidamiento"),
    "oneOf without const": (lambda: registro({"oneOf": [{"title": "A"}]}), "«const»"),
    "type list": (lambda: registro({"type": ["string", "integer"]}), "un solo tipo"),
}
HOSTILE_UIS = {
    "field as text": ('{"relato": "texto"}', "debe ser un objeto"),
    "order as number": ('{"ui:order": 5}', "«ui:order»"),
    "nested 100000": ('{"relato": ' + "[" * 100_000 + "]" * 100_000 + "}", "niveles de anidamiento"),
}


def problems_of(response, pattern=PROBLEM) -> list[str]:
    return [html.unescape(p) for p in pattern.findall(response.get_data(as_text=True))]


@pytest.mark.parametrize("kind", HOSTILE_FORMS)
def test_the_page_refuses_hostile_forms_and_stores_nothing(gestor, kind):
    make, message = HOSTILE_FORMS[kind]
    text, before = make(), stored()
    response = gestor.post(f"/formularios/{NAME}", data={"texto": text})
    assert response.status_code == 422
    problems = problems_of(response)
    assert any(message in p and p.endswith("No se guardó nada.") for p in problems), problems
    assert stored() == before


@pytest.mark.parametrize("kind", HOSTILE_UIS)
def test_the_page_refuses_hostile_ui_schemas_and_stores_nothing(gestor, kind):
    text, message = HOSTILE_UIS[kind]
    before = stored()
    response = gestor.post(f"/formularios/{UI_NAME}", data={"texto": text})
    assert response.status_code == 422
    assert any(message in p for p in problems_of(response)), problems_of(response)
    assert stored() == before


def test_the_page_saves_a_backtracking_pattern_that_re2_runs(gestor, login):
    response = gestor.post(f"/formularios/{NAME}", data={"texto": registro({"pattern": EVIL})})
    assert response.status_code == 302
    assert json.loads(stored()[0][NAME])["properties"]["codigo"]["pattern"] == EVIL
    officer = login("oficial.tap")
    task = start_case(officer)  # the republished version, with the new field
    assert officer.get(f"/tareas/{task.id}").status_code == 200  # the version's spec and form compiled once, here
    started = time.perf_counter()  # what is timed is matching the pattern, not the first compilation
    response = officer.post(f"/tareas/{task.id}", data={**REGISTRO, "codigo": SLOW_INPUT})
    assert time.perf_counter() - started < 1
    assert response.status_code == 422 and "El formato no es válido." in response.get_data(as_text=True)


@pytest.mark.parametrize("name, text, message", [
    (NAME, HOSTILE_FORMS["ref loop"][0], "forma un ciclo"),
    (NAME, HOSTILE_FORMS["oneOf without const"][0], "«const»"),
    (NAME, lambda: nested(100_000), "niveles de anidamiento"),
    (UI_NAME, lambda: '{"relato": "texto"}', "debe ser un objeto"),
])
def test_preview_and_editor_of_an_already_stored_hostile_document_explain_it(gestor, name, text, message):
    db.session.get(FormDocument, name).text = text()  # stored before these checks existed
    db.session.commit()
    for page in (f"/formularios/{name}/vista-previa", f"/formularios/{name}"):
        response = gestor.get(page)
        assert response.status_code == 200
        assert any(message in p for p in problems_of(response, WARNING)), (page, problems_of(response, WARNING))
    assert gestor.get("/formularios/").status_code == 200
