"""Compile a JSON Schema form into a WTForms form, and turn submissions back into JSON values.

Supported: string, textarea (ui:widget), date (format), integer, number, boolean (checkbox, or a
required Sí/No radio), single choice (enum, oneOf const/title, or a catalogue through
x-siproc-options), multiple choice (array of choices), required, minimum/maximum, minLength/maxLength,
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
from flask_wtf import FlaskForm
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError as SchemaValidationError
from referencing import Registry
from referencing.exceptions import Unresolvable
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
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


@dataclass
class FieldSpec:
    name: str
    kind: str  # string text date integer number checkbox yesno radio select multi
    title: str
    help: str | None
    required: bool
    schema: dict
    options: list[tuple[str, str]] | None = None
    source: str | None = None
    placeholder: str | None = None
    width: str = "full"  # full | half | third (ui:width), for the page layout


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
        return {f.source for f in self.fields if f.source}

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

    def build(self, choices_for, formdata=None, data=None, csrf=True) -> FlaskForm:
        """A bound WTForms form; choices_for(source) gives catalogue choices."""
        catalogues = {source: choices_for(source) for source in self.sources}

        class _Form(FlaskForm):
            pass

        for spec in self.fields:
            setattr(_Form, spec.name, _make_field(spec, catalogues.get(spec.source)))
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
        """Submitted values as JSON-ready data; empty optional fields become None."""
        return {spec.name: _json_value(spec, getattr(form, spec.name).data) for spec in self.fields}

    def schema_errors(self, data: dict) -> dict[str, str]:
        """Field name (or "__form__") -> Spanish message for the schema's rules, regular expressions in RE2."""
        present = {k: v for k, v in data.items() if v is not None}
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
        for spec in self.fields:
            value = getattr(form, spec.name).data
            rows.append((spec.title, _display(spec, value, getattr(form, spec.name))))
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


def _make_field(spec: FieldSpec, catalogue):
    kwargs = {"label": spec.title, "description": spec.help or "", "validators": _validators(spec)}
    if spec.placeholder:
        kwargs["render_kw"] = {"placeholder": spec.placeholder}
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


def _initial_values(compiled: CompiledForm, data: dict) -> dict:
    """Turn saved JSON values back into what the WTForms fields expect (drafts, re-display)."""
    values = {}
    for spec in compiled.fields:
        value = data.get(spec.name, spec.schema.get("default"))
        if value is None:
            continue
        if spec.kind == "date" and isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                continue
        elif spec.kind == "yesno":
            value = "si" if value else "no"
        values[spec.name] = value
    return values


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
