"""The restricted evaluator for diagram expressions and scripts (gateway conditions, scripts, timers).

Diagrams are untrusted input. Code is checked statically (at deploy time and again before it runs)
and then runs with a whitelist of builtins and no access to names or attributes that start with an
underscore, so the usual escapes (`__import__('os')`, `().__class__.__bases__`, `open(...)`) fail.
"""
import ast
import functools
from datetime import date, datetime, timedelta

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from ..core import clock

MAX_SOURCE_LENGTH = 10_000
MAX_POWER_EXPONENT = 64

SAFE_BUILTINS = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "abs", "all", "any", "bool", "dict", "enumerate", "filter", "float", "int", "len", "list",
        "map", "max", "min", "range", "reversed", "round", "sorted", "str", "sum", "tuple", "zip",
    )
}
FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals", "vars",
    "input", "breakpoint", "help", "exit", "quit", "memoryview", "type", "object", "super", "dir",
    "classmethod", "staticmethod", "property", "print", "id", "hasattr", "issubclass", "bytearray",
})
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "mro", "gi_frame", "f_globals", "func_globals"})
FORBIDDEN_NODES = (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.ClassDef, ast.AsyncFunctionDef,
                   ast.Await, ast.Yield, ast.YieldFrom, ast.With, ast.AsyncWith, ast.Try, ast.Raise, ast.Delete)


class RestrictedCodeError(Exception):
    """Code in a diagram uses something the restricted evaluator does not allow."""


def _today_iso():
    return clock.now().date().isoformat()


def _now_iso():
    return clock.now().isoformat()


def _days_between(start, end):
    """Whole days from start to end; both ISO dates or datetimes."""
    def as_date(value):
        return value if isinstance(value, date) and not isinstance(value, datetime) else (
            datetime.fromisoformat(str(value)).date()
        )
    return (as_date(end) - as_date(start)).days


def _add_hours(start, hours):
    """ISO datetime `hours` after an ISO datetime (deadlines counted from an earlier moment)."""
    return (datetime.fromisoformat(str(start)) + timedelta(hours=float(hours))).isoformat()


HELPERS = {"hoy": _today_iso, "ahora": _now_iso, "dias_entre": _days_between, "sumar_horas": _add_hours}


def check_source(source: str, mode: str = "eval") -> list[str]:
    """Problems found in a piece of diagram code (empty when it may run). mode: 'eval' or 'exec'."""
    if source is None:
        return []
    if len(source) > MAX_SOURCE_LENGTH:
        return [f"el código supera {MAX_SOURCE_LENGTH} caracteres"]
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        return [f"error de sintaxis en la línea {exc.lineno}: {exc.msg}"]
    problems = []
    for node in ast.walk(tree):
        problem = _node_problem(node)
        if problem and problem not in problems:
            problems.append(problem)
    return problems


def _node_problem(node):  # noqa: C901 - one flat list of rules reads best
    if isinstance(node, FORBIDDEN_NODES):
        return f"la instrucción «{type(node).__name__}» no está permitida"
    if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in FORBIDDEN_NAMES):
        return f"el nombre «{node.id}» no está permitido"
    if isinstance(node, ast.Attribute) and (node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES):
        return f"el atributo «{node.attr}» no está permitido"
    if isinstance(node, ast.FunctionDef) and node.name.startswith("_"):
        return f"el nombre «{node.name}» no está permitido"
    if isinstance(node, ast.arg) and node.arg.startswith("_"):
        return f"el nombre «{node.arg}» no está permitido"
    if isinstance(node, ast.keyword) and node.arg and node.arg.startswith("_"):
        return f"el nombre «{node.arg}» no está permitido"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = node.right
        if not (isinstance(exponent, ast.Constant) and isinstance(exponent.value, int)
                and abs(exponent.value) <= MAX_POWER_EXPONENT):
            return "la potencia solo admite exponentes constantes pequeños"
    return None


@functools.lru_cache(maxsize=2048)
def _compiled(source: str, mode: str):
    problems = check_source(source, mode)
    if problems:
        raise RestrictedCodeError("; ".join(problems))
    return compile(source, "<string>", mode)


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment whose evaluate/execute run only checked code with whitelisted builtins."""

    def __init__(self):
        super().__init__({"__builtins__": SAFE_BUILTINS, **HELPERS})

    def evaluate(self, expression, context, external_context=None):
        code = _compiled(expression, "eval")
        scope = dict(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        scope["__builtins__"] = SAFE_BUILTINS
        return eval(code, scope)  # noqa: S307 - checked code, whitelisted builtins

    def execute(self, script, context, external_context=None):
        code = _compiled(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        context.update(self.globals)
        context.update(external_context or {})
        context["__builtins__"] = SAFE_BUILTINS
        try:
            exec(code, context)  # noqa: S102 - checked code, whitelisted builtins
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


def script_engine() -> PythonScriptEngine:
    return PythonScriptEngine(environment=RestrictedEnvironment())
