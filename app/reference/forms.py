"""Form pieces for the catalogue admin pages: fields, filters, validators and the form built per catalogue."""
import functools
import re
import zoneinfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..extensions import db
from . import focal
from .models import CaseCategory, Department
from .services import option_choices

REQUIRED = _l("Este campo es obligatorio.")
CHOOSE = SelectChoice("", _l("— Seleccione —"))


def strip(value):
    return value.strip() if isinstance(value, str) else value


def upper(value):
    return value.upper() if isinstance(value, str) else value


def required():
    return DataRequired(REQUIRED)


def optional():
    return Optional()


def max_length(n):
    return Length(max=n, message=_l("Debe tener como máximo %(max)d caracteres."))


def code_format(pattern, message):
    return Regexp(pattern + r"\Z", message=message)


def text(label, size, *, is_required=True, **kwargs):
    """A one-line text field of at most `size` characters."""
    first = required() if is_required else optional()
    return StringField(label, [first, max_length(size)], filters=[strip], **kwargs)


def lines(label, **kwargs):
    return LinesField(label, [optional()], filters=[strip], **kwargs)


def choice(label, choices, invalid, *, is_required=True, **kwargs):
    """A select from `choices` (a list or a callable giving one); anything else gets `invalid`."""
    return SelectField(label, [required() if is_required else optional()], choices=choices,
                       invalid_choice_message=invalid, **kwargs)


class LinesField(TextAreaField):
    """A '|'-separated list kept in one column, edited one item per line."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "TextAreaField"  # drawn by _form.html like any text area

    def process_data(self, value):
        self.data = "\n".join(value.split("|")) if value else value

    def db_value(self):
        items = [line.strip() for line in (self.data or "").splitlines() if line.strip()]
        return "|".join(items) or None


class CodeListField(SelectMultipleField):
    """Several codes kept as 'A|B|C' in one column, edited as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "SelectMultipleField"  # drawn by _form.html as a column of checkboxes

    def process_data(self, value):
        super().process_data([code for code in value.split("|") if code] if isinstance(value, str) else value or [])

    def db_value(self):
        return "|".join(self.data or [])


class DaysField(StringField):
    """A whole number of days kept in an integer column; empty is NULL. Checked by `days_in_range`."""

    def db_value(self):
        return focal.parse_days(self.data)


def _check(ok, message):
    def check(form, field):
        if field.data and not ok(field.data):
            raise ValidationError(message)
    return check


def days_in_range(form, field):
    try:
        focal.parse_days(field.data)
    except ValueError:
        raise ValidationError(_("Indique un número entero de días entre %(low)d y %(high)d, o deje el campo vacío.",
                                low=focal.DAYS_MIN, high=focal.DAYS_MAX)) from None


def focal_point_fields() -> dict:
    """The four focal-point fields of an institution, all optional."""
    return {
        "focal_name": StringField(
            _l("Punto focal: nombre"), [optional(), max_length(focal.NAME_MAX)], filters=[focal.clean_name],
            description=_l("Persona o área que recibe las remisiones.")),
        "focal_email": StringField(
            _l("Punto focal: correo electrónico"),
            [optional(), max_length(focal.EMAIL_MAX),
             _check(focal.email_ok, _l("Escriba un correo electrónico válido (p. ej. remisiones@institucion.org)."))],
            filters=[focal.clean_email], render_kw={"type": "email", "autocomplete": "off"},
            description=_l("Las remisiones se envían a este correo con un enlace seguro.")),
        "focal_phone": StringField(
            _l("Punto focal: teléfono"),
            [optional(), _check(focal.phone_ok, _l("El teléfono solo puede tener dígitos, espacios, «+», «-» y "
                                                   "paréntesis, con un máximo de 40 caracteres."))],
            filters=[focal.clean_phone], render_kw={"type": "tel", "autocomplete": "off"}),
        "response_days": DaysField(
            _l("Plazo habitual de respuesta (días)"), [optional(), days_in_range], filters=[strip],
            render_kw={"inputmode": "numeric"},
            description=_l("Plazo que se propone al remitir un caso (de 1 a 60 días); si se deja vacío, 5 días.")),
    }


@functools.cache
def timezone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def timezone_choices():
    return [CHOOSE, *(SelectChoice(name, name) for name in timezone_names())]


def country_choices():
    """ISO 3166-1 alpha-2 countries, in Spanish."""
    return [CHOOSE, *(SelectChoice(code, f"{name} ({code})") for code, name in option_choices("countries"))]


def institution_country_choices():
    return [CHOOSE, SelectChoice("INT", _l("Internacional")), *country_choices()[1:]]


def case_category_choices():
    """Every case category, inactive ones marked, so editing keeps what an institution already serves."""
    rows = db.session.execute(db.select(CaseCategory.code, CaseCategory.name, CaseCategory.is_active)
                              .order_by(CaseCategory.code))
    return [SelectChoice(code, f"{code} — {name}" + ("" if active else " " + _("(inactiva)")))
            for code, name, active in rows]


def joined_max_length(size):
    """Several codes must fit the column that keeps them joined with '|'."""
    def check(form, field):
        if len("|".join(field.data or [])) > size:
            raise ValidationError(_("Demasiadas opciones elegidas para guardarlas juntas (máximo %(size)d "
                                    "caracteres).", size=size))
    return check


def existing_department(form, field):
    """The first two digits of a municipality code name an existing, active department."""
    if not field.data or not re.fullmatch(r"\d{4}", field.data):
        return
    department = db.session.get(Department, field.data[:2])
    if department is None:
        raise ValidationError(_("No existe el departamento «%(code)s»: los dos primeros dígitos del código "
                                "deben ser un departamento existente.", code=field.data[:2]))
    if not department.is_active:
        raise ValidationError(_("El departamento «%(name)s» está desactivado; reactívelo antes de agregarle "
                                "municipios.", name=department.name))


def catalogue_form(catalogue, creating: bool, obj=None) -> FlaskForm:
    """The add form (key and editable fields) or the edit form (editable fields only) of a catalogue."""
    fields = {catalogue.key: catalogue.key_field, f"validate_{catalogue.key}": _free_key(catalogue)} if creating else {}
    fields.update(catalogue.fields)
    form_class = type(f"{catalogue.model.__name__}Form", (FlaskForm,), fields)
    return form_class(obj=obj)


def _free_key(catalogue):
    """Inline validator of the key: refuse a code already in use, alongside the other field errors."""
    def check(form, field):
        taken = field.data and catalogue.key_taken(field.data)
        if taken:
            raise ValidationError(taken)
    return check


def form_values(form) -> dict:
    """Submitted values as column values: lists joined, empty optional text as NULL."""
    values = {}
    for field in form:
        if field.name == "csrf_token":
            continue
        if hasattr(field, "db_value"):
            values[field.name] = field.db_value()
        else:
            values[field.name] = None if field.data == "" else field.data
    return values
