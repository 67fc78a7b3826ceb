"""Compile a JSON Schema form into a WTForms form, and turn submissions back into JSON values.

Supported (RJSF / SpiffArena vocabulary): string, textarea, password, email, uri, hidden, date and date-time
(format or ui:widget), integer and number (updown), boolean (checkbox, or a required Sí/No radio or select),
single choice (enum with enumNames, oneOf/anyOf const+title, a catalogue through x-siproc-options, or options
from task data: SpiffArena's anyOf ["options_from_task_data_var:<name>"]), multiple choice (array of choices,
checkboxes), lists of texts or numbers, nested objects (fieldsets), repeating rows (arrays of objects, whose
fields may be grouped in nested objects; at most maxItems rows), nullable types, local $ref/$defs, readOnly and
ui:readonly/ui:disabled (shown, never taken from the submission), defaults, validationErrorMessage, required,
minimum/maximum, minLength/maxLength, pattern, description/ui:description/ui:help/ui:title/ui:placeholder,
ui:order with "*", ui:options (rows, inline, label, addable), ui:autofocus, ui:emptyValue. Cross-field rules
(if/then, dependentRequired) are checked with jsonschema after the field checks, with Spanish messages.
Anything else is refused with a Spanish message naming the feature and the field.

Form documents are untrusted (see loader): regular expressions are matched with RE2, never Python re
(a backtracking pattern cannot freeze a worker), and jsonschema never fetches a remote reference.
"""
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import re2
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError as SchemaValidationError
from referencing import Registry
from referencing.exceptions import Unresolvable
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    FileField,
    FormField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.utils import unset_value
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from ..core import clock
from ..core.text import strip_controls
from .loader import (
    MAX_DEPTH,
    MAX_ROW_FIELDS,
    MAX_ROWS,
    RESERVED_NAMES,
    SAFE_FORMATS,
    FormSchemaError,
    _choices_problem,
    _default_problem,
    _extension_problem,
    _strings,
    _whole,
    check_ui,
    regex_search,
)

YES_NO = [("si", "Sí"), ("no", "No")]
SCALAR_TYPES = {"string", "integer", "number", "boolean"}
MAX_FIELDS = 500  # fields compiled in one form, groups, rows and their fields counted
MAX_LEVELS = 8  # groups and rows inside one another
MAX_TASK_OPTIONS = 500  # options read from task data for one field
MAX_OPTION_CHARS = 200  # characters of one such option's value or label
UI_FIELD_TEXT = ("ui:widget", "ui:help", "ui:placeholder", "ui:width", "ui:title", "ui:description")
ALL_WIDGETS = {"checkboxes", "checkbox", "radio", "select", "textarea", "updown", "password", "hidden", "text",
               "email", "date", "datetime", "uri", "file"}
FILE_LISTS_UNSUPPORTED = ("las listas de archivos («items» con «format»: «data-url») aún no se admiten: use un "
                          "campo de archivo por documento")
FILE_IN_ROWS_UNSUPPORTED = "los campos de archivo («format»: «data-url») aún no se admiten dentro de las filas"
FILE_EXTENSIONS = ("pdf", "png", "jpg", "jpeg", "docx", "xlsx", "odt")  # shown in the file picker; the upload
#   rules themselves are the case documents' (app/cases/records.py ALLOWED_TYPES), checked when the task completes
FIELD_CHECKS = {}  # name -> function(value) returning a Spanish error message or None


def field_check(name: str):
    """Register a named check that forms apply to a field with "x-siproc-check": name."""
    def register(func):
        FIELD_CHECKS[name] = func
        return func
    return register


FORM_FACTS = {}  # name -> (Spanish note shown instead of the hidden fields, holds(case) -> bool)


def form_fact(name: str, note, holds):
    """Register a fact about the case that hides fields marked "x-siproc-hidden-if": name while it holds (the
    consent already recorded is not asked again); the note tells the user why they are not shown."""
    FORM_FACTS[name] = (note, holds)


FORM_PREFILLS = {}  # name -> value(case): what a field marked "x-siproc-prefill": name starts with


def form_prefill(name: str, value):
    """Register a value from the case file that fields marked "x-siproc-prefill": name start with when their form
    is first shown (the family contact carried into the repatriation steps); the user may change it."""
    FORM_PREFILLS[name] = value


def prefill_values(compiled, case) -> dict:
    """The starting values of a form's prefilled fields for a case (none without a case, none that are empty)."""
    if case is None:
        return {}
    values = {}
    for spec in compiled.fields:
        source = FORM_PREFILLS.get(spec.schema.get("x-siproc-prefill"))
        value = source(case) if source is not None else None
        if value not in (None, ""):
            values[spec.name] = value
    return values


def task_options(value) -> tuple[list[tuple[str, str]] | None, str | None]:
    """(choices, None) from a task data value (a list of {"value", "label"} or of texts), or (None, Spanish
    reason) when it is missing or of another shape or size."""
    if value is None:
        return None, _("los datos de la tarea no tienen esa lista")
    if not isinstance(value, list):
        return None, _("los datos de la tarea no son una lista")
    if len(value) > MAX_TASK_OPTIONS:
        return None, _("la lista tiene más de %(n)d opciones", n=MAX_TASK_OPTIONS)
    choices = []
    for item in value:
        if isinstance(item, dict) and set(item) >= {"value", "label"}:
            raw, label = item["value"], item["label"]
        else:
            raw = label = item
        if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in (raw, label)):
            return None, _("cada opción debe ser un texto o un objeto con «value» y «label»")
        raw, label = str(raw), str(label)
        if len(raw) > MAX_OPTION_CHARS or len(label) > MAX_OPTION_CHARS:
            return None, _("una opción tiene más de %(n)d caracteres", n=MAX_OPTION_CHARS)
        choices.append((strip_controls(raw), strip_controls(label)))
    return choices, None


@dataclass
class FieldSpec:
    name: str
    kind: str  # string text password email uri date datetime integer number checkbox yesno radio select multi
    #            file group rows list
    title: str
    help: str | None
    required: bool
    schema: dict
    options: list[tuple[str, str]] | None = None
    source: str | None = None
    placeholder: str | None = None
    width: str = "full"  # full | half | third (ui:width), for the page layout
    items: list["FieldSpec"] | None = None  # group and rows: their fields; list: the one field of each value
    min_items: int = 0  # rows: non-empty rows needed (at least 1 when the field is required)
    max_items: int = 0  # rows: rows rendered and accepted
    item_title: str | None = None  # rows: each row is titled "<item_title> <n>"
    task_var: str | None = None  # choices from this task data variable (SpiffArena options_from_task_data_var)
    values: dict | None = None  # choices: shown value -> JSON value (numbers stay numbers)
    widget: str | None = None
    nullable: bool = False
    read_only: bool = False  # shown but never taken from a submission (readOnly, ui:readonly, ui:disabled, hidden)
    hidden: bool = False
    show_label: bool = True
    inline: bool = False
    rows: int | None = None
    autofocus: bool = False
    addable: bool = True
    error_message: str | None = None  # validationErrorMessage: shown instead of the field's other messages
    empty_value: object = None  # ui:emptyValue: the JSON value of an empty field


class _BuildContext:
    def __init__(self, catalogues, task_choices):
        self.catalogues, self.task_choices = catalogues, task_choices


@dataclass
class CompiledForm:
    """A form definition ready to build WTForms instances; built once per (version, file)."""

    filename: str
    schema: dict
    ui: dict
    fields: list[FieldSpec] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.schema.get("title") or self.filename

    @property
    def description(self) -> str | None:
        return self.schema.get("description")

    @property
    def action(self) -> str | None:
        return self.schema.get("x-siproc-action")

    @property
    def workflow_fields(self) -> list[str] | None:
        return self.schema.get("x-siproc-workflow-fields")

    @property
    def sources(self) -> set[str]:
        return {spec.source for spec in _all_specs(self.fields) if spec.source}

    @property
    def task_vars(self) -> set[str]:
        """The task data variables whose lists give the options of some field."""
        return {spec.task_var for spec in _all_specs(self.fields) if spec.task_var}

    @property
    def has_files(self) -> bool:
        """Whether the form uploads files (it needs enctype multipart/form-data)."""
        return any(spec.kind == "file" for spec in _all_specs(self.fields))

    def store_files(self, form, store):
        """Replace every uploaded file by what store(spec, upload) returns (the case document's reference)."""
        for spec, bound in list(_walk(self.fields, form)):
            if spec.kind == "file" and getattr(bound.data, "filename", None):
                bound.data = store(spec, bound.data)

    @property
    def has_rows(self) -> bool:
        return any(spec.kind in ("rows", "list") for spec in _all_specs(self.fields))

    @property
    def sections(self) -> list[tuple[str | None, list[FieldSpec]]]:
        """(title, fields) groups from ui:sections; fields not named in any section go last."""
        by_name = {f.name: f for f in self.fields}
        groups, used = [], set()
        for section in self.ui.get("ui:sections") or []:
            names = [n for n in section.get("fields", []) if n in by_name]
            groups.append((section.get("title"), [by_name[n] for n in names]))
            used.update(names)
        rest = [f for f in self.fields if f.name not in used]
        if rest:
            groups.append((None, rest))
        return groups

    def build(self, choices_for, formdata=None, data=None, csrf=True, facts=frozenset(), task_data=None,
              fixed=None) -> FlaskForm:
        """A bound WTForms form; choices_for(source) gives catalogue choices; task_data gives the lists of the
        fields with options from task data; fields hidden by a fact that holds (`facts`, names of FORM_FACTS) are
        left out, and the fact's note is shown instead. Read-only fields keep `fixed` (prefill) or their default."""
        catalogues = {source: choices_for(source) for source in self.sources}
        task_choices, problems = {}, []
        for name in sorted(self.task_vars):
            value = (task_data or {}).get(name) if isinstance(task_data, dict) else None
            choices, why = task_options(value)
            task_choices[name] = choices or []
            if why:
                problems.append(_("Las opciones de la lista «%(v)s» no están disponibles (%(why)s). Avise a un gestor "
                                  "de procesos.", v=name[:100], why=why))
        hiding = {spec.schema.get("x-siproc-hidden-if") for spec in self.fields} & set(facts)
        ctx = _BuildContext(catalogues, task_choices)

        class _Form(FlaskForm):
            siproc_notes = [str(FORM_FACTS[name][0]) for name in sorted(hiding) if name in FORM_FACTS] + problems

        for spec in self.fields:
            if spec.schema.get("x-siproc-hidden-if") in hiding:
                continue
            setattr(_Form, spec.name, _make(spec, ctx))
        initial = _initial_values(self.fields, data or {})
        meta = None if csrf else {"csrf": False}
        if formdata is not None:
            form = _Form(formdata=formdata, data=initial, meta=meta)
            _pin_read_only(self.fields, form, {**(data or {}), **(fixed or {})})
            return form
        return _Form(data=initial, meta=meta)

    def validate(self, form) -> bool:
        """Field validation, then the schema's cross-field rules; errors land on the fields."""
        ok = form.validate()
        self._custom_messages(form)
        if not ok:
            return False
        problems = self.schema_errors(self.to_json(form))
        names = {spec.name for spec in self.fields}
        for name, message in problems.items():
            target = getattr(form, name) if name in names and name in form else None
            if target is not None and not isinstance(target, (FormField, FieldList)) or \
                    (isinstance(target, RowList) and isinstance(target.errors, list)):
                target.errors = [*target.errors, message] if isinstance(target.errors, list) else [message]
            elif target is not None:
                form.form_errors.append(f"{getattr(target.label, 'text', name)}: {message}")
            else:
                form.form_errors.append(message)
        return not problems

    def _custom_messages(self, form):
        """validationErrorMessage (SpiffArena): the field's own text instead of the generic messages."""
        for spec, bound in _walk(self.fields, form):
            if spec.error_message and bound.errors and not isinstance(bound, (FormField, RowList)):
                bound.errors = [spec.error_message]

    def to_json(self, form) -> dict:
        """Submitted values as JSON-ready data; empty optional fields become None, groups objects, rows a list of the
        non-empty ones."""
        return {spec.name: _field_json(spec, getattr(form, spec.name)) for spec in self.fields if spec.name in form}

    def schema_errors(self, data: dict) -> dict[str, str]:
        """Field name (or "__form__") -> Spanish message for the schema's rules, regular expressions in RE2."""
        present = _present({k: v for k, v in data.items() if v is not None})
        checker = FormatChecker([name for name in SAFE_FORMATS if name != "date-time"])  # local date-times
        validator = SafeValidator(self.schema, format_checker=checker, registry=Registry())
        problems = {}
        try:
            errors = sorted(validator.iter_errors(present), key=lambda e: [str(p) for p in e.path])
        except (RecursionError, Unresolvable, re2.error):  # load_form refuses these; never a 500 anyway
            return {"__form__": _("El formulario tiene una regla que no se puede comprobar.")}
        messages = {spec.name: spec.error_message for spec in self.fields if spec.error_message}
        for error in errors:
            name, message = _spanish_error(error)
            problems.setdefault(name, messages.get(name) or message)
        return problems

    def labelled(self, form) -> list[tuple[str, str]]:
        """(label, shown value) pairs of a submission, for the case history (a group's fields one by one)."""
        rows = []
        for spec in (s for s in self.fields if s.name in form):
            rows.extend(_labelled(spec, getattr(form, spec.name), ""))
        return rows


def _labelled(spec, bound, prefix):
    if spec.kind == "group":
        pairs = []
        for sub in spec.items:
            if sub.name in bound.form:
                pairs.extend(_labelled(sub, bound.form[sub.name], f"{prefix}{spec.title} › "))
        return pairs
    return [(prefix + spec.title, _display(spec, bound.data, bound))]


def compile_form(filename: str, schema: dict, ui: dict | None = None) -> CompiledForm:
    """A CompiledForm from a schema checked by load_form and a UI schema; raises FormSchemaError."""
    ui = check_ui(filename, ui or {})
    compiled = CompiledForm(filename, schema, ui)
    compiled.fields = _Compiler(filename, schema).children(schema, ui, 0, in_row=False, top=True)
    return compiled


class _Problem(Exception):
    """A field's problem, prefixed with the names of the fields that contain it as it bubbles up."""


class _Compiler:
    """Turns (resolved, normalised) properties into FieldSpecs, recursively and within the budgets."""

    def __init__(self, filename, root):
        self.filename, self.root, self.count = filename, root, 0

    def children(self, schema, ui, level, in_row, top=False) -> list[FieldSpec]:
        properties = schema["properties"]
        required = set(schema.get("required", []) if _strings(schema.get("required", [])) else [])
        specs = []
        for name in _ordered(list(properties), ui.get("ui:order")):
            sub_ui = ui.get(name, {})
            try:
                if not isinstance(sub_ui, dict):
                    raise _Problem('la presentación de un campo debe ser un objeto, p. ej. {"ui:widget": "textarea"}')
                specs.append(self.spec(name, properties[name], sub_ui, name in required, level, in_row))
            except _Problem as problem:
                if top:
                    raise FormSchemaError(f"{self.filename}: campo «{name}»: {problem}") from None
                raise _Problem(f"{'campo de la fila' if in_row else 'campo'} «{name}»: {problem}") from None
        return specs

    def resolve(self, node, budget=MAX_DEPTH):
        """A subschema with its local $ref followed (the loader has refused remote, dangling and cyclic ones);
        the keywords beside $ref win over the target's."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            budget -= 1
            target = _pointer(self.root, node["$ref"])
            if budget < 0 or target is None:
                raise _Problem(f"la referencia «{str(node['$ref'])[:80]}» no se puede resolver")
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}} if isinstance(target, dict) \
                else target
        return node

    def spec(self, name, prop, ui, required, level, in_row) -> FieldSpec:
        problem = _name_problem(name)
        if problem:
            raise _Problem(problem)
        self.count += 1
        if self.count > MAX_FIELDS:
            raise FormSchemaError(f"{self.filename}: el formulario tiene más de {MAX_FIELDS} campos")
        prop = self.resolve(prop)
        if not isinstance(prop, dict):
            raise _Problem("la definición debe ser un objeto")
        prop, nullable = self.normalize(prop)
        _check_ui_entry(ui)
        kind = prop["type"]
        if kind == "object":
            return self.group(name, prop, ui, required, level, in_row)
        if kind == "array":
            return self.array(name, prop, ui, required, level, in_row)
        if kind not in SCALAR_TYPES:
            raise _Problem(f"tipo «{kind}» no soportado")
        problem = _choices_problem(prop) or _extension_problem(prop) or _default_problem(prop, nullable)
        if problem:
            raise _Problem(problem)
        spec = _scalar_spec(name, prop, ui, required, nullable)
        if in_row and spec.kind == "file":
            raise _Problem(FILE_IN_ROWS_UNSUPPORTED)
        if in_row and spec.read_only:
            raise _Problem("los campos de una fila aún no admiten «readOnly», «ui:readonly» ni el control «hidden»")
        return spec

    def normalize(self, prop) -> tuple[dict, bool]:
        """(prop, nullable): type lists with "null", "nullable", anyOf/oneOf with {"type": "null"} folded in; choices
        from anyOf/oneOf const+title kept under "x-siproc-choices"; the type inferred when RJSF would."""
        nullable = prop.get("nullable") is True
        kind = prop.get("type")
        if isinstance(kind, list):
            others = [k for k in kind if k != "null"]
            if len(others) != 1:
                raise _Problem(f"tipo {json.dumps(kind, ensure_ascii=False)} no soportado: indique un solo tipo, o "
                               "un tipo y «null»")
            prop, nullable = {**prop, "type": others[0]}, nullable or "null" in kind
        for key in ("anyOf", "oneOf"):
            if key not in prop:
                continue
            options = [self.resolve(o) for o in prop[key]]
            nulls = [o for o in options if isinstance(o, dict) and o.get("type") == "null" and "const" not in o]
            rest = [o for o in options if not any(o is n for n in nulls)]
            outer = {k: v for k, v in prop.items() if k != key}
            if nulls and len(rest) == 1 and isinstance(rest[0], dict) and not _is_choice(rest[0]):
                merged, more = self.normalize({**rest[0], **outer})
                return merged, True
            if rest and all(_is_choice(o) for o in rest):
                choices = [(_choice_value(o), str(o.get("title") or _choice_value(o))) for o in rest]
                if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v, _t in choices):
                    raise _Problem(f"las opciones de «{key}» deben ser textos o números")
                prop, nullable = {**outer, "x-siproc-choices": choices}, nullable or bool(nulls)
                continue
            if key == "oneOf":
                raise _Problem("cada opción de «oneOf» debe ser un objeto con «const» (y «title»)")
            raise _Problem("«anyOf» solo se admite con opciones «const» y «title» (y, si acaso, {\"type\": \"null\"}); "
                           "esta combinación de esquemas aún no está soportada")
        if prop.get("type") is None:
            prop = {**prop, "type": _inferred_type(prop)}
        if not isinstance(prop["type"], str):
            raise _Problem("«type» debe ser un texto")
        return prop, nullable

    def group(self, name, prop, ui, required, level, in_row) -> FieldSpec:
        if not isinstance(prop.get("properties"), dict) or not prop["properties"]:
            raise _Problem("tipo «object» sin «properties» no soportado: defina los campos del grupo")
        if level + 1 > MAX_LEVELS:
            raise _Problem(f"hay más de {MAX_LEVELS} niveles de grupos y filas anidados")
        problem = _default_problem(prop, False)
        if problem:
            raise _Problem(problem)
        if not _strings(prop.get("required", [])):
            raise _Problem("«required» debe ser una lista de nombres de campo")
        for needed in prop.get("required", []):
            if needed not in prop["properties"]:
                raise _Problem(f"el campo obligatorio «{needed}» no está definido")
        spec = _base_spec(name, prop, ui, required, "group")
        spec.items = self.children(prop, ui, level + 1, in_row)
        return spec

    def array(self, name, prop, ui, required, level, in_row) -> FieldSpec:
        items = self.resolve(prop.get("items"))
        if isinstance(items, dict) and items:
            try:
                items, _nullable = self.normalize(items)
            except _Problem as problem:
                raise _Problem(f"items: {problem}") from None
        if isinstance(items, dict) and items.get("type") == "object":
            if in_row:
                raise _Problem("una fila no puede contener listas de filas (filas dentro de filas aún no se admiten)")
            return self.rows(name, prop, items, ui, required, level)
        if isinstance(items, dict) and items.get("format") == "data-url":
            raise _Problem(FILE_LISTS_UNSUPPORTED)
        problem = _choices_problem({**prop, "items": items}) or _default_problem(prop, False)
        if problem:
            raise _Problem(problem)
        if isinstance(items, dict) and _has_options(items):
            spec = _base_spec(name, prop, ui, required, "multi")
            spec.options, spec.source, spec.task_var = _options(items)
            spec.values = {value: raw for value, raw in _raw_values(items)}
            spec.widget = _widget(ui, {"checkboxes", "select"}, "checkboxes")
            return spec
        if isinstance(items, dict) and items.get("type") in ("string", "integer", "number"):
            if in_row:
                raise _Problem("una fila no puede contener listas; solo campos simples y grupos")
            return self.value_list(name, prop, items, ui, required)
        raise _Problem("las listas deben ser de opciones (items con enum, oneOf, anyOf o x-siproc-options), de textos "
                       "o números (items de tipo «string») o de filas (items de tipo «object» con «properties»)")

    def value_list(self, name, prop, items, ui, required) -> FieldSpec:
        high, low = prop.get("maxItems", MAX_ROWS), prop.get("minItems", 0)
        if not _whole(high) or not 1 <= high <= MAX_ROWS:
            raise _Problem(f"una lista de valores debe indicar «maxItems» entre 1 y {MAX_ROWS}")
        if not _whole(low) or not 0 <= low <= high:
            raise _Problem("«minItems» de una lista debe estar entre 0 y «maxItems»")
        item_ui = ui.get("items", {})
        if not isinstance(item_ui, dict):
            raise _Problem("«items» debe ser un objeto con la presentación de cada valor")
        item = self.spec("valor", items, item_ui, False, MAX_LEVELS, in_row=True)
        spec = _base_spec(name, prop, ui, required, "list")
        spec.items, spec.min_items, spec.max_items = [item], max(low, 1 if required else 0), high
        spec.item_title = items.get("title") or spec.title
        spec.addable = _ui_options(ui).get("addable", True) is not False
        return spec

    def rows(self, name, prop, items, ui, required, level) -> FieldSpec:
        """An array of objects: maxItems rows; the UI schema of a row is under "items"."""
        problem = _rows_problem(prop, items)
        if problem:
            raise _Problem(problem)
        if level + 1 > MAX_LEVELS:
            raise _Problem(f"hay más de {MAX_LEVELS} niveles de grupos y filas anidados")
        item_ui = ui.get("items", {})
        if not isinstance(item_ui, dict):
            raise _Problem("«items» debe ser un objeto con la presentación de los campos de cada fila")
        if item_ui.get("ui:order") is not None and not _strings(item_ui["ui:order"]):
            raise _Problem("«items»: «ui:order» debe ser una lista de nombres de campo")
        spec = _base_spec(name, prop, ui, required, "rows")
        try:
            spec.items = self.children(items, item_ui, level + 1, in_row=True)
        except _Problem as problem:
            raise _Problem(str(problem)) from None
        spec.min_items, spec.max_items = max(prop.get("minItems", 0), 1 if required else 0), prop["maxItems"]
        spec.item_title = items.get("title") or spec.title
        spec.addable = _ui_options(ui).get("addable", True) is not False
        return spec


def _rows_problem(prop, items):
    """An array of objects: a bounded number of rows, and a well-formed object for each."""
    high, low = prop.get("maxItems"), prop.get("minItems", 0)
    if not _whole(high) or not 1 <= high <= MAX_ROWS:
        return f"una lista de filas debe indicar «maxItems» entre 1 y {MAX_ROWS}"
    if not _whole(low) or not 0 <= low <= high:
        return "«minItems» de una lista de filas debe estar entre 0 y «maxItems»"
    properties = items.get("properties")
    if not isinstance(properties, dict) or not properties:
        return "las filas (items de tipo «object») deben definir sus campos en «properties»"
    if len(properties) > MAX_ROW_FIELDS:
        return f"una fila puede tener como máximo {MAX_ROW_FIELDS} campos"
    if not _strings(items.get("required", [])):
        return "«required» de las filas debe ser una lista de nombres de campo"
    default = prop.get("default", [])
    if not isinstance(default, list) or not all(isinstance(row, dict) for row in default):
        return "el valor por defecto de una lista de filas debe ser una lista de objetos"
    missing = [name for name in items.get("required", []) if name not in properties]
    return f"el campo obligatorio «{missing[0]}» de la fila no está definido" if missing else None


def _pointer(root, ref):
    node = root
    for part in ref[2:].split("/") if ref.startswith("#/") else [None]:
        if part is None or not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _ordered(names, order) -> list[str]:
    """RJSF ui:order: the names listed first, "*" standing for every field not listed (at the end without it)."""
    if not _strings(order or []) or not order:
        return names
    known = [n for n in order if n in names]
    rest = [n for n in names if n not in known]
    if "*" not in order:
        return list(dict.fromkeys(known + rest))
    star = order.index("*")
    before = [n for n in order[:star] if n in names]
    after = [n for n in order[star + 1:] if n in names]
    return list(dict.fromkeys(before + [n for n in rest] + after))


def _name_problem(name):
    if not name.isidentifier() or name.startswith("_"):
        return "el nombre debe ser un identificador sin guion bajo inicial"
    if name in RESERVED_NAMES:
        return "el nombre está reservado"
    return None


def _is_choice(option) -> bool:
    """An RJSF option: {"const": v, "title": t}, or SpiffArena's {"enum": [v], "title": t}."""
    return isinstance(option, dict) and ("const" in option or (isinstance(option.get("enum"), list)
                                                                and len(option["enum"]) == 1))


def _choice_value(option):
    return option["const"] if "const" in option else option["enum"][0]


def _inferred_type(prop) -> str:
    if "properties" in prop:
        return "object"
    if "items" in prop:
        return "array"
    values = [v for v, _t in prop.get("x-siproc-choices", [])] + list(prop.get("enum") or [])
    if "const" in prop:
        values.append(prop["const"])
    if values and all(isinstance(v, bool) for v in values):
        return "boolean"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "number"
    if values or prop.get("x-siproc-options") or prop.get("x-siproc-task-options") or "format" in prop \
            or "pattern" in prop or "minLength" in prop or "maxLength" in prop:
        return "string"
    raise _Problem("indique «type» en el campo")


def _has_options(prop) -> bool:
    return bool(prop.get("x-siproc-choices") or prop.get("enum") or prop.get("x-siproc-options")
                or prop.get("x-siproc-task-options"))


def _raw_values(prop):
    """(shown value, JSON value) of a choice field's fixed options, to give numbers back as numbers."""
    if prop.get("x-siproc-choices"):
        return [(str(v), v) for v, _t in prop["x-siproc-choices"]]
    return [(str(v), v) for v in prop.get("enum") or []]


def _ui_options(ui) -> dict:
    options = ui.get("ui:options", {})
    return options if isinstance(options, dict) else {}


def _check_ui_entry(ui):
    """The ui:* keys of one field that the compiler reads, with the type it needs (others are ignored)."""
    for key in UI_FIELD_TEXT:
        if key in ui and not isinstance(ui[key], str):
            raise _Problem(f"«{key}» debe ser un texto")
    for key in ("ui:disabled", "ui:readonly", "ui:autofocus"):
        if key in ui and not isinstance(ui[key], bool):
            raise _Problem(f"«{key}» debe ser true o false")
    if "ui:options" in ui and not isinstance(ui["ui:options"], dict):
        raise _Problem("«ui:options» debe ser un objeto, p. ej. {\"rows\": 5}")
    options = _ui_options(ui)
    rows = options.get("rows")
    if rows is not None and (not _whole(rows) or not 1 <= rows <= 50):
        raise _Problem("«ui:options»: «rows» debe ser un número entero entre 1 y 50")
    for key in ("inline", "label", "addable", "orderable", "removable"):
        if key in options and not isinstance(options[key], bool):
            raise _Problem(f"«ui:options»: «{key}» debe ser true o false")
    empty = ui.get("ui:emptyValue")
    if empty is not None and not isinstance(empty, (str, int, float, bool)):
        raise _Problem("«ui:emptyValue» debe ser un texto, un número o true/false")


def _widget(ui, allowed, default):
    widget = ui.get("ui:widget") or _ui_options(ui).get("widget") or default
    if widget not in allowed:
        known = ", ".join(sorted(allowed))
        shown = str(widget)[:60]
        if widget in ALL_WIDGETS:
            raise _Problem(f"el control «{shown}» no sirve para este campo (admitidos aquí: {known})")
        raise _Problem(f"control «{shown}» desconocido (admitidos aquí: {known})")
    return widget


def _base_spec(name, prop, ui, required, kind) -> FieldSpec:
    options = _ui_options(ui)
    texts = [t for t in (ui.get("ui:description") or prop.get("description"), ui.get("ui:help")) if t]
    return FieldSpec(
        name=name,
        kind=kind,
        title=ui.get("ui:title") or prop.get("title") or name,
        help=" ".join(dict.fromkeys(texts)) or None,
        required=required,
        schema=prop,
        placeholder=ui.get("ui:placeholder"),
        width=ui.get("ui:width") if ui.get("ui:width") in ("half", "third") else "full",
        show_label=options.get("label", True) is not False,
        inline=options.get("inline") is True,
        rows=options.get("rows"),
        autofocus=ui.get("ui:autofocus") is True,
        error_message=prop.get("validationErrorMessage"),
        empty_value=ui.get("ui:emptyValue"),
    )


def _scalar_spec(name, prop, ui, required, nullable) -> FieldSpec:
    kind = prop["type"]
    spec = _base_spec(name, prop, ui, required, kind)
    spec.nullable = nullable
    if not isinstance(prop.get("validationErrorMessage", ""), str):
        raise _Problem("«validationErrorMessage» debe ser un texto")
    if prop.get("format") == "data-url" and not _has_options(prop):
        spec.widget = _widget(ui, {"file"}, "file")
        spec.kind = "file"
        spec.read_only = False
        return spec
    if _has_options(prop):
        spec.options, spec.source, spec.task_var = _options(prop)
        spec.values = {value: raw for value, raw in _raw_values(prop)}
        spec.widget = _widget(ui, {"select", "radio", "hidden"}, "select")
        spec.kind = "radio" if spec.widget == "radio" else "select"
    elif kind == "boolean":
        spec.widget = _widget(ui, {"checkbox", "radio", "select", "hidden"}, "radio" if required else "checkbox")
        spec.kind = "checkbox" if spec.widget in ("checkbox", "hidden") else "yesno"
    elif kind in ("integer", "number"):
        spec.widget = _widget(ui, {"updown", "text", "hidden"}, "updown")
    else:
        by_format = {"date": "date", "date-time": "datetime", "email": "email", "uri": "uri"}
        default = {"date": "date", "date-time": "datetime", "email": "email"}.get(prop.get("format"), "text")
        spec.widget = _widget(ui, {"text", "textarea", "password", "email", "hidden", "date", "datetime", "uri"},
                              default)
        by_widget = {"textarea": "text", "password": "password", "email": "email", "date": "date",
                     "datetime": "datetime"}
        spec.kind = by_widget.get(spec.widget) or by_format.get(prop.get("format")) or "string"
    spec.hidden = spec.widget == "hidden"
    spec.read_only = prop.get("readOnly") is True or ui.get("ui:readonly") is True or ui.get("ui:disabled") is True \
        or spec.hidden
    return spec


def _options(prop):
    """(fixed options, catalogue, task data variable) of a choice field."""
    if prop.get("x-siproc-options"):
        return None, prop["x-siproc-options"], None
    if prop.get("x-siproc-task-options"):
        return None, None, prop["x-siproc-task-options"]
    if prop.get("x-siproc-choices"):
        return [(str(v), t) for v, t in prop["x-siproc-choices"]], None, None
    if prop.get("enum"):
        titles = prop.get("x-enum-titles") or prop.get("enumNames") or [str(v) for v in prop["enum"]]
        return [(str(v), str(t)) for v, t in zip(prop["enum"], titles, strict=False)], None, None
    return None, None, None


def _validators(spec: FieldSpec):
    prop = spec.schema
    if spec.read_only:
        return []  # the value is the server's (default or prefill), never the submission's
    required_message = prop.get("x-siproc-required-message") or _("Este campo es obligatorio.")
    if spec.required:
        first = InputRequired(required_message) if spec.kind in ("integer", "number", "yesno", "radio") else \
            DataRequired(required_message)
    else:
        first = Optional()
    rules = [first, *_text_rules(spec)]
    if spec.kind == "number":
        rules.append(_finite)
    if spec.kind in ("integer", "number"):
        low, high = prop.get("minimum"), prop.get("maximum")
        if low is not None or high is not None:
            rules.append(NumberRange(min=low, max=high, message=_range_message(low, high)))
    if spec.kind == "date" and prop.get("x-siproc-not-future"):
        rules.append(_not_future)
    if prop.get("x-siproc-check"):
        rules.append(_named_check(prop["x-siproc-check"]))
    if spec.kind == "multi" and spec.required:
        rules[0] = DataRequired(_("Seleccione al menos una opción."))
    return rules


def _text_rules(spec: FieldSpec) -> list:
    prop, rules = spec.schema, []
    if spec.kind in ("string", "text", "password", "email", "uri"):
        low, high = prop.get("minLength", -1), prop.get("maxLength", -1)
        if low >= 0 or high >= 0:
            rules.append(Length(min=low, max=high, message=_length_message(low, high)))
        if prop.get("pattern"):
            rules.append(_pattern_rule(prop["pattern"], prop.get("x-siproc-pattern-message")
                                       or _("El formato no es válido.")))
    if spec.kind == "email":
        rules.append(_email)
    if spec.kind == "uri":
        rules.append(_uri)
    return rules


_EMAIL = re2.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
_URI = re2.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")


def _email(form, field):
    if field.data and (len(field.data) > 254 or not _EMAIL.fullmatch(field.data.strip())):
        raise ValidationError(_("Escriba una dirección de correo válida, p. ej. nombre@dominio.org."))


def _uri(form, field):
    if field.data and (len(field.data) > 2000 or not _URI.fullmatch(field.data.strip())):
        raise ValidationError(_("Escriba una dirección completa, p. ej. https://www.ejemplo.org."))


def _pattern_rule(pattern, message):
    """Like WTForms Regexp, but searched anywhere (as JSON Schema does) with RE2, in linear time."""
    def check(form, field):
        try:
            found = regex_search(pattern, field.data or "")
        except re2.error:
            found = False
        if not found:
            raise ValidationError(message)
    return check


def _finite(form, field):
    """NaN and infinities parse as decimals; refuse them before range checks compare them."""
    if isinstance(field.data, Decimal) and not (field.data.is_finite() and math.isfinite(float(field.data))):
        raise StopValidation(_("Debe ser un número."))


def _not_future(form, field):
    latest_today = (clock.now().astimezone(timezone(timedelta(hours=14)))).date()
    if field.data and field.data > latest_today:
        raise ValidationError(_("La fecha no puede ser futura."))


def _named_check(name):
    def check(form, field):
        problem = FIELD_CHECKS[name](field.data) if field.data else None
        if problem:
            raise ValidationError(problem)
    return check


def _length_message(low, high):
    if low > 0 and high > 0:
        return _("Debe tener entre %(low)d y %(high)d caracteres.", low=low, high=high)
    if high > 0:
        return _("Debe tener como máximo %(high)d caracteres.", high=high)
    return _("Debe tener al menos %(low)d caracteres.", low=low)


def _range_message(low, high):
    if low is not None and high is not None:
        return _("Debe estar entre %(low)s y %(high)s.", low=low, high=high)
    if high is not None:
        return _("Debe ser como máximo %(high)s.", high=high)
    return _("Debe ser como mínimo %(low)s.", low=low)


def _choices_for(spec, ctx):
    if spec.source:
        return ctx.catalogues.get(spec.source) or []
    if spec.task_var:
        return ctx.task_choices.get(spec.task_var) or []
    return spec.options or []


def _make(spec: FieldSpec, ctx, in_row=False):
    if spec.kind == "group":
        return _make_group(spec, ctx, in_row)
    if spec.kind in ("rows", "list"):
        return _make_rows(spec, ctx)
    return _make_field(spec, ctx, in_row)


def _render_kw(spec: FieldSpec, in_row) -> dict:
    render_kw = {"placeholder": spec.placeholder} if spec.placeholder else {}
    if in_row or spec.read_only:
        render_kw["required"] = False  # no HTML "required": the browser would refuse to send empty rows
    if spec.read_only and not spec.hidden:
        render_kw["disabled"] = True
    if spec.autofocus:
        render_kw["autofocus"] = True
    if spec.kind == "text":
        render_kw["rows"] = spec.rows or 4
    if spec.kind in ("email", "uri"):
        render_kw["type"] = {"email": "email", "uri": "url"}[spec.kind]
    if spec.kind == "file":
        render_kw["accept"] = ",".join(f".{e}" for e in FILE_EXTENSIONS)
    return render_kw


_SIMPLE_FIELDS = {
    "string": StringField, "email": StringField, "uri": StringField, "password": PasswordField, "file": FileField,
    "text": TextAreaField, "integer": IntegerField, "checkbox": BooleanField,
    "date": lambda **kw: DateField(format="%Y-%m-%d", **kw),
    "datetime": lambda **kw: DateTimeLocalField(format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], **kw),
    "number": lambda **kw: DecimalField(places=None, **kw),
}


def _make_field(spec: FieldSpec, ctx, in_row=False):
    kwargs = {"label": spec.title, "description": spec.help or "", "validators": _validators(spec)}
    render_kw = _render_kw(spec, in_row)
    if render_kw:
        kwargs["render_kw"] = render_kw
    if spec.hidden:
        kwargs["widget"] = HiddenInput()
    if spec.kind in _SIMPLE_FIELDS:
        return _SIMPLE_FIELDS[spec.kind](**kwargs)
    choices = [SelectChoice(value, label) for value, label in _choices_for(spec, ctx)]
    if spec.kind == "yesno":
        if spec.widget == "select":
            return SelectField(choices=[SelectChoice("", _("— Seleccione —")),
                                        *[SelectChoice(v, lbl) for v, lbl in YES_NO]], **kwargs)
        return RadioField(choices=[SelectChoice(v, lbl) for v, lbl in YES_NO], **kwargs)
    if spec.kind == "radio":
        return RadioField(choices=choices, **kwargs)
    if spec.kind == "multi":
        if spec.widget == "select":
            return SelectMultipleField(choices=choices, **kwargs)
        return SelectMultipleField(choices=choices, widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput(), **kwargs)
    return SelectField(choices=[SelectChoice("", _("— Seleccione —")), *choices], **kwargs)


def _has_value(field) -> bool:
    """Whether anything was typed or chosen in a field, a group or a row (without a submission: any value set)."""
    if isinstance(field, FormField):
        return any(_has_value(sub) for sub in field.form)
    if isinstance(field, FieldList):
        return any(_has_value(entry) for entry in field.entries)
    if field.raw_data is None:
        return field.data not in (None, "", False, [])
    return any(str(value).strip() for value in field.raw_data)


class RowList(FieldList):
    """The rows of an array of objects (or the values of an array of texts): always max_entries rows, named
    <field>-0-<sub> to <field>-<max-1>-<sub> (other indexes in a submission are ignored, never added). A row whose
    fields are all empty is neither validated nor returned; fewer non-empty rows than min_rows is an error of the
    list itself."""

    def __init__(self, *args, min_rows=0, row_title="", addable=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_rows, self.row_title, self.addable = min_rows, row_title, addable

    def process(self, formdata, data=unset_value, extra_filters=None):
        if extra_filters:
            raise TypeError("RowList does not accept filters")
        self.last_index, self.entries = -1, []
        rows = list(data) if isinstance(data, (list, tuple)) else []
        self.object_data = rows
        for index in range(self.max_entries):
            row = rows[index] if index < len(rows) and rows[index] is not None else unset_value
            self._add_entry(formdata, row, index=index)

    def filled(self) -> list:
        return [entry for entry in self.entries if self.row_filled(entry)]

    @staticmethod
    def row_filled(entry) -> bool:
        """Whether anything was typed or chosen in the row (or, without a submission, any value is set)."""
        return _has_value(entry)

    def validate(self, form, extra_validators=()):
        self.errors = []
        for entry in self.entries:
            if self.row_filled(entry):
                entry.validate(form)
                self.errors.append(entry.errors)
            else:
                self.errors.append({} if isinstance(entry, FormField) else [])
        if not any(self.errors):
            self.errors = []
        filled = len(self.filled())
        if filled < self.min_rows:
            self.errors.append(ngettext("Añada al menos %(n)d fila.", "Añada al menos %(n)d filas.",
                                        self.min_rows, n=self.min_rows))
        self._run_validation_chain(form, [*self.validators, *extra_validators])
        return len(self.errors) == 0


def _subform(specs, ctx, in_row):
    class _Sub(FlaskForm):
        class Meta:
            csrf = False

    for sub in specs:
        setattr(_Sub, sub.name, _make(sub, ctx, in_row=in_row))
    return _Sub


def _make_group(spec: FieldSpec, ctx, in_row=False) -> FormField:
    return FormField(_subform(spec.items, ctx, in_row), label=spec.title, description=spec.help or "")


def _make_rows(spec: FieldSpec, ctx) -> RowList:
    if spec.kind == "list":
        unbound = _make_field(spec.items[0], ctx, in_row=True)
    else:
        unbound = FormField(_subform(spec.items, ctx, in_row=True))
    return RowList(unbound, label=spec.title, description=spec.help or "", min_entries=spec.max_items,
                   max_entries=spec.max_items, min_rows=spec.min_items, row_title=spec.item_title,
                   addable=spec.addable)


def _initial_values(specs, data: dict) -> dict:
    """Turn saved JSON values (or, missing, the schema defaults) back into what the WTForms fields expect."""
    values = {}
    data = data if isinstance(data, dict) else {}
    for spec in specs:
        value = _initial_value(spec, data.get(spec.name, spec.schema.get("default")))
        if value is not None:
            values[spec.name] = value
    return values


def _initial_value(spec: FieldSpec, value):
    if spec.kind == "group":
        return _initial_values(spec.items, value if isinstance(value, dict) else {})
    if value is None:
        return None
    if spec.kind in ("rows", "list"):
        if not isinstance(value, list):
            return None
        if spec.kind == "list":
            return [_initial_value(spec.items[0], item) for item in value[:spec.max_items]]
        return [_initial_values(spec.items, row) for row in value[:spec.max_items] if isinstance(row, dict)]
    if spec.kind in ("date", "datetime") and isinstance(value, str):
        try:
            return date.fromisoformat(value) if spec.kind == "date" else datetime.fromisoformat(value)
        except ValueError:
            return None
    if spec.kind == "yesno":
        return "si" if value else "no"
    if spec.kind in ("select", "radio") and not isinstance(value, (dict, list)):
        return str(value)
    if spec.kind == "multi" and isinstance(value, list):
        return [str(v) for v in value]
    return value


def _pin_read_only(specs, container, values: dict):
    """Read-only and hidden fields take the server's value (prefill or default), whatever was submitted."""
    for spec in specs:
        if spec.name not in container:
            continue
        bound = container[spec.name]
        if spec.kind == "group":
            inner = values.get(spec.name)
            _pin_read_only(spec.items, bound.form, inner if isinstance(inner, dict) else
                           (spec.schema.get("default") if isinstance(spec.schema.get("default"), dict) else {}))
        elif spec.read_only:
            value = _initial_value(spec, values.get(spec.name, spec.schema.get("default")))
            bound.process(None, value if value is not None else unset_value)
            bound.raw_data = None


def _field_json(spec: FieldSpec, bound):
    if spec.kind == "group":
        return {sub.name: _field_json(sub, bound.form[sub.name]) for sub in spec.items if sub.name in bound.form}
    if spec.kind == "rows":
        return [{sub.name: _field_json(sub, entry.form[sub.name]) for sub in spec.items} for entry in bound.filled()]
    if spec.kind == "list":
        return [_json_value(spec.items[0], entry.data) for entry in bound.filled()]
    value = _json_value(spec, bound.data)
    if value is None and spec.empty_value is not None:
        return spec.empty_value
    return value


def _present(value):
    """A value for the schema rules: empty optional fields (None) are left out, at every level."""
    if isinstance(value, dict):
        return {k: _present(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_present(v) for v in value]
    return value


def _json_value(spec: FieldSpec, value):
    if spec.kind == "checkbox":
        return bool(value)
    if spec.kind == "yesno":
        return None if value in (None, "") else value == "si"
    if spec.kind == "file":
        if isinstance(value, dict):  # stored as a case document: its reference, never the content
            return value
        return f"data:,{value.filename}" if getattr(value, "filename", None) else None  # for the schema rules only
    if value in (None, "") or value == []:
        return [] if spec.kind == "multi" else None
    if spec.values and spec.kind in ("select", "radio"):
        return spec.values.get(str(value), value)
    if spec.values and spec.kind == "multi" and isinstance(value, list):
        return [spec.values.get(str(v), v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if spec.schema.get("type") == "integer" else float(value)
    if isinstance(value, str):
        value = strip_controls(value).strip()  # no bidi overrides or control characters; new lines and tabs stay
        return value or None
    return value


def _display(spec: FieldSpec, value, bound_field) -> str:
    if spec.kind == "group":
        shown = [_display(sub, bound_field.form[sub.name].data, bound_field.form[sub.name]) for sub in spec.items
                 if sub.name in bound_field.form and sub.kind != "group"]
        return " · ".join(v for v in shown if v != "—") or "—"
    if spec.kind in ("rows", "list"):
        return _display_rows(spec, bound_field)
    if value in (None, "", []):
        return "—"
    if spec.kind == "checkbox":
        return _("Sí") if value else _("No")
    if spec.kind == "yesno":
        return _("Sí") if value == "si" else _("No")
    if spec.kind in ("select", "radio", "multi"):
        labels = {str(c.value): str(c.label) for c in bound_field.choices}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)
    if spec.kind == "password":
        return "••••"
    if spec.kind == "file":
        return str(value.get("filename")) if isinstance(value, dict) else str(getattr(value, "filename", "") or "—")
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _display_rows(spec: FieldSpec, bound) -> str:
    """One line per non-empty row: "first value: second · third…" (choices by their label)."""
    lines = []
    for entry in bound.filled():
        if spec.kind == "list":
            lines.append(_display(spec.items[0], entry.data, entry))
            continue
        shown = [_display(sub, entry.form[sub.name].data, entry.form[sub.name]) for sub in spec.items]
        shown = [value for value in shown if value != "—"]
        if shown:
            lines.append(shown[0] + (": " + " · ".join(shown[1:]) if shown[1:] else ""))
    return "\n".join(lines) or "—"


def _walk(specs, container):
    """(spec, bound field) of every field, in groups and rows too."""
    for spec in specs:
        if spec.name not in container:
            continue
        bound = container[spec.name]
        yield spec, bound
        if spec.kind == "group":
            yield from _walk(spec.items, bound.form)
        elif spec.kind == "rows":
            for entry in bound.entries:
                yield from _walk(spec.items, entry.form)
        elif spec.kind == "list":
            for entry in bound.entries:
                yield spec.items[0], entry


def _all_specs(specs):
    for spec in specs:
        yield spec
        yield from _all_specs(spec.items or [])


def _spanish_error(error) -> tuple[str, str]:
    """Field name and Spanish message for a jsonschema error."""
    name = error.path[0] if error.path else None
    if error.validator == "required":
        missing = [n for n in error.validator_value if n not in error.instance]
        return (missing[0] if missing else name) or "__form__", _("Este campo es obligatorio.")
    if error.validator == "dependentRequired":
        missing = [n for key, needed in error.validator_value.items() if key in error.instance
                   for n in needed if n not in error.instance]
        return (missing[0] if missing else name) or "__form__", _("Este campo es obligatorio.")
    messages = {
        "enum": _("Valor no permitido."),
        "const": _("Valor no permitido."),
        "type": _("El tipo de valor no es válido."),
        "minimum": _("El valor es demasiado pequeño."),
        "maximum": _("El valor es demasiado grande."),
        "minLength": _("El texto es demasiado corto."),
        "maxLength": _("El texto es demasiado largo."),
        "pattern": _("El formato no es válido."),
        "format": _("El formato no es válido."),
    }
    return name or "__form__", messages.get(error.validator, _("El valor no es válido."))


# -- jsonschema with RE2: the keywords that would match schema patterns with Python re ------------------
def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not regex_search(pattern, instance):
        yield SchemaValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for key, value in instance.items():
            if regex_search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    properties, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
    extras = [key for key in instance
              if key not in properties and not any(regex_search(p, key) for p in patterns)]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        yield SchemaValidationError(f"Additional properties are not allowed ({', '.join(map(repr, extras))})")


SafeValidator = validators.extend(Draft202012Validator, {
    "pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties})
