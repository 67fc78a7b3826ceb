"""Read and check form definitions: a JSON Schema plus an optional UI schema (RJSF conventions)."""
import json
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

SUPPORTED_TYPES = {"string", "integer", "number", "boolean", "array"}
OPTION_SOURCES = {"case_categories", "institutions", "municipalities", "departments", "countries", "subdivisions",
                  "legal_areas", "vulnerability_markers", "offices"}
MAX_FORM_BYTES = 256 * 1024
RESERVED_NAMES = {"data", "errors", "meta", "validate", "process", "populate_obj", "csrf_token", "form_errors",
                  "hidden_tag", "is_submitted", "validate_on_submit", "extra_validators"}


class FormSchemaError(ValueError):
    """A form file is missing, unreadable or uses something the compiler does not support."""


def read_forms_dir(forms_dir) -> dict[str, str]:
    """Every form file's text by file name."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(forms_dir).glob("*.json"))}


def load_form(filename: str, text: str) -> dict:
    """Parse and check one form schema; returns the schema dict or raises FormSchemaError."""
    schema = _json_object(filename, text, "el formulario")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise FormSchemaError(f"{filename}: JSON Schema no válido ({exc.message})") from exc
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        raise FormSchemaError(f"{filename}: el formulario debe ser de tipo «object» con «properties»")
    for name, prop in schema["properties"].items():
        problem = _property_problem(name, prop)
        if problem:
            raise FormSchemaError(f"{filename}: campo «{name}»: {problem}")
    for name in schema.get("required", []):
        if name not in schema["properties"]:
            raise FormSchemaError(f"{filename}: el campo obligatorio «{name}» no está definido")
    for name in schema.get("x-siproc-workflow-fields", []):
        if name not in schema["properties"]:
            raise FormSchemaError(f"{filename}: el campo de flujo «{name}» no está definido")
    return schema


def load_ui(filename: str, text: str | None) -> dict:
    """Parse an optional UI schema (ui:order, ui:widget, ui:help, ui:placeholder)."""
    return _json_object(filename, text, "el esquema de interfaz") if text else {}


def _json_object(filename, text, what) -> dict:
    if len(text.encode("utf-8")) > MAX_FORM_BYTES:
        raise FormSchemaError(f"{filename}: {what} supera {MAX_FORM_BYTES // 1024} KB")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise FormSchemaError(f"{filename}: JSON no válido ({exc})") from exc
    if not isinstance(value, dict):
        raise FormSchemaError(f"{filename}: {what} debe ser un objeto JSON")
    return value


def _property_problem(name, prop):
    if not name.isidentifier() or name.startswith("_"):
        return "el nombre debe ser un identificador sin guion bajo inicial"
    if name in RESERVED_NAMES:
        return "el nombre está reservado"
    if not isinstance(prop, dict):
        return "la definición debe ser un objeto"
    kind = prop.get("type")
    if kind not in SUPPORTED_TYPES:
        return f"tipo «{kind}» no soportado"
    source = prop.get("x-siproc-options") or (prop.get("items") or {}).get("x-siproc-options")
    if source and source not in OPTION_SOURCES:
        return f"catálogo «{source}» desconocido"
    check = prop.get("x-siproc-check")
    if check is not None:
        from .compiler import FIELD_CHECKS

        if check not in FIELD_CHECKS:
            return f"comprobación «{check}» desconocida"
    if kind == "array":
        items = prop.get("items") or {}
        if not (items.get("enum") or items.get("oneOf") or items.get("x-siproc-options")):
            return "las listas deben ser de opciones (items con enum, oneOf o x-siproc-options)"
    return None
