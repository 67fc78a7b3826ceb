"""The form compiler fuzzed with Hypothesis: schemas and UI schemas built from the vocabulary (with wrong types,
huge numbers and odd nesting) either compile or are refused with a FormSchemaError; a compiled form builds,
renders and validates any submission without an exception; the Formularios pages never answer 500."""
import json

from flask import render_template_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from app.formschema import FormSchemaError, compile_form, load_form
from app.reference.services import option_choices

RENDER = '{% from "_form.html" import render_compiled %}{{ render_compiled(compiled, form) }}'
FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

names = st.sampled_from(["nombre", "fecha", "edad", "grupo", "filas", "lista", "x", "nombre", "edad", "x",
                         "data", "_x", "a-b"])
texts = st.text(max_size=12)
odd = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**20, max_value=10**20),
                st.floats(allow_nan=False, allow_infinity=False), texts, st.lists(texts, max_size=3),
                st.dictionaries(texts, texts, max_size=2))


def mostly(good, wrong=odd):
    """Usually a well-typed value, sometimes a value of another type (the loader must refuse it)."""
    return st.sampled_from(range(8)).flatmap(lambda pick: wrong if pick == 7 else good)


scalar_types = st.sampled_from(["string", "integer", "number", "boolean"])
types = mostly(scalar_types, st.one_of(
    st.lists(st.sampled_from(["string", "integer", "null"]), min_size=1, max_size=3, unique=True),
    st.sampled_from(["object", "null"]), odd))
formats = st.sampled_from(["date", "date-time", "email", "uri", "data-url", "time", "regex", "ipv4"])
choice = st.fixed_dictionaries({"const": st.one_of(texts, st.integers(-5, 5))}, optional={"title": texts})
choices = st.lists(choice, min_size=1, max_size=4)


def wild_leaf():
    """A field with any of the vocabulary's keywords, some of the wrong type."""
    return st.fixed_dictionaries({"type": types}, optional={
        "title": mostly(texts), "format": formats, "default": odd, "description": mostly(texts),
        "enum": st.lists(st.one_of(texts, st.integers(-3, 3)), min_size=1, max_size=4, unique=True),
        "enumNames": mostly(st.lists(texts, max_size=4)),
        "oneOf": mostly(choices, st.lists(odd | st.just({"type": "string"}), min_size=1, max_size=2)),
        "anyOf": st.one_of(choices, st.lists(st.sampled_from([{"type": "null"}, {"type": "string"},
                                                               {"type": "integer", "maximum": 3}]),
                                             min_size=1, max_size=3),
                           st.just(["options_from_task_data_var:opciones"])),
        "readOnly": mostly(st.booleans()), "nullable": st.booleans(),
        "minLength": mostly(st.integers(0, 10**12)), "maxLength": mostly(st.integers(0, 10**12)),
        "minimum": mostly(st.integers(-10**30, 10**30)),
        "maximum": mostly(st.floats(allow_nan=False, allow_infinity=False)),
        "pattern": st.sampled_from(["^[a-z]+$", "(a)\\1", "a{2,3}", "[", "\\d+"]),
        "validationErrorMessage": mostly(texts), "x-siproc-options": st.sampled_from(["offices", "nada"]),
        "$ref": st.sampled_from(["#/$defs/texto", "#/$defs/grupo", "#/nada", "http://x/y.json"]),
    })


def plain_leaf():
    """A well-formed field of the vocabulary, with a few options."""
    return st.one_of(
        st.fixed_dictionaries({"type": st.sampled_from(["string", ["string", "null"]])}, optional={
            "format": formats, "title": texts, "maxLength": st.integers(1, 10**12), "default": texts,
            "readOnly": st.booleans(), "validationErrorMessage": texts, "pattern": st.just("^[a-z]*$")}),
        st.fixed_dictionaries({"type": st.sampled_from(["integer", "number"])}, optional={
            "minimum": st.integers(-10**30, 10**30), "maximum": st.integers(-10**30, 10**30),
            "default": st.integers(-10**20, 10**20)}),
        st.fixed_dictionaries({"type": st.just("boolean")}, optional={"default": st.booleans()}),
        st.fixed_dictionaries({"type": st.just("string"), "enum": st.lists(texts, min_size=1, max_size=4, unique=True)},
                              optional={"enumNames": st.lists(texts, max_size=4)}),
        st.fixed_dictionaries({"anyOf": choices}, optional={"type": st.just("string"), "title": texts}),
        st.fixed_dictionaries({"type": st.just("string"), "anyOf": st.just(["options_from_task_data_var:opciones"])}),
        st.fixed_dictionaries({"$ref": st.sampled_from(["#/$defs/texto", "#/$defs/grupo"])}),
        st.just({"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]}),
    )


def leaf():
    return mostly(plain_leaf(), wild_leaf())


def schema_tree():
    return st.recursive(leaf(), lambda children: st.one_of(
        st.fixed_dictionaries({"properties": st.dictionaries(names, children, min_size=1, max_size=4)},
                              optional={"type": st.sampled_from(["object", "object", 3]),
                                        "required": mostly(st.lists(names, max_size=2, unique=True)),
                                        "default": odd}),
        st.fixed_dictionaries({"type": st.just("array"), "items": children},
                              optional={"maxItems": mostly(st.integers(0, 12), st.integers(-1, 10**9)),
                                        "minItems": st.integers(0, 12), "uniqueItems": st.booleans(),
                                        "default": odd}),
    ), max_leaves=12)


DEFS = {"texto": {"type": "string", "maxLength": 5},
        "grupo": {"type": "object", "properties": {"a": {"type": "integer"}}}}
forms = st.fixed_dictionaries({"properties": mostly(st.dictionaries(names, schema_tree(), min_size=1, max_size=5)),
                               "$defs": mostly(st.just(DEFS))}, optional={
    "type": mostly(st.just("object"), st.just("array")), "required": st.lists(names, max_size=2, unique=True),
    "title": texts})
ui_entry = st.recursive(st.fixed_dictionaries({}, optional={
    "ui:widget": mostly(st.sampled_from(["textarea", "checkboxes", "radio", "select", "updown", "password",
                                         "hidden", "text", "email", "date", "datetime", "colorpicker"])),
    "ui:options": mostly(st.fixed_dictionaries({}, optional={"rows": mostly(st.integers(1, 60)),
                                                             "inline": mostly(st.booleans()),
                                                             "label": st.booleans(), "addable": st.booleans()})),
    "ui:help": mostly(texts), "ui:title": mostly(texts), "ui:placeholder": texts, "ui:emptyValue": odd,
    "ui:autofocus": mostly(st.booleans()), "ui:readonly": st.booleans(), "ui:disabled": mostly(st.booleans()),
    "ui:order": mostly(st.lists(names | st.just("*")))}),
    lambda children: st.dictionaries(names | st.just("items"), children, max_size=3), max_leaves=6)
uis = st.dictionaries(names | st.sampled_from(["ui:order", "ui:sections"]), mostly(ui_entry), max_size=4)


def compiled_or_refused(schema, ui):
    try:
        return compile_form("fuzz.json", load_form("fuzz.json", json.dumps(schema)), ui)
    except FormSchemaError:
        return None


@FUZZ
@given(schema=forms, ui=uis)
def test_load_and_compile_return_or_refuse_in_spanish(schema, ui):
    compiled_or_refused(schema, ui)


submissions = st.lists(st.tuples(st.sampled_from(
    ["nombre", "fecha", "edad", "grupo-nombre", "filas-0-nombre", "filas-1-x", "lista-0", "lista-9", "x",
     "grupo-filas-0-edad", "filas-0-grupo-x"]), st.one_of(texts, st.sampled_from(
         ["si", "no", "y", "2026-12-08", "2026-12-08T10:00", "1e999", "NaN", "-0", "99999999999999999999"]))),
    max_size=8)


@settings(FUZZ, max_examples=150)
@given(schema=forms, ui=uis, pairs=submissions, options=odd)
def test_build_render_and_validate_never_raise(app, schema, ui, pairs, options):
    compiled = compiled_or_refused(schema, ui)
    if compiled is None:
        return
    with app.test_request_context():
        for formdata in (None, MultiDict(pairs)):
            form = compiled.build(option_choices, formdata=formdata, csrf=False, task_data={"opciones": options})
            render_template_string(RENDER, compiled=compiled, form=form)
            if formdata is not None:
                if compiled.validate(form):
                    json.dumps(compiled.to_json(form))
                compiled.labelled(form)


@settings(FUZZ, max_examples=8)
@given(schema=forms)
def test_the_form_editor_answers_200_or_422_never_500(app, login, schema):
    gestor = login("gestor")
    gestor.post("/formularios/nuevo", data={"nombre": "fuzz"})
    response = gestor.post("/formularios/fuzz.json", data={"texto": json.dumps(schema)})
    assert response.status_code in (302, 422), response.status_code
    assert gestor.get("/formularios/fuzz.json/vista-previa").status_code == 200
    assert gestor.get("/formularios/fuzz.json").status_code == 200
