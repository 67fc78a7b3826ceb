"""Compile a JSON Schema form into a WTForms form, and turn submissions back into JSON values.

Supported: string, textarea (ui:widget), date (format), integer, number, boolean (checkbox, or a
required Sí/No radio), single choice (enum, oneOf const/title, or a catalogue through
x-siproc-options), multiple choice (array of choices), repeating rows (array of objects whose fields are
any of the single-value kinds above, RJSF style, at most maxItems rows), required, minimum/maximum, minLength/maxLength,
pattern, description/ui:help. Cross-field rules (if/then, dependentRequired) are checked with
jsonschema after the field checks, with Spanish messages.

Form documents are untrusted (see loader): regular expressions are matched with RE2, never Python re
(a backtracking pattern cannot freeze a worker), and jsonschema never fetches a remote reference.
"""
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
    DecimalField,
    FieldList,
    FormField,
    IntegerField,
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
from wtforms.widgets import CheckboxInput, ListWidget

from ..core import clock
from ..core.text import strip_controls
from .loader import SAFE_FORMATS, check_ui, regex_search

YES_NO = [("si", "Sí"), ("no", "No")]
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


@dataclass
class FieldSpec:
    name: str
    kind: str  # string text date integer number checkbox yesno radio select multi rows
    title: str
    help: str | None
    required: bool
    schema: dict
    options: list[tuple[str, str]] | None = None
    source: str | None = None
    placeholder: str | None = None
    width: str = "full"  # full | half | third (ui:width), for the page layout
    items: list["FieldSpec"] | None = None  # rows: the fields of one row
    min_items: int = 0  # rows: non-empty rows needed (at least 1 when the field is required)
    max_items: int = 0  # rows: rows rendered and accepted
    item_title: str | None = None  # rows: each row is titled "<item_title> <n>"


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
        return {f.source for spec in self.fields for f in [spec, *(spec.items or [])] if f.source}

    @property
    def has_rows(self) -> bool:
        return any(spec.kind == "rows" for spec in self.fields)

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

    def build(self, choices_for, formdata=None, data=None, csrf=True, facts=frozenset()) -> FlaskForm:
        """A bound WTForms form; choices_for(source) gives catalogue choices; fields hidden by a fact that holds
        (`facts`, names of FORM_FACTS) are left out, and the fact's note is shown instead."""
        catalogues = {source: choices_for(source) for source in self.sources}
        hiding = {spec.schema.get("x-siproc-hidden-if") for spec in self.fields} & set(facts)

        class _Form(FlaskForm):
            siproc_notes = [str(FORM_FACTS[name][0]) for name in sorted(hiding) if name in FORM_FACTS]

        for spec in self.fields:
            if spec.schema.get("x-siproc-hidden-if") in hiding:
                continue
            made = _make_rows(spec, catalogues) if spec.kind == "rows" else \
                _make_field(spec, catalogues.get(spec.source))
            setattr(_Form, spec.name, made)
        initial = _initial_values(self, data or {})
        meta = None if csrf else {"csrf": False}
        if formdata is not None:
            return _Form(formdata=formdata, data=initial, meta=meta)
        return _Form(data=initial, meta=meta)

    def validate(self, form) -> bool:
        """Field validation, then the schema's cross-field rules; errors land on the fields."""
        ok = form.validate()
        if not ok:
            return False
        problems = self.schema_errors(self.to_json(form))
        names = {spec.name for spec in self.fields}
        for name, message in problems.items():
            target = getattr(form, name) if name in names else None
            if target is not None:
                target.errors = [*target.errors, message] if isinstance(target.errors, list) else [message]
            else:
                form.form_errors.append(message)
        return not problems

    def to_json(self, form) -> dict:
        """Submitted values as JSON-ready data; empty optional fields become None, rows a list of the non-empty ones."""
        return {spec.name: _field_json(spec, getattr(form, spec.name)) for spec in self.fields if spec.name in form}

    def schema_errors(self, data: dict) -> dict[str, str]:
        """Field name (or "__form__") -> Spanish message for the schema's rules, regular expressions in RE2."""
        present = {k: _present(v) for k, v in data.items() if v is not None}
        validator = SafeValidator(self.schema, format_checker=FormatChecker(SAFE_FORMATS), registry=Registry())
        problems = {}
        try:
            errors = sorted(validator.iter_errors(present), key=lambda e: list(e.path))
        except (RecursionError, Unresolvable, re2.error):  # load_form refuses these; never a 500 anyway
            return {"__form__": _("El formulario tiene una regla que no se puede comprobar.")}
        for error in errors:
            name, message = _spanish_error(error)
            problems.setdefault(name, message)
        return problems

    def labelled(self, form) -> list[tuple[str, str]]:
        """(label, shown value) pairs of a submission, for the case history."""
        rows = []
        for spec in (s for s in self.fields if s.name in form):
            bound = getattr(form, spec.name)
            shown = _display_rows(spec, bound) if spec.kind == "rows" else _display(spec, bound.data, bound)
            rows.append((spec.title, shown))
        return rows


def compile_form(filename: str, schema: dict, ui: dict | None = None) -> CompiledForm:
    """A CompiledForm from a schema checked by load_form and a UI schema; raises FormSchemaError."""
    ui = check_ui(filename, ui or {})
    required = set(schema.get("required", []))
    order = ui.get("ui:order") or list(schema["properties"])
    names = list(dict.fromkeys([n for n in order if n in schema["properties"]] + list(schema["properties"])))
    compiled = CompiledForm(filename, schema, ui)
    for name in names:
        compiled.fields.append(_field_spec(name, schema["properties"][name], ui.get(name) or {}, name in required))
    return compiled


def _field_spec(name, prop, ui, required) -> FieldSpec:
    kind = prop["type"]
    if kind == "array" and isinstance(prop.get("items"), dict) and prop["items"].get("type") == "object":
        return _rows_spec(name, prop, ui, required)
    options, source = _options(prop.get("items") if kind == "array" else prop)
    if kind == "array":
        shape = "multi"
    elif options is not None or source:
        shape = "radio" if ui.get("ui:widget") == "radio" else "select"
    elif kind == "boolean":
        widget = ui.get("ui:widget")
        shape = "checkbox" if widget == "checkbox" else ("yesno" if required or widget == "radio" else "checkbox")
    elif kind in ("integer", "number"):
        shape = kind
    elif prop.get("format") == "date":
        shape = "date"
    elif ui.get("ui:widget") == "textarea":
        shape = "text"
    else:
        shape = "string"
    return FieldSpec(
        name=name,
        kind=shape,
        title=prop.get("title") or name,
        help=ui.get("ui:help") or prop.get("description"),
        required=required,
        schema=prop,
        options=options,
        source=source,
        placeholder=ui.get("ui:placeholder"),
        width=ui.get("ui:width") if ui.get("ui:width") in ("half", "third") else "full",
    )


def _rows_spec(name, prop, ui, required) -> FieldSpec:
    """An array of objects: maxItems rows of single-value fields; the UI schema of a row is under "items"."""
    items, item_ui = prop["items"], ui.get("items") or {}
    item_required = set(items.get("required", []))
    order = item_ui.get("ui:order") or list(items["properties"])
    names = list(dict.fromkeys([n for n in order if n in items["properties"]] + list(items["properties"])))
    title = prop.get("title") or name
    return FieldSpec(
        name=name,
        kind="rows",
        title=title,
        help=ui.get("ui:help") or prop.get("description"),
        required=required,
        schema=prop,
        width=ui.get("ui:width") if ui.get("ui:width") in ("half", "third") else "full",
        items=[_field_spec(n, items["properties"][n], item_ui.get(n) or {}, n in item_required) for n in names],
        min_items=max(prop.get("minItems", 0), 1 if required else 0),
        max_items=prop["maxItems"],
        item_title=items.get("title") or title,
    )


def _options(prop):
    if not prop:
        return None, None
    if prop.get("x-siproc-options"):
        return None, prop["x-siproc-options"]
    if prop.get("oneOf"):
        return [(str(o["const"]), o.get("title") or str(o["const"])) for o in prop["oneOf"]], None
    if prop.get("enum"):
        titles = prop.get("x-enum-titles") or [str(v) for v in prop["enum"]]
        return [(str(v), str(t)) for v, t in zip(prop["enum"], titles, strict=False)], None
    return None, None


def _validators(spec: FieldSpec):
    prop = spec.schema
    required_message = prop.get("x-siproc-required-message") or _("Este campo es obligatorio.")
    if spec.required:
        first = InputRequired(required_message) if spec.kind in ("integer", "number", "yesno", "radio") else \
            DataRequired(required_message)
    else:
        first = Optional()
    rules = [first]
    if spec.kind in ("string", "text"):
        low, high = prop.get("minLength", -1), prop.get("maxLength", -1)
        if low >= 0 or high >= 0:
            rules.append(Length(min=low, max=high, message=_length_message(low, high)))
        if prop.get("pattern"):
            rules.append(_pattern_rule(prop["pattern"], prop.get("x-siproc-pattern-message")
                                       or _("El formato no es válido.")))
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


def _make_field(spec: FieldSpec, catalogue, in_row=False):
    kwargs = {"label": spec.title, "description": spec.help or "", "validators": _validators(spec)}
    render_kw = {"placeholder": spec.placeholder} if spec.placeholder else {}
    if in_row:
        render_kw["required"] = False  # no HTML "required": the browser would refuse to send empty rows
    if render_kw:
        kwargs["render_kw"] = render_kw
    choices = [SelectChoice(value, label) for value, label in (catalogue if spec.source else spec.options) or []]
    if spec.kind == "string":
        return StringField(**kwargs)
    if spec.kind == "text":
        return TextAreaField(**kwargs)
    if spec.kind == "date":
        return DateField(format="%Y-%m-%d", **kwargs)
    if spec.kind == "integer":
        return IntegerField(**kwargs)
    if spec.kind == "number":
        return DecimalField(places=None, **kwargs)
    if spec.kind == "checkbox":
        return BooleanField(**kwargs)
    if spec.kind == "yesno":
        return RadioField(choices=[SelectChoice(v, lbl) for v, lbl in YES_NO], **kwargs)
    if spec.kind == "radio":
        return RadioField(choices=choices, **kwargs)
    if spec.kind == "multi":
        return SelectMultipleField(choices=choices, widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput(), **kwargs)
    return SelectField(choices=[SelectChoice("", _("— Seleccione —")), *choices], **kwargs)


class RowList(FieldList):
    """The rows of an array of objects: always max_entries rows, named <field>-0-<sub> to <field>-<max-1>-<sub>
    (other indexes in a submission are ignored, never added). A row whose fields are all empty is neither
    validated nor returned; fewer non-empty rows than min_rows is an error of the list itself."""

    def __init__(self, *args, min_rows=0, row_title="", **kwargs):
        super().__init__(*args, **kwargs)
        self.min_rows, self.row_title = min_rows, row_title

    def process(self, formdata, data=unset_value, extra_filters=None):
        if extra_filters:
            raise TypeError("RowList does not accept filters")
        self.last_index, self.entries = -1, []
        rows = list(data) if isinstance(data, (list, tuple)) else []
        self.object_data = rows
        for index in range(self.max_entries):
            row = rows[index] if index < len(rows) and isinstance(rows[index], dict) else unset_value
            self._add_entry(formdata, row, index=index)

    def filled(self) -> list:
        return [entry for entry in self.entries if self.row_filled(entry)]

    @staticmethod
    def row_filled(entry) -> bool:
        """Whether anything was typed or chosen in the row (or, without a submission, any value is set)."""
        for sub in entry.form:
            if sub.raw_data is None:
                if sub.data not in (None, "", False, []):
                    return True
            elif any(str(value).strip() for value in sub.raw_data):
                return True
        return False

    def validate(self, form, extra_validators=()):
        self.errors = []
        for entry in self.entries:
            if self.row_filled(entry):
                entry.validate(form)
                self.errors.append(entry.errors)
            else:
                self.errors.append({})
        if not any(self.errors):
            self.errors = []
        filled = len(self.filled())
        if filled < self.min_rows:
            self.errors.append(ngettext("Añada al menos %(n)d fila.", "Añada al menos %(n)d filas.",
                                        self.min_rows, n=self.min_rows))
        self._run_validation_chain(form, [*self.validators, *extra_validators])
        return len(self.errors) == 0


def _make_rows(spec: FieldSpec, catalogues) -> RowList:
    class _Row(FlaskForm):
        class Meta:
            csrf = False

    for sub in spec.items:
        setattr(_Row, sub.name, _make_field(sub, catalogues.get(sub.source), in_row=True))
    return RowList(FormField(_Row), label=spec.title, description=spec.help or "", min_entries=spec.max_items,
                   max_entries=spec.max_items, min_rows=spec.min_items, row_title=spec.item_title)


def _initial_values(compiled: CompiledForm, data: dict) -> dict:
    """Turn saved JSON values back into what the WTForms fields expect (drafts, re-display)."""
    values = {}
    for spec in compiled.fields:
        value = _initial_value(spec, data.get(spec.name, spec.schema.get("default")))
        if value is not None:
            values[spec.name] = value
    return values


def _initial_value(spec: FieldSpec, value):
    if value is None:
        return None
    if spec.kind == "rows":
        if not isinstance(value, list):
            return None
        rows = []
        for row in value[:spec.max_items]:
            if isinstance(row, dict):
                converted = {sub.name: _initial_value(sub, row.get(sub.name)) for sub in spec.items}
                rows.append({k: v for k, v in converted.items() if v is not None})
        return rows
    if spec.kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    if spec.kind == "yesno":
        return "si" if value else "no"
    return value


def _field_json(spec: FieldSpec, bound):
    if spec.kind == "rows":
        return [{sub.name: _json_value(sub, entry.form[sub.name].data) for sub in spec.items}
                for entry in bound.filled()]
    return _json_value(spec, bound.data)


def _present(value):
    """A value for the schema rules: inside rows, empty optional fields are left out, as at the top level."""
    if isinstance(value, list):
        return [{k: v for k, v in row.items() if v is not None} if isinstance(row, dict) else row for row in value]
    return value


def _json_value(spec: FieldSpec, value):
    if spec.kind == "checkbox":
        return bool(value)
    if spec.kind == "yesno":
        return None if value in (None, "") else value == "si"
    if value in (None, "") or value == []:
        return [] if spec.kind == "multi" else None
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
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _display_rows(spec: FieldSpec, bound) -> str:
    """One line per non-empty row: "first value: second · third…" (choices by their label)."""
    lines = []
    for entry in bound.filled():
        shown = [_display(sub, entry.form[sub.name].data, entry.form[sub.name]) for sub in spec.items]
        shown = [value for value in shown if value != "—"]
        if shown:
            lines.append(shown[0] + (": " + " · ".join(shown[1:]) if shown[1:] else ""))
    return "\n".join(lines) or "—"


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
