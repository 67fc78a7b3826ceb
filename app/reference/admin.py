"""Catalogue administration: the registry of editable catalogues and the services that change them.

Rows are never deleted (cases refer to them); a row that should no longer be offered is deactivated.
The key (code) is fixed once created. Services flush; the view commits.
"""
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField

from ..audit import services as audit
from ..core.errors import DomainError
from ..core.pagination import Page, parse_page
from ..core.text import normalize
from ..extensions import db
from . import forms as f
from .models import CaseCategory, Department, Institution, LegalArea, Municipality, Office, VulnerabilityMarker
from .services import option_choices

OFFICE_KINDS = {
    "consulate": _l("Consulado"),
    "consular_section": _l("Sección consular"),
    "reception_centre": _l("Centro de atención al migrante retornado"),
    "central": _l("Unidad central (DGPHM)"),
}
INSTITUTION_KINDS = {
    "government": _l("Institución de gobierno"),
    "international": _l("Organismo internacional"),
    "ngo": _l("Organización no gubernamental"),
    "association": _l("Asociación"),
    "fund": _l("Fondo"),
    "reception_centre": _l("Centro de atención al migrante retornado"),
}
CONFIDENCE = {"high": _l("Alta"), "medium": _l("Media"), "low": _l("Baja")}

HYPHEN_CODE = r"[A-Z0-9]+(?:-[A-Z0-9]+)*"
HYPHEN_CODE_MESSAGE = _l("Use solo letras mayúsculas sin tilde, dígitos y guiones (p. ej. TAP o CAMR-SPS).")
UNDERSCORE_CODE = r"[A-Z0-9]+(?:_[A-Z0-9]+)*"
UNDERSCORE_CODE_MESSAGE = _l("Use solo letras mayúsculas sin tilde, dígitos y guiones bajos (p. ej. NNA_NO_ACOMP).")
FIXED = _l("No se puede cambiar después de crearlo.")


@dataclass(frozen=True)
class Column:
    label: Any
    value: Callable[[Any], Any]


@dataclass(frozen=True)
class Catalogue:
    """One editable catalogue: its URL slug, model, key, form fields and list columns."""

    slug: str
    model: type
    title: Any  # plural, as in the menu
    new_title: Any
    description: Any
    key_field: UnboundField
    fields: dict[str, UnboundField]  # editable after creation, in form order
    columns: tuple[Column, ...]  # besides the key, in list order
    key: str = "code"
    derived: Callable[[str], dict] | None = None  # columns that follow from the key

    @property
    def key_column(self):
        return getattr(self.model, self.key)

    def key_of(self, row) -> str:
        return getattr(row, self.key)

    def label(self, row) -> str:
        return f"{self.key_of(row)} — {row.name}"

    def haystack(self, row) -> str:
        return normalize(" ".join(str(value) for value in (self.key_of(row), *self.cells(row))))

    def cells(self, row) -> list:
        return [column.value(row) or "" for column in self.columns]

    def key_taken(self, key) -> str | None:
        """Why a new row cannot take this key (codes are never reused), or None when it is free."""
        existing = find_row(self, key)
        if existing is None:
            return None
        message = _("Ya existe «%(row)s» con ese código.", row=self.label(existing))
        if not existing.is_active:
            message += " " + _("Ese registro está desactivado: reactívelo en lugar de crearlo de nuevo.")
        return message


def _code(label, size, pattern, message, description=FIXED, upper=True):
    filters = [f.strip, f.upper] if upper else [f.strip]
    return StringField(label, [f.required(), f.max_length(size), f.code_format(pattern, message)],
                         filters=filters, description=description)


def _options(labels: dict):
    return [f.CHOOSE, *(SelectChoice(code, label) for code, label in labels.items())]


@functools.cache
def _country_names() -> dict[str, str]:
    return dict(option_choices("countries"))


def _country(row) -> str:
    return "" if not row.country else _country_names().get(row.country, row.country)


def _focal_point(row) -> str:
    """Name and e-mail of an institution's focal point, as far as they are known."""
    if row.focal_name and row.focal_email:
        return f"{row.focal_name} — {row.focal_email}"
    return row.focal_name or row.focal_email or ""


def _name_columns():
    return (Column(_l("Nombre"), lambda row: row.name), Column(_l("Nombre en inglés"), lambda row: row.name_en))


def _name_fields(size):
    return {"name": f.text(_l("Nombre"), size), "name_en": f.text(_l("Nombre en inglés"), size, is_required=False)}


def _registry() -> dict[str, Catalogue]:
    catalogues = [
        Catalogue(
            slug="oficinas", model=Office, title=_l("Oficinas"), new_title=_l("Nueva oficina"),
            description=_l("Consulados, secciones consulares, centros de atención y la unidad central."),
            key_field=_code(_l("Código"), 20, HYPHEN_CODE, HYPHEN_CODE_MESSAGE, _l(
                "Prefijo de los números de caso (TAP-2026-00042). No se puede cambiar después de crearlo.")),
            fields={
                "name": f.text(_l("Nombre"), 200),
                "kind": f.choice(_l("Tipo"), _options(OFFICE_KINDS), _l("Tipo de oficina desconocido."),
                                 description=_l("«Unidad central» da a los usuarios de la oficina acceso a los "
                                                "casos de todas las oficinas.")),
                "country": f.choice(_l("País"), f.country_choices, _l(
                    "País desconocido: elija un país de la lista (código ISO 3166 de dos letras).")),
                "state_or_department": f.text(_l("Estado, provincia o departamento"), 100, is_required=False),
                "city": f.text(_l("Ciudad"), 100, is_required=False),
                "timezone": f.choice(_l("Zona horaria"), f.timezone_choices, _l(
                    "Zona horaria desconocida: elija una zona IANA de la lista (p. ej. America/Tegucigalpa)."),
                    description=_l("Las fechas se muestran en esta zona a los usuarios de la oficina.")),
                "confidence": f.choice(_l("Confianza en el dato"), _options(CONFIDENCE),
                                       _l("Nivel de confianza desconocido."), is_required=False,
                                       description=_l("Qué tan seguro es que la oficina existe y funciona así.")),
                "four_eyes_approvals": BooleanField(
                    _l("Cuatro ojos: quien propone no aprueba"), default=True,
                    description=_l("Quien completó la propuesta de cierre (o la cotización del FOSMIH) no puede "
                                   "aprobarla: debe hacerlo otro supervisor de la oficina o un supervisor central.")),
            },
            columns=(
                Column(_l("Nombre"), lambda row: row.name),
                Column(_l("Tipo"), lambda row: OFFICE_KINDS.get(row.kind, row.kind)),
                Column(_l("País"), _country),
                Column(_l("Ciudad"), lambda row: row.city),
                Column(_l("Zona horaria"), lambda row: row.timezone),
                Column(_l("Cuatro ojos"), lambda row: _l("Sí") if row.four_eyes_approvals else _l("No")),
            ),
        ),
        Catalogue(
            slug="departamentos", model=Department, title=_l("Departamentos"), new_title=_l("Nuevo departamento"),
            description=_l("Departamentos de Honduras (códigos del INE/RNP, 01 a 18)."),
            key_field=_code(_l("Código"), 2, r"\d{2}", _l("El código de departamento tiene 2 dígitos (p. ej. 08)."),
                            upper=False),
            fields={"name": f.text(_l("Nombre"), 100)},
            columns=(Column(_l("Nombre"), lambda row: row.name),),
        ),
        Catalogue(
            slug="municipios", model=Municipality, title=_l("Municipios"), new_title=_l("Nuevo municipio"),
            description=_l("Municipios de Honduras: los cuatro primeros dígitos del DNI."),
            key_field=StringField(
                _l("Código"),
                [f.required(), f.code_format(r"\d{4}", _l("El código de municipio tiene 4 dígitos (p. ej. 0801).")),
                 f.existing_department],
                filters=[f.strip],
                description=_l("4 dígitos: los dos primeros son el departamento (0801 = Distrito Central, "
                               "Francisco Morazán). No se puede cambiar después de crearlo."),
            ),
            fields={"name": f.text(_l("Nombre"), 100)},
            columns=(
                Column(_l("Nombre"), lambda row: row.name),
                Column(_l("Departamento"), lambda row: f"{row.department.name} ({row.department_code})"),
            ),
            derived=lambda code: {"department_code": code[:2]},
        ),
        Catalogue(
            slug="instituciones", model=Institution, title=_l("Instituciones"), new_title=_l("Nueva institución"),
            description=_l("Instituciones a las que se remiten los casos."),
            key_field=_code(_l("Código"), 30, HYPHEN_CODE, HYPHEN_CODE_MESSAGE),
            fields={
                "short_name": f.text(_l("Nombre corto o sigla"), 100),
                "name": f.text(_l("Nombre completo"), 250),
                "kind": f.choice(_l("Tipo"), _options(INSTITUTION_KINDS), _l("Tipo de institución desconocido.")),
                "country": f.choice(_l("País"), f.institution_country_choices, _l(
                    "País desconocido: elija un país de la lista o «Internacional».")),
                "categories": f.CodeListField(
                    _l("Categorías de caso que atiende"), [f.joined_max_length(200)],
                    choices=f.case_category_choices,
                    invalid_choice_message=_l("Categorías de caso desconocidas: %(value)s."),
                ),
                **f.focal_point_fields(),
            },
            columns=(
                Column(_l("Sigla"), lambda row: row.short_name),
                Column(_l("Nombre"), lambda row: row.name),
                Column(_l("Tipo"), lambda row: INSTITUTION_KINDS.get(row.kind, row.kind)),
                Column(_l("País"), lambda row: _l("Internacional") if row.country == "INT" else _country(row)),
                Column(_l("Categorías"), lambda row: row.categories.replace("|", ", ")),
                Column(_l("Punto focal"), _focal_point),
            ),
        ),
        Catalogue(
            slug="categorias", model=CaseCategory, title=_l("Categorías de caso"),
            new_title=_l("Nueva categoría de caso"),
            description=_l("Categorías con las que se clasifica cada caso de protección."),
            key_field=_code(_l("Código"), 10, UNDERSCORE_CODE, UNDERSCORE_CODE_MESSAGE),
            fields={
                **_name_fields(150),
                "typical_subtypes": f.lines(_l("Subtipos habituales"), description=_l("Uno por línea.")),
                "typical_referrals": f.lines(_l("Remisiones habituales"), description=_l("Una por línea.")),
            },
            columns=_name_columns(),
        ),
        Catalogue(
            slug="areas-legales", model=LegalArea, title=_l("Áreas legales"), new_title=_l("Nueva área legal"),
            description=_l("Área del derecho a la que corresponde un caso."),
            key_field=_code(_l("Código"), 20, UNDERSCORE_CODE, UNDERSCORE_CODE_MESSAGE),
            fields=_name_fields(100),
            columns=_name_columns(),
        ),
        Catalogue(
            slug="vulnerabilidades", model=VulnerabilityMarker, title=_l("Condiciones de vulnerabilidad"),
            new_title=_l("Nueva condición de vulnerabilidad"),
            description=_l("Condiciones de vulnerabilidad que se marcan en la persona atendida."),
            key_field=_code(_l("Código"), 30, UNDERSCORE_CODE, UNDERSCORE_CODE_MESSAGE),
            fields=_name_fields(150),
            columns=_name_columns(),
        ),
    ]
    return {catalogue.slug: catalogue for catalogue in catalogues}


CATALOGUES = _registry()


def find_row(catalogue: Catalogue, key: str):
    return db.session.scalar(db.select(catalogue.model).where(catalogue.key_column == key))


def list_rows(catalogue: Catalogue, text: str | None = None, state: str | None = None) -> list:
    """Rows ordered by key, by state ('activos', 'inactivos', else all) and by text in any shown column.

    Catalogues hold at most a few hundred rows, so the text match runs in Python: it ignores case and
    accents the same way on SQLite and PostgreSQL ('atlantida' finds 'Atlántida').
    """
    query = db.select(catalogue.model).order_by(catalogue.key_column)
    if state == "activos":
        query = query.where(catalogue.model.is_active.is_(True))
    elif state == "inactivos":
        query = query.where(catalogue.model.is_active.is_(False))
    rows = db.session.scalars(query).unique().all()
    needle = normalize(text)
    return [row for row in rows if needle in catalogue.haystack(row)] if needle else list(rows)


def page_of(rows: list, raw_page, size: int) -> Page:
    number = min(parse_page(raw_page), max(1, -(-len(rows) // size)))
    return Page(rows[(number - 1) * size:number * size], number, size, len(rows))


def summaries() -> list[tuple[Catalogue, int, int]]:
    """(catalogue, active rows, all rows) for every catalogue: one count query each."""
    result = []
    for catalogue in CATALOGUES.values():
        model = catalogue.model
        total, active = db.session.execute(
            db.select(sa.func.count(), sa.func.count(sa.case((model.is_active.is_(True), 1))))
        ).one()
        result.append((catalogue, active, total))
    return result


def create_row(catalogue: Catalogue, values: dict):
    """Add a row with a new key; a key already in use (even by an inactive row) is refused."""
    key = values[catalogue.key]
    taken = catalogue.key_taken(key)
    if taken:
        raise DomainError(_("Revise los campos marcados. No se guardó nada."), {catalogue.key: taken})
    columns = {name: values[name] for name in (catalogue.key, *catalogue.fields)}
    row = catalogue.model(**columns, **(catalogue.derived(key) if catalogue.derived else {}), is_active=True)
    db.session.add(row)
    _flush()
    audit.record("catalog_changed", object_type=catalogue.model.__tablename__, object_id=key,
                 details={"operación": "alta", **{k: str(v) for k, v in columns.items()}})
    return row


def update_row(catalogue: Catalogue, row, values: dict):
    """Change the editable fields of a row; the key and the active flag are not among them."""
    before = {name: str(getattr(row, name)) for name in catalogue.fields if name in values}
    for name in catalogue.fields:
        if name in values:
            setattr(row, name, values[name])
    _flush()
    after = {name: str(getattr(row, name)) for name in before}
    changed = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    audit.record("catalog_changed", object_type=row.__tablename__, object_id=getattr(row, catalogue.key),
                 details={"operación": "modificación", "cambios": changed})
    return row


def set_active(row, active: bool):
    """Deactivate (no longer offered in forms) or reactivate a row; records that use it keep it."""
    row.is_active = active
    db.session.flush()
    key = getattr(row, "code", None) or getattr(row, "id", None)
    audit.record("catalog_changed", object_type=row.__tablename__, object_id=key,
                 details={"operación": "reactivación" if active else "desactivación"})
    return row


def _flush():
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise DomainError(_("No se pudo guardar: el código ya existe o hace referencia a un registro que no "
                            "existe. No se guardó nada.")) from exc
