"""Read and check form definitions: a JSON Schema plus an optional UI schema (RJSF conventions).

Form documents are written by process owners and treated as untrusted: size and nesting are bounded
before parsing, regular expressions must compile with RE2 (linear time, no backtracking), references
must be local, resolvable and acyclic, and every value the compiler reads must have the expected type.
"""
import json
import math
from pathlib import Path

import re2
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

OPTION_SOURCES = {"case_categories", "institutions", "municipalities", "departments", "countries", "subdivisions",
                  "legal_areas", "vulnerability_markers", "offices"}
MAX_FORM_BYTES = 256 * 1024
MAX_DEPTH = 32  # JSON nesting levels of a document, and of a schema with its references followed
MAX_PATTERN = 1000  # characters of a regular expression
MAX_SCHEMAS = 10_000  # subschemas jsonschema may evaluate for one submission, references followed (forms: < 100)
RESERVED_NAMES = {"data", "errors", "meta", "validate", "process", "populate_obj", "csrf_token", "form_errors",
                  "hidden_tag", "is_submitted", "validate_on_submit", "extra_validators", "Meta", "post_process"}
DIALECT = "https://json-schema.org/draft/2020-12/schema"
FORBIDDEN_KEYWORDS = ("$id", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor",
                      "$vocabulary")
LOCAL_REF = re2.compile(r"#(?:/[\p{L}\p{N}_.$-]+)+")  # a JSON pointer into this document
SAFE_FORMATS = [name for name in FormatChecker.checkers if name != "regex"]  # "regex" would run re.compile
JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}
TASK_OPTIONS_PREFIX = "options_from_task_data_var:"  # SpiffArena: "anyOf": ["options_from_task_data_var:<name>"]
TASK_VAR = re2.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
MESSAGE_KEYS = ("x-siproc-required-message", "x-siproc-pattern-message")
UI_TEXT_KEYS = ("ui:widget", "ui:help", "ui:placeholder", "ui:width", "ui:title", "ui:description")
MAX_ROWS = 10  # maxItems of an array of objects: every row is rendered
MAX_ROW_FIELDS = 20  # properties of the object of an array of objects
# Keywords whose value is a subschema, a list of subschemas, or a map of name -> subschema (draft 2020-12).
_ONE_SCHEMA = ("additionalProperties", "propertyNames", "items", "contains", "not", "if", "then", "else",
               "unevaluatedItems", "unevaluatedProperties", "contentSchema")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.never_capture = True
_RE2_OPTIONS.log_errors = False


class FormSchemaError(ValueError):
    """A form file is missing, unreadable or uses something the compiler does not support."""


def read_forms_dir(forms_dir) -> dict[str, str]:
    """Every form file's text by file name."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(forms_dir).glob("*.json"))}


def load_form(filename: str, text: str) -> dict:
    """Parse and check one form schema; returns the schema dict or raises FormSchemaError.

    SpiffArena's options from task data (anyOf ["options_from_task_data_var:<name>"]) are rewritten as
    "x-siproc-task-options": "<name>" first: that placeholder is not JSON Schema."""
    schema = _lower_task_options(filename, _json_object(filename, text, "el formulario"), 0)
    _check_metaschema(filename, schema)
    nodes = dict(schema_nodes(schema))
    _check_keywords(filename, nodes)
    _check_patterns(filename, nodes)
    _RefGraph(filename, nodes).check()
    if not isinstance(schema.get("properties"), dict) or not schema["properties"]:
        if schema.get("type") == "array":
            raise FormSchemaError(f"{filename}: un formulario que es una lista («type»: «array» en la raíz) aún no "
                                  "se admite: defina un objeto con «properties» y la lista como uno de sus campos")
        raise FormSchemaError(f"{filename}: el formulario debe definir sus campos en «properties»")
    if schema.get("type", "object") != "object":
        raise FormSchemaError(f"{filename}: el formulario debe ser de tipo «object» (o no indicar «type»)")
    _check_form_names(filename, schema)
    from .compiler import compile_form

    compile_form(filename, schema, {})  # every field the compiler supports, or a Spanish message naming it
    return schema


def _lower_task_options(filename, node, level):
    """A copy of the document with SpiffArena's task data option placeholders as x-siproc-task-options."""
    if level > MAX_DEPTH:
        raise FormSchemaError(f"{filename}: el formulario tiene más de {MAX_DEPTH} niveles de anidamiento")
    if isinstance(node, list):
        return [_lower_task_options(filename, item, level + 1) for item in node]
    if not isinstance(node, dict):
        return node
    lowered = {key: _lower_task_options(filename, value, level + 1) for key, value in node.items()}
    options = node.get("anyOf")
    if isinstance(options, list) and any(isinstance(o, str) for o in options):
        name = options[0][len(TASK_OPTIONS_PREFIX):] if len(options) == 1 and isinstance(options[0], str) \
            and options[0].startswith(TASK_OPTIONS_PREFIX) else None
        if name is None or not TASK_VAR.fullmatch(name):
            raise FormSchemaError(f"{filename}: «anyOf» con texto: solo se admite "
                                  f"[\"{TASK_OPTIONS_PREFIX}nombre_de_variable\"] (opciones tomadas de los datos "
                                  "de la tarea)")
        del lowered["anyOf"]
        lowered["x-siproc-task-options"] = name
    return lowered


def load_ui(filename: str, text: str | None) -> dict:
    """Parse an optional UI schema (ui:order, ui:sections, ui:widget, ui:help, ui:placeholder, ui:width)."""
    return check_ui(filename, _json_object(filename, text, "el esquema de interfaz")) if text else {}


def check_ui(filename: str, ui) -> dict:
    """The UI schema itself when every value the compiler reads has the expected shape."""
    if not isinstance(ui, dict):
        raise FormSchemaError(f"{filename}: el esquema de interfaz debe ser un objeto JSON")
    for key, value in ui.items():
        problem = _ui_problem(key, value)
        if problem:
            raise FormSchemaError(f"{filename}: «{key}»: {problem}")
    return ui


def regex(pattern: str):
    """The RE2 program of a JSON Schema pattern; raises re2.error when RE2 cannot (or may not) compile it."""
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN:
        raise re2.error(f"la expresión debe ser un texto de hasta {MAX_PATTERN} caracteres")
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except UnicodeEncodeError as exc:
        raise re2.error("la expresión contiene caracteres no válidos") from exc


def regex_search(pattern: str, text: str) -> bool:
    """Whether the pattern occurs anywhere in the text (JSON Schema semantics), in linear time."""
    return regex(pattern).search(text.encode("utf-8", "replace")) is not None


def schema_nodes(schema, path=()):
    """(path, subschema) for the schema and every subschema in it, as jsonschema walks them."""
    if isinstance(schema, bool):
        yield path, schema
    if not isinstance(schema, dict):
        return
    yield path, schema
    for key in _ONE_SCHEMA:
        yield from schema_nodes(schema.get(key), (*path, key))
    for key in _SCHEMA_LISTS:
        if isinstance(schema.get(key), list):
            for index, item in enumerate(schema[key]):
                yield from schema_nodes(item, (*path, key, str(index)))
    for key in _SCHEMA_MAPS:
        if isinstance(schema.get(key), dict):
            for name, item in schema[key].items():
                yield from schema_nodes(item, (*path, key, name))


# -- parsing -------------------------------------------------------------------------------------------
def _json_object(filename, text, what) -> dict:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FORM_BYTES:
        raise FormSchemaError(f"{filename}: {what} supera {MAX_FORM_BYTES // 1024} KB")
    if _too_deep(text):
        raise FormSchemaError(f"{filename}: {what} tiene más de {MAX_DEPTH} niveles de anidamiento")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except ValueError as exc:
        raise FormSchemaError(f"{filename}: JSON no válido ({exc})") from exc
    except RecursionError as exc:
        raise FormSchemaError(f"{filename}: {what} está demasiado anidado") from exc
    if not isinstance(value, dict):
        raise FormSchemaError(f"{filename}: {what} debe ser un objeto JSON")
    return value


def _too_deep(text) -> bool:
    """Whether arrays and objects nest deeper than MAX_DEPTH, counting brackets outside strings."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _no_constant(name):
    raise ValueError(f"«{name}» no es un número JSON")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"el número {text[:40]} es demasiado grande")
    return value


# -- the schema as a whole -----------------------------------------------------------------------------
def _check_metaschema(filename, schema):
    try:
        Draft202012Validator.check_schema(schema, format_checker=FormatChecker(SAFE_FORMATS))
    except SchemaError as exc:
        raise FormSchemaError(f"{filename}: JSON Schema no válido ({exc.message[:300]})") from exc
    except (RecursionError, ValueError, TypeError, LookupError) as exc:
        raise FormSchemaError(f"{filename}: JSON Schema no válido (no se pudo comprobar: {type(exc).__name__})") \
            from exc


def _check_keywords(filename, nodes):
    """No base-changing or dynamic references; $schema, if given, only at the root and for draft 2020-12."""
    schemas = {path: node for path, node in nodes.items() if isinstance(node, dict)}
    patterned = any("patternProperties" in node for node in schemas.values())
    for path, node in schemas.items():
        for keyword in FORBIDDEN_KEYWORDS:
            if keyword in node:
                raise FormSchemaError(f"{filename}: {_where(path)}: «{keyword}» no está admitido en los formularios")
        if "$schema" in node and (path or node["$schema"].rstrip("#") != DIALECT):
            raise FormSchemaError(f"{filename}: {_where(path)}: «$schema» solo puede indicarse en la raíz y "
                                  f"debe ser {DIALECT}")
        if "unevaluatedProperties" in node and patterned:  # jsonschema would match those with Python re
            raise FormSchemaError(f"{filename}: {_where(path)}: «unevaluatedProperties» no se admite junto con "
                                  "«patternProperties»")


def _check_patterns(filename, nodes):
    """Every pattern (and patternProperties key, propertyNames included) must compile with RE2."""
    for path, node in nodes.items():
        if not isinstance(node, dict):
            continue
        if "pattern" in node:
            _check_pattern(filename, (*path, "pattern"), node["pattern"])
        for pattern in node.get("patternProperties") or {}:
            _check_pattern(filename, (*path, "patternProperties"), pattern)


def _check_pattern(filename, path, pattern):
    shown = pattern if len(pattern) <= 60 else pattern[:60] + "…"
    if len(pattern) > MAX_PATTERN:
        raise FormSchemaError(f"{filename}: {_where(path)}: la expresión regular supera {MAX_PATTERN} caracteres")
    try:
        regex(pattern)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise FormSchemaError(
            f"{filename}: {_where(path)}: la expresión regular «{shown}» no es válida o usa algo no admitido "
            f"({reason}); no se admiten referencias hacia atrás (\\1) ni búsquedas hacia delante o hacia atrás"
        ) from exc


def _where(path) -> str:
    """Where in the document, naming the field when there is one."""
    pointer = "/".join(path) or "raíz"
    fields = [path[i + 1] for i in range(len(path) - 1) if path[i] == "properties"]
    return f"campo «{fields[-1]}» ({pointer})" if fields else f"«{pointer}»"


class _RefGraph:
    """$ref checks: local JSON pointers to a subschema of the same document, no cycles; and, references followed,
    bounded depth (jsonschema recurses) and size (references to references can multiply the work)."""

    def __init__(self, filename, nodes):
        self.filename, self.nodes = filename, nodes
        self.targets, self.measures, self.stack = {}, {}, []

    def check(self):
        for path, node in self.nodes.items():
            if isinstance(node, dict) and "$ref" in node:
                self.targets[path] = self._target(path, node["$ref"])
        self._measure((), 0)

    def _target(self, path, ref):
        if not isinstance(ref, str) or not LOCAL_REF.fullmatch(ref):
            raise FormSchemaError(f"{self.filename}: {_where(path)}: referencia «{str(ref)[:80]}» no admitida: solo "
                                  "se admiten referencias locales al mismo documento, como «#/$defs/nombre»")
        target = tuple(ref[2:].split("/"))
        if target not in self.nodes:
            raise FormSchemaError(f"{self.filename}: {_where(path)}: la referencia «{ref}» no apunta a ningún "
                                  "esquema del documento")
        return target

    def _measure(self, path, level) -> tuple[int, int]:
        """(levels, schemas) jsonschema may go through from path, following references (one level each)."""
        if path in self.stack:
            raise FormSchemaError(f"{self.filename}: la referencia a «#/{'/'.join(path)}» forma un ciclo "
                                  "(un esquema que se incluye a sí mismo)")
        if level > MAX_DEPTH:
            raise self._too_deep()
        if path not in self.measures:
            self.stack.append(path)
            height = size = 0
            for sub, _ in schema_nodes(self.nodes[path], path):
                below, more = self._below(path, sub, level)
                height, size = max(height, below), size + more
                if size > MAX_SCHEMAS:
                    raise FormSchemaError(f"{self.filename}: el formulario tiene más de {MAX_SCHEMAS} esquemas "
                                          "(contando los que incluyen sus referencias)")
            self.stack.pop()
            self.measures[path] = height, size
        if level + self.measures[path][0] > MAX_DEPTH:
            raise self._too_deep()
        return self.measures[path]

    def _below(self, path, sub, level) -> tuple[int, int]:
        depth = len(sub) - len(path)
        if sub not in self.targets:
            return depth, 1
        height, size = self._measure(self.targets[sub], level + depth + 1)
        return depth + 1 + height, 1 + size

    def _too_deep(self):
        return FormSchemaError(f"{self.filename}: con sus referencias, el formulario tiene más de {MAX_DEPTH} "
                               "niveles de anidamiento")


def _check_form_names(filename, schema):
    for name in schema.get("required", []):
        if name not in schema["properties"]:
            raise FormSchemaError(f"{filename}: el campo obligatorio «{name}» no está definido")
    fields = schema.get("x-siproc-workflow-fields", [])
    if not _strings(fields):
        raise FormSchemaError(f"{filename}: «x-siproc-workflow-fields» debe ser una lista de nombres de campo")
    for name in fields:
        if name not in schema["properties"]:
            raise FormSchemaError(f"{filename}: el campo de flujo «{name}» no está definido")
    if not isinstance(schema.get("x-siproc-action", ""), str):
        raise FormSchemaError(f"{filename}: «x-siproc-action» debe ser el nombre de una acción")


# -- fields (checked by the compiler, which resolves references and nesting) -------------------------
def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _choices_problem(prop):
    for where, schema in (("", prop), ("items: ", prop.get("items"))):
        if not isinstance(schema, dict):
            continue
        source = schema.get("x-siproc-options")
        if source is not None and (not isinstance(source, str) or source not in OPTION_SOURCES):
            return f"{where}catálogo «{source}» desconocido"
        options = schema.get("oneOf")
        if options is not None and not all(isinstance(o, dict) and "const" in o for o in options):
            return f"{where}cada opción de «oneOf» debe ser un objeto con «const» (y «title»)"
        if not _strings(schema.get("x-enum-titles", [])):
            return f"{where}«x-enum-titles» debe ser una lista de textos"
    return None


def _extension_problem(prop):
    check = prop.get("x-siproc-check")
    if check is not None:
        from .compiler import FIELD_CHECKS

        if not isinstance(check, str) or check not in FIELD_CHECKS:
            return f"comprobación «{check}» desconocida"
        if prop["type"] != "string":
            return "«x-siproc-check» solo se aplica a campos de tipo «string»"
    for key in MESSAGE_KEYS:
        if not isinstance(prop.get(key, ""), str):
            return f"«{key}» debe ser un texto"
    prefill = prop.get("x-siproc-prefill")
    if prefill is not None:
        from .compiler import FORM_PREFILLS

        if not isinstance(prefill, str) or prefill not in FORM_PREFILLS:
            known = ", ".join(sorted(FORM_PREFILLS)) or "ninguno"
            return f"«x-siproc-prefill»: dato «{prefill}» desconocido (admitidos: {known})"
    hidden_if = prop.get("x-siproc-hidden-if")
    if hidden_if is not None:
        from .compiler import FORM_FACTS

        if not isinstance(hidden_if, str) or hidden_if not in FORM_FACTS:
            known = ", ".join(sorted(FORM_FACTS)) or "ninguna"
            return f"«x-siproc-hidden-if»: condición «{hidden_if}» desconocida (admitidas: {known})"
    return None


def _default_problem(prop, nullable=False):
    if "default" not in prop or (nullable and prop["default"] is None):
        return None
    kind, value = prop["type"], prop["default"]
    if isinstance(value, JSON_TYPES[kind]) and (kind == "boolean" or not isinstance(value, bool)):
        return None
    return f"el valor por defecto no es de tipo «{kind}»"


# -- UI schema -----------------------------------------------------------------------------------------
def _ui_problem(key, value):
    if key == "ui:order":
        return None if _strings(value) else "debe ser una lista de nombres de campo"
    if key == "ui:sections":
        return _sections_problem(value)
    if key.startswith("ui:"):
        return None  # other RJSF options of the whole form are ignored
    if not isinstance(value, dict):
        return 'la presentación de un campo debe ser un objeto, p. ej. {"ui:widget": "textarea"}'
    wrong = [k for k in UI_TEXT_KEYS if k in value and not isinstance(value[k], str)]
    if wrong:
        return f"«{wrong[0]}» debe ser un texto"
    return _row_ui_problem(value["items"]) if "items" in value else None


def _row_ui_problem(items):
    """The presentation of the rows of an array of objects: {"ui:order": [...], "campo": {"ui:widget": ...}}."""
    if not isinstance(items, dict):
        return "«items» debe ser un objeto con la presentación de los campos de cada fila"
    for key, value in items.items():
        if key == "ui:order":
            if not _strings(value):
                return "«items»: «ui:order» debe ser una lista de nombres de campo"
        elif key.startswith("ui:"):
            continue
        elif not isinstance(value, dict):
            return f"«items»: «{key}»: la presentación de un campo debe ser un objeto"
        else:
            wrong = [k for k in UI_TEXT_KEYS if k in value and not isinstance(value[k], str)]
            if wrong:
                return f"«items»: «{key}»: «{wrong[0]}» debe ser un texto"
    return None


def _sections_problem(sections):
    if not isinstance(sections, list):
        return "debe ser una lista de secciones"
    for section in sections:
        if not isinstance(section, dict) or not isinstance(section.get("title", ""), str) \
                or not _strings(section.get("fields", [])):
            return 'cada sección debe ser un objeto {"title": "…", "fields": ["campo", …]}'
    return None


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
