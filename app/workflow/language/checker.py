"""Publish-time check of diagram code: every syntax node and every name called must be on the list.

The same check runs again before code first runs (the interpreter also refuses anything unlisted on its
own). Constant parts of the code are evaluated here under the run-time budgets, so `'a' * 10**10` or
`(9**64)**64` are refused at publish and not when a case reaches them.
"""
import ast
import functools

from .interpreter import Run, describe
from .library import ATTRIBUTE_NAMES, CONTEXT_HELPERS, FUNCTIONS, METHOD_NAMES
from .limits import DEFAULT_LIMITS, DiagramCodeError, Limits, configured_limits

MAX_SOURCE_LENGTH = 10_000
EXPRESSIONS = {
    ast.Constant, ast.Name, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call,
    ast.Attribute, ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp,
    ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.JoinedStr, ast.FormattedValue, ast.NamedExpr,
}
STATEMENTS = {ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.While, ast.Break, ast.Continue,
              ast.Pass, ast.Delete}
PARTS = {
    ast.Expression, ast.Module, ast.Load, ast.Store, ast.Del, ast.keyword, ast.comprehension,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitAnd, ast.BitOr, ast.BitXor,
    ast.Not, ast.USub, ast.UAdd, ast.Invert, ast.And, ast.Or,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
}
ALLOWED = frozenset(EXPRESSIONS | STATEMENTS | PARTS)
NAMES = {  # Spanish names of constructs people try, for the refusal message
    "Import": "import", "ImportFrom": "from … import", "FunctionDef": "def", "AsyncFunctionDef": "async def",
    "ClassDef": "class", "Lambda": "lambda", "Return": "return", "Yield": "yield", "YieldFrom": "yield from",
    "Await": "await", "Try": "try", "TryStar": "try", "Raise": "raise", "With": "with", "AsyncWith": "async with",
    "AsyncFor": "async for", "Global": "global", "Nonlocal": "nonlocal", "Match": "match", "Assert": "assert",
    "AnnAssign": "anotaciones de tipo", "Starred": "* para repartir valores", "LShift": "<<", "RShift": ">>",
    "MatMult": "@", "Delete": "del", "Pass": "pass", "Break": "break", "Continue": "continue", "While": "while",
    "For": "for", "If": "if",
}
CONSTANT_TYPES = (type(None), bool, int, float, str)
CLOCK_HELPERS = {"hoy", "ahora", *CONTEXT_HELPERS}  # their value depends on when and for whom code runs


def check(source, mode: str = "eval", limits: Limits | None = None) -> list[str]:
    """Spanish problems of a piece of diagram code (empty when it may run); mode 'eval' or 'exec'."""
    if source is None:
        return []
    if not isinstance(source, str):
        return ["el código debe ser texto"]
    try:
        _parsed(source, mode, limits or configured_limits())
    except DiagramCodeError as exc:
        return [part for part in exc.message.split("\n") if part]
    return []


def parsed(source: str, mode: str, limits: Limits | None = None):
    """The checked syntax tree of a piece of code (cached); raises DiagramCodeError with every problem."""
    if not isinstance(source, str):
        raise DiagramCodeError("el código debe ser texto")
    return _parsed(source, mode, limits or configured_limits())


@functools.lru_cache(maxsize=512)  # a diagram has tens of expressions; bounded memory
def _parsed(source: str, mode: str, limits: Limits):
    if not isinstance(source, str):
        raise DiagramCodeError("el código debe ser texto")
    if len(source) > MAX_SOURCE_LENGTH:
        raise DiagramCodeError(f"el código supera {MAX_SOURCE_LENGTH} caracteres")
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise DiagramCodeError(f"error de sintaxis en la línea {exc.lineno}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise DiagramCodeError("el código no se puede leer (caracteres no válidos o anidación excesiva)") from None
    problems = _Checker(limits).problems(tree)
    if problems:
        raise DiagramCodeError("\n".join(problems))
    return tree


class _Checker:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.found: list[str] = []
        self.calls: set[int] = set()  # ids of nodes in call position

    def problems(self, tree) -> list[str]:
        if _depth(tree) > 3 * self.limits.max_depth:
            return [f"el código tiene más de {3 * self.limits.max_depth} niveles de anidación"]
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.calls.add(id(node.func))
        self._visit(tree, loops=0)
        if not self.found:
            self._fold(tree)
        return self.found

    def add(self, node, message):
        line = getattr(node, "lineno", None)
        text = f"línea {line}: {message}" if line and line > 1 else message
        if text not in self.found:
            self.found.append(text)

    def _visit(self, node, loops):  # noqa: C901 - one flat list of rules reads best
        kind = type(node)
        if kind not in ALLOWED:
            label = NAMES.get(kind.__name__, kind.__name__)
            self.add(node, f"la construcción «{label}» no está permitida en el código de los diagramas")
            return
        if kind is ast.Name:
            self._name(node)
        elif kind is ast.Attribute:
            self._attribute(node)
        elif kind is ast.Call:
            self._call(node)
        elif kind is ast.Constant and type(node.value) not in CONSTANT_TYPES:
            self.add(node, "solo se admiten constantes numéricas, de texto, True, False y None")
        elif kind is ast.Constant and type(node.value) is int and node.value.bit_length() > self.limits.max_int_bits:
            self.add(node, f"el número supera {self.limits.max_int_bits} bits")
        elif kind is ast.Dict and any(k is None for k in node.keys):
            self.add(node, "no se admite ** en un diccionario")
        elif kind is ast.comprehension and node.is_async:
            self.add(node, "no se admiten comprensiones asíncronas")
        elif kind is ast.FormattedValue and node.format_spec is not None and not all(
                isinstance(v, ast.Constant) for v in node.format_spec.values):
            self.add(node, "el formato dentro de {…} debe ser fijo")
        elif kind in (ast.Break, ast.Continue) and not loops:
            self.add(node, "break y continue solo pueden usarse dentro de un bucle")
        elif kind is ast.While and self._always_true(node.test) and not _breaks(node.body):
            self.add(node, "el bucle «while» no termina nunca (su condición es siempre verdadera y no tiene break)")
        elif kind in (ast.Assign, ast.AugAssign, ast.For, ast.Delete, ast.NamedExpr, ast.comprehension):
            self._targets(node)
        inner = loops + 1 if kind in (ast.For, ast.While) else loops
        for child in ast.iter_child_nodes(node):
            self._visit(child, 0 if kind in (ast.FunctionDef, ast.Lambda) else inner)

    def _name(self, node):
        if node.id.startswith("_"):
            self.add(node, f"el nombre «{node.id}» no está permitido (empieza por _)")
        elif node.id in FUNCTIONS and id(node) not in self.calls:
            self.add(node, f"«{node.id}» es una función: solo puede llamarse, por ejemplo {node.id}(…)")
        elif node.id in FUNCTIONS and not isinstance(node.ctx, ast.Load):
            self.add(node, f"no se puede asignar a «{node.id}», es una función")

    def _attribute(self, node):
        allowed = METHOD_NAMES if id(node) in self.calls else ATTRIBUTE_NAMES
        if node.attr not in allowed or node.attr.startswith("_"):
            what = "el método" if id(node) in self.calls else "el atributo"
            self.add(node, f"{what} «{node.attr}» no está permitido")
        elif not isinstance(node.ctx, ast.Load):
            self.add(node, f"no se puede asignar a «{node.attr}»")

    def _call(self, node):
        func = node.func
        if isinstance(func, ast.Name):
            entry = FUNCTIONS.get(func.id)
            if entry is None:
                self.add(node, f"la función «{func.id}» no está permitida")
            elif not entry.min_args <= len(node.args) <= entry.max_args:
                self.add(node, f"«{func.id}» no admite {len(node.args)} argumentos")
            else:
                for keyword in node.keywords:
                    if keyword.arg is not None and "*" not in entry.keywords and keyword.arg not in entry.keywords:
                        self.add(node, f"«{func.id}» no admite el argumento «{keyword.arg}»")
        elif not isinstance(func, ast.Attribute):
            self.add(node, "solo se pueden llamar funciones y métodos permitidos por su nombre")
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            self.add(node, "no se admiten argumentos con * ni **")
        for keyword in node.keywords:
            if keyword.arg and keyword.arg.startswith("_"):
                self.add(node, f"el nombre «{keyword.arg}» no está permitido (empieza por _)")

    def _targets(self, node):
        targets = {ast.Assign: lambda n: n.targets, ast.Delete: lambda n: n.targets}.get(
            type(node), lambda n: [n.target])(node)
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Starred):
                    self.add(node, "no se admite * para repartir valores")
                elif isinstance(part, ast.Attribute) and part is target:
                    self.add(node, "solo se puede asignar a nombres, elementos de listas o claves de diccionarios")

    def _always_true(self, test) -> bool:
        """A loop condition that is the same truthy constant for every case (True, 1, not False, 1 == 1)."""
        if not _constant(test):
            return False
        try:
            return bool(Run(self.limits, {}, {}, readonly=True).value_of(test))
        except Exception:
            return False

    def _fold(self, tree):
        """Evaluate every constant sub-expression once, under one shared budget, to refuse costly constants."""
        run = Run(self.limits, {}, {})
        todo = [tree]
        while todo:
            node = todo.pop()
            if isinstance(node, ast.Attribute) and id(node) in self.calls:
                todo.append(node.value)  # a method of a constant ("-".join): the call is what runs
                continue
            if isinstance(node, ast.expr) and _constant(node):
                if not isinstance(node, (ast.Constant, ast.Name)):
                    try:
                        run.value_of(node)
                    except DiagramCodeError as exc:
                        self.add(node, exc.message)
                    except Exception as exc:
                        self.add(node, f"esta parte siempre falla: {describe(exc)}")
                continue
            todo.extend(ast.iter_child_nodes(node))


def _constant(node) -> bool:
    """No data, no assignment and no clock in it: its value is the same for every case."""
    for part in ast.walk(node):
        if isinstance(part, (ast.Name, ast.NamedExpr, ast.comprehension)):
            if not (isinstance(part, ast.Name) and part.id in FUNCTIONS and part.id not in CLOCK_HELPERS):
                return False
        if isinstance(part, ast.Call) and isinstance(part.func, ast.Attribute) and \
                part.func.attr in {"append", "extend", "insert", "update", "add", "pop", "clear", "sort"}:
            return False
    return True




def _breaks(body) -> bool:
    """A break that leaves this loop (not one inside a nested loop)."""
    todo = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Break):
            return True
        if not isinstance(node, (ast.For, ast.While)):
            todo.extend(ast.iter_child_nodes(node))
        else:
            todo.extend(node.orelse)
    return False


def _depth(tree) -> int:
    deepest, todo = 0, [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


__all__ = ["check", "parsed", "DEFAULT_LIMITS"]
