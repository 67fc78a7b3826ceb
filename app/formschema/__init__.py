"""Forms as JSON Schema files (forms/*.json), compiled to WTForms and validated server-side."""
from .compiler import CompiledForm, compile_form  # noqa: F401
from .loader import FormSchemaError, load_form, read_forms_dir  # noqa: F401
