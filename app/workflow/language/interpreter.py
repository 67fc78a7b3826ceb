"""The interpreter of diagram code: walks a checked syntax tree itself, on plain data, within budgets.

Nothing here hands diagram text to Python's eval/exec or compile. Each node kind has one method below;
a node kind without a method is refused. Names resolve to task data (and read-only data objects) or,
as call targets only, to the listed functions (library.FUNCTIONS); `value.name(...)` resolves through
library.METHODS by the value's exact type. Every step is counted, the clock is read every 256 steps,
and every value produced is measured before or as it is built.
"""
import ast
import math
import operator
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import re2

from .library import (
    ATTRIBUTES,
    DEEP_FUNCTIONS,
    DEEP_METHODS,
    FUNCTIONS,
    METHODS,
    MUTATING_METHODS,
    NUMBERS,
    PLAIN_TYPES,
    Entry,
    type_name,
)
from .limits import BudgetExceeded, DiagramCodeError, Limits, current_run

HASHING_CALLS = frozenset({"set", "dict", "add", "update", "union", "intersection", "difference",
                           "symmetric_difference", "issubset", "issuperset", "isdisjoint", "discard", "remove",
                           "get", "pop", "setdefault"})
STORABLE_TYPES = frozenset({type(None), bool, int, float, str, list, dict, tuple, datetime, timedelta})
BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
}
UNARY = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
FORMAT_SPEC = re2.compile(r"(?:.?[<>=^])?[+\- ]?z?#?0?(\d{0,4})[,_]?(?:\.(\d{1,3}))?[bcdeEfFgGnosxX%]?")
PERCENT_FLAGS = re2.compile(r"[#0\- +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?")
HASH_MODULUS = 2**61 - 1  # CPython hashes numbers modulo this prime
MAX_WIDTH = 1000
MAX_PRECISION = 100
ERRORS = (
    (ZeroDivisionError, "división por cero"),
    (OverflowError, "el número es demasiado grande"),
    (RecursionError, "los datos están anidados demasiado profundo"),
    (KeyError, "la clave {detail} no existe"),
    (IndexError, "posición fuera de rango"),
    (TypeError, "operación no válida para valores de estos tipos"),
    (ArithmeticError, "operación aritmética no válida"),
    (ValueError, "valor no válido ({detail})"),
)


# Python's own keywords for statements in messages (never the syntax tree's class names such as «Delete»)
STATEMENT_WORDS = {"Delete": "del", "Import": "import", "ImportFrom": "from … import", "FunctionDef": "def",
                   "ClassDef": "class", "Return": "return", "Try": "try", "Raise": "raise", "With": "with",
                   "Global": "global", "Nonlocal": "nonlocal", "Assert": "assert", "Match": "match"}


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def describe(exc: Exception) -> str:
    """A Spanish message for an error raised by an operation on plain data."""
    for kind, message in ERRORS:
        if isinstance(exc, kind):
            detail = str(exc)[:80]
            return message.format(detail=f"«{detail.strip(chr(39))}»" if kind is KeyError else detail)
    return "operación no válida"


class Run:
    """One evaluation: the scope, the counters, and the node methods."""

    def __init__(self, limits: Limits, data: dict, external: dict | None = None, readonly: bool = False):
        self.limits = limits
        self.readonly = readonly  # an expression (condition, timer) may not change the task data
        self.data = data
        self.external = external or {}
        self.frames: list[dict] = []  # comprehension scopes
        self.assigned: set[str] = set()
        self.steps = 0
        self.allocated = 0
        self.line = None
        run = current_run()
        self.deadline = time.perf_counter() + limits.seconds
        if run is not None:
            self.deadline = min(self.deadline, run.deadline)

    # -- budgets ---------------------------------------------------------------------------------------------
    def tick(self):
        self.steps += 1
        if self.steps > self.limits.steps:
            raise BudgetExceeded(f"el código superó {self.limits.steps} pasos")
        if not self.steps & 63 and time.perf_counter() > self.deadline:
            raise BudgetExceeded(f"el código superó su tiempo máximo ({int(self.limits.seconds * 1000)} ms)")

    def charge(self, size: int):
        """An operation that walks `size` items or characters in one C call counts as that many steps / 1,000."""
        if size > 4096:
            self.steps += size // 1000
            self.tick()

    def need(self, size: int):
        """Refuse before building a value of `size` bytes that would break a size budget."""
        if size > self.limits.max_size:
            raise BudgetExceeded(f"el valor ocuparía {size:,} bytes; el máximo es {self.limits.max_size:,}"
                                 .replace(",", "."))
        self.allocated += size
        if self.allocated > self.limits.max_total:
            raise BudgetExceeded(f"el código produjo más de {self.limits.max_total:,} bytes en total"
                                 .replace(",", "."))

    def fits(self, size: int, added: int = 0):
        """Refuse growing a container to `size` bytes beyond the ceiling; only `added` bytes are new."""
        if size > self.limits.max_size:
            self.need(size)
        self.need(added)

    def check_int(self, value):
        if type(value) is int and value.bit_length() > self.limits.max_int_bits:
            raise BudgetExceeded(f"el número supera {self.limits.max_int_bits} bits")
        return value

    def produced(self, value):
        """Check a value just built: plain type, and its own size (its items were measured already)."""
        kind = type(value)
        if kind not in PLAIN_TYPES:
            raise DiagramCodeError("el resultado no es un valor simple")
        if kind is int:
            self.check_int(value)
        elif kind is str:
            self.need(len(value))
        elif kind in (list, tuple, set):
            self.need(8 * len(value))
        elif kind is dict:
            self.need(16 * len(value))
        return value

    def deep(self, *values):
        """Measure containers deeply before an operation that walks into them (compare, hash, sort)."""
        for value in values:
            if type(value) in (list, tuple, dict, set):
                self.need_deep(value)

    def need_deep(self, value):
        """Measure a value and everything in it, as text at its longest (what str() or a comparison walks);
        bounded: stops as soon as a budget is exceeded, and every item counts as a step."""
        total, todo = 0, [(value, 1)]
        while todo:
            item, depth = todo.pop()
            self.tick()
            if depth > self.limits.max_depth:
                raise BudgetExceeded(f"los datos tienen más de {self.limits.max_depth} niveles de anidación")
            kind = type(item)
            if kind is str:  # inside a container, str() shows repr(): escapes may take 4 characters
                total += len(item) if depth == 1 or item.isprintable() else 4 * len(item) + 2
            elif kind is dict:
                total += 16 * len(item)
                todo.extend((v, depth + 1) for pair in item.items() for v in pair)
            elif kind in (list, tuple, set):
                total += 8 * len(item)
                todo.extend((v, depth + 1) for v in item)
            elif kind is int:
                total += 8 + item.bit_length() * 31 // 100  # decimal digits
            elif kind in PLAIN_TYPES:
                total += 32
            else:
                raise DiagramCodeError("los datos contienen un valor que no es simple")
            if total > self.limits.max_size:
                self.need(total)
        return total

    # -- running ---------------------------------------------------------------------------------------------
    def value_of(self, node):
        self.tick()
        method = getattr(self, "e_" + type(node).__name__, None)
        if method is None:
            raise DiagramCodeError(f"la expresión «{type(node).__name__}» no está permitida")
        return method(node)

    def exec_block(self, body):
        for statement in body:
            self.tick()
            self.line = getattr(statement, "lineno", self.line)
            method = getattr(self, "s_" + type(statement).__name__, None)
            if method is None:
                word = STATEMENT_WORDS.get(type(statement).__name__, type(statement).__name__)
                raise DiagramCodeError(f"la instrucción «{word}» no está permitida")
            method(statement)

    # -- names -----------------------------------------------------------------------------------------------
    def load(self, name):
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        if name in self.data:
            value = self.data[name]
        elif name in self.external:
            value = self.external[name]
        elif name in FUNCTIONS:
            raise DiagramCodeError(f"«{name}» es una función: llámela así: {name}(…)")
        else:
            raise DiagramCodeError(f"el dato «{name}» no está definido")
        if type(value) not in PLAIN_TYPES:
            raise DiagramCodeError(f"el dato «{name}» no es un valor simple")
        return value

    def store(self, name, value):
        if self.readonly and not self.frames:
            raise DiagramCodeError(f"una expresión no puede asignar datos («{name}»); use una tarea de script")
        if self.frames:
            self.frames[-1][name] = value
        else:
            self.data[name] = value
            self.assigned.add(name)

    # -- expressions -----------------------------------------------------------------------------------------
    def e_Constant(self, node):
        if type(node.value) not in (type(None), bool, int, float, str):
            raise DiagramCodeError("solo se admiten constantes numéricas, de texto, True, False y None")
        return self.produced(node.value)

    def e_Name(self, node):
        return self.load(node.id)

    def e_BinOp(self, node):
        return self.binary(type(node.op), self.value_of(node.left), self.value_of(node.right))

    def binary(self, op, left, right):
        func = BINARY.get(op)
        if func is None:
            raise DiagramCodeError(f"el operador «{op.__name__}» no está permitido")
        self._presize(op, left, right)
        if op is ast.Mod and type(left) is str:
            return self.produced(self._percent(left, right))
        return self.produced(func(left, right))

    def _presize(self, op, left, right):
        lk, rk = type(left), type(right)
        if op is ast.Mult:
            if lk in (str, list, tuple) and rk in (int, bool):
                self.need(max(0, right) * len(left) * (1 if lk is str else 8))
            elif rk in (str, list, tuple) and lk in (int, bool):
                self.need(max(0, left) * len(right) * (1 if rk is str else 8))
            elif lk is int and rk is int and left.bit_length() + right.bit_length() > self.limits.max_int_bits:
                raise BudgetExceeded(f"el número supera {self.limits.max_int_bits} bits")
        elif op is ast.Add and lk is rk and lk in (str, list, tuple):
            self.need((len(left) + len(right)) * (1 if lk is str else 8))
        elif op is ast.Pow and lk in (int, bool) and rk in (int, bool) and right > 0 and abs(left) > 1:
            if right * abs(left).bit_length() > self.limits.max_int_bits + right:
                raise BudgetExceeded(f"la potencia supera {self.limits.max_int_bits} bits")
        elif op is ast.Pow and (lk is Decimal or rk is Decimal) and abs(right) > 10_000:
            raise BudgetExceeded("la potencia tiene un exponente demasiado grande")

    def _percent(self, fmt, args):
        size = len(fmt) + self.need_deep(args)
        for width, precision in _percent_specs(fmt):
            if "*" in (width, precision):
                raise BudgetExceeded("el formato con «*» (ancho tomado de los datos) no está permitido")
            if (width and int(width) > MAX_WIDTH) or (precision and int(precision) > MAX_PRECISION):
                raise BudgetExceeded(f"el formato admite un ancho de hasta {MAX_WIDTH} caracteres")
            size += int(width or 0) + int(precision or 0)
        self.need(size)
        return fmt % args

    def e_UnaryOp(self, node):
        func = UNARY.get(type(node.op))
        if func is None:
            raise DiagramCodeError("operador no permitido")
        return self.produced(func(self.value_of(node.operand)))

    def e_BoolOp(self, node):
        value = None
        for operand in node.values:
            value = self.value_of(operand)
            if isinstance(node.op, ast.And) != bool(value):
                return value
        return value

    def e_Compare(self, node):
        left = self.value_of(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.value_of(comparator)
            if type(op) not in (ast.Is, ast.IsNot):
                self.deep(left, right)
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def e_IfExp(self, node):
        return self.value_of(node.body) if self.value_of(node.test) else self.value_of(node.orelse)

    def e_NamedExpr(self, node):
        value = self.value_of(node.value)
        self.store(node.target.id, value)
        return value

    def e_Call(self, node):
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise DiagramCodeError("no se admiten argumentos con * ni **")
        func = node.func
        if isinstance(func, ast.Name):
            entry, target, label = FUNCTIONS.get(func.id), (), func.id
            if entry is None:
                raise DiagramCodeError(f"la función «{func.id}» no está permitida")
            deep = func.id in DEEP_FUNCTIONS
        elif isinstance(func, ast.Attribute):
            value = self.value_of(func.value)
            kind = type(value)
            entry, target, label = METHODS.get(kind, {}).get(func.attr), (value,), func.attr
            if entry is None:
                raise DiagramCodeError(f"un valor de tipo «{type_name(value)}» no tiene el método «{func.attr}»")
            if self.readonly and func.attr in MUTATING_METHODS.get(kind, ()):
                raise DiagramCodeError(f"una expresión no puede modificar datos («{func.attr}»); use una tarea de "
                                       "script")
            deep = func.attr in DEEP_METHODS.get(kind, ())
            if deep and kind in (list, tuple):
                self.deep(value)
        else:
            raise DiagramCodeError("solo se pueden llamar funciones y métodos permitidos por su nombre")
        args = [self.value_of(a) for a in node.args]
        kwargs = {k.arg: self.value_of(k.value) for k in node.keywords}
        if deep:
            self.deep(*args, *kwargs.values())
        if label in HASHING_CALLS:
            self._check_hashing(label, target, args)
        if target and type(target[0]) in (str, list, tuple, dict, set):
            self.charge(len(target[0]))
        return self.call(entry, label, target, args, kwargs)

    def call(self, entry: Entry, label, target, args, kwargs):
        if not entry.min_args <= len(args) <= entry.max_args:
            raise DiagramCodeError(f"«{label}» no admite {len(args)} argumentos")
        unknown = set(kwargs) - entry.keywords if "*" not in entry.keywords else set()
        if unknown:
            raise DiagramCodeError(f"«{label}» no admite el argumento «{sorted(unknown)[0]}»")
        try:
            result = entry.func(self, *target, *args, **kwargs)
        except DiagramCodeError:
            raise
        except Exception as exc:
            raise DiagramCodeError(f"{label}(): {describe(exc)}") from None
        return self.produced(result)

    def e_Attribute(self, node):
        value = self.value_of(node.value)
        if node.attr not in ATTRIBUTES.get(type(value), ()):
            raise DiagramCodeError(f"un valor de tipo «{type_name(value)}» no tiene el atributo «{node.attr}»")
        return getattr(value, node.attr)

    def e_Subscript(self, node):
        container = self.value_of(node.value)
        if type(container) not in (list, tuple, str, dict):
            raise DiagramCodeError(f"un valor de tipo «{type_name(container)}» no admite [ ]")
        key = self.hashed(self.value_of(node.slice))
        item = container[key]
        if type(item) not in PLAIN_TYPES:
            raise DiagramCodeError("el dato no es un valor simple")
        return self.produced(item) if type(key) is slice else item

    def e_Slice(self, node):
        parts = [None if p is None else self.value_of(p) for p in (node.lower, node.upper, node.step)]
        if not all(p is None or type(p) in (int, bool) for p in parts):
            raise DiagramCodeError("los índices deben ser números enteros")
        return slice(*parts)

    def e_List(self, node):
        return self.produced([self.value_of(e) for e in self._elements(node.elts)])

    def e_Tuple(self, node):
        return self.produced(tuple(self.value_of(e) for e in self._elements(node.elts)))

    def e_Set(self, node):
        return self.produced({self.hashed(self.value_of(e)) for e in self._elements(node.elts)})

    def hashed(self, value):
        """A value about to be hashed (set element, dictionary key): a tuple is hashed all the way down, and
        integers that share a hash (2**61 - 1 apart) would make building a set quadratic: refused."""
        kind = type(value)
        if kind is tuple:
            self.need_deep(value)
            for item in value:
                self.hashed(item)
        elif (kind is int or kind is float) and abs(value) >= HASH_MODULUS:
            raise DiagramCodeError("un número tan grande no puede ser clave de un diccionario ni estar en un conjunto")
        return value

    def _check_hashing(self, label, target, args):
        """The values a call is about to hash (set elements, dictionary keys) go through hashed() first."""
        kind = type(target[0]) if target else None
        if not args:
            return
        if kind is None and label == "set" or kind is set and label not in ("add", "discard", "remove"):
            for arg in args:
                self.hashed_all(arg)
        elif kind is None and label == "dict" or kind is dict and label == "update":
            source = args[0]
            self.hashed_all(list(source) if type(source) is dict else
                            [p[0] for p in source if type(p) in (list, tuple) and p] if type(source) is list else [])
        elif kind in (set, dict):
            self.hashed(args[0])

    def hashed_all(self, values):
        if type(values) in (list, tuple, set, dict):
            for item in values:
                self.tick()
                self.hashed(item)

    def e_Dict(self, node):
        if any(k is None for k in node.keys):
            raise DiagramCodeError("no se admite ** en un diccionario")
        return self.produced({self.hashed(self.value_of(k)): self.value_of(v)
                              for k, v in zip(node.keys, node.values, strict=True)})

    @staticmethod
    def _elements(elts):
        if any(isinstance(e, ast.Starred) for e in elts):
            raise DiagramCodeError("no se admite * dentro de una lista")
        return elts

    def e_ListComp(self, node):
        out = []
        self._comprehension(node.generators, lambda: out.append(self.value_of(node.elt)), out)
        return self.produced(out)

    e_GeneratorExp = e_ListComp

    def e_SetComp(self, node):
        out = set()
        self._comprehension(node.generators, lambda: out.add(self.hashed(self.value_of(node.elt))), out)
        return self.produced(out)

    def e_DictComp(self, node):
        out = {}
        def emit():
            out[self.hashed(self.value_of(node.key))] = self.value_of(node.value)
        self._comprehension(node.generators, emit, out)
        return self.produced(out)

    def _comprehension(self, generators, emit, out):
        self.frames.append({})
        try:
            self._generate(generators, 0, emit, out)
        finally:
            self.frames.pop()

    def _generate(self, generators, index, emit, out):
        if index == len(generators):
            self.need(16)
            if 8 * len(out) > self.limits.max_size:
                self.need(8 * len(out))
            emit()
            return
        generator = generators[index]
        if generator.is_async:
            raise DiagramCodeError("no se admiten comprensiones asíncronas")
        for item in self.iterate(self.value_of(generator.iter)):
            self.assign(generator.target, item)
            if all(self.value_of(condition) for condition in generator.ifs):
                self._generate(generators, index + 1, emit, out)

    def iterate(self, value):
        if type(value) not in (list, tuple, str, dict, set):
            raise DiagramCodeError(f"un valor de tipo «{type_name(value)}» no se puede recorrer")
        for item in list(value):
            self.tick()
            if type(item) not in PLAIN_TYPES:
                raise DiagramCodeError("los datos contienen un valor que no es simple")
            yield item

    def e_JoinedStr(self, node):
        parts = [self.value_of(v) if isinstance(v, ast.FormattedValue) else self.e_Constant(v) for v in node.values]
        self.need(sum(len(p) for p in parts))
        return "".join(parts)

    def e_FormattedValue(self, node):
        value = self.value_of(node.value)
        spec = "" if node.format_spec is None else self.value_of(node.format_spec)
        if node.conversion in (ord("r"), ord("a")):
            self.need_deep(value)
            value = repr(value) if node.conversion == ord("r") else ascii(value)
        elif node.conversion == ord("s"):
            self.need_deep(value)
            value = str(value)
        self._check_spec(value, spec)
        self.need_deep(value)
        try:
            return format(value, spec)
        except (TypeError, ValueError) as exc:
            raise DiagramCodeError(f"formato «{spec[:20]}» no válido: {describe(exc)}") from None

    @staticmethod
    def _check_spec(value, spec):
        if type(value) in (date, datetime):
            if len(spec) > 100:
                raise DiagramCodeError("el formato de fecha admite hasta 100 caracteres")
            return
        match = FORMAT_SPEC.fullmatch(spec)
        if match is None:
            raise DiagramCodeError(f"el formato «{spec[:20]}» no está permitido")
        if (match.group(1) and int(match.group(1)) > MAX_WIDTH) or \
                (match.group(2) and int(match.group(2)) > MAX_PRECISION):
            raise BudgetExceeded(f"el formato admite un ancho de hasta {MAX_WIDTH} caracteres")

    # -- statements ------------------------------------------------------------------------------------------
    def s_Expr(self, node):
        self.value_of(node.value)

    def s_Pass(self, node):
        pass

    def s_Break(self, node):
        raise _Break

    def s_Continue(self, node):
        raise _Continue

    def s_Assign(self, node):
        value = self.value_of(node.value)
        for target in node.targets:
            self.assign(target, value)

    def s_AugAssign(self, node):
        current = self.value_of(_as_load(node.target))
        self.assign(node.target, self.binary(type(node.op), current, self.value_of(node.value)))

    def assign(self, target, value):
        if isinstance(target, ast.Name):
            self.store(target.id, value)
        elif isinstance(target, ast.Subscript):
            container, key = self.value_of(target.value), self.hashed(self.value_of(target.slice))
            if type(container) not in (list, dict):
                raise DiagramCodeError(f"un valor de tipo «{type_name(container)}» no admite asignar con [ ]")
            if type(key) is slice:
                raise DiagramCodeError("no se admite asignar a un rango de una lista")
            if type(container) is dict:
                self.fits(16 * (len(container) + 1), 16)
            container[key] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            if type(value) not in (list, tuple) or len(value) != len(target.elts):
                raise DiagramCodeError(f"se esperaban {len(target.elts)} valores para repartir")
            for element, item in zip(target.elts, value, strict=True):
                self.assign(element, item)
        else:
            raise DiagramCodeError("solo se puede asignar a nombres, elementos de listas o claves de diccionarios")

    def s_Delete(self, node):
        for target in node.targets:
            if isinstance(target, ast.Name):
                if target.id not in self.data:
                    raise DiagramCodeError(f"el dato «{target.id}» no está definido")
                del self.data[target.id]
                self.assigned.discard(target.id)
            elif isinstance(target, ast.Subscript):
                container = self.value_of(target.value)
                if type(container) not in (list, dict):
                    raise DiagramCodeError("solo se pueden borrar elementos de listas o diccionarios")
                del container[self.hashed(self.value_of(target.slice))]
            else:
                raise DiagramCodeError("solo se pueden borrar datos y elementos")

    def s_If(self, node):
        self.exec_block(node.body if self.value_of(node.test) else node.orelse)

    def s_For(self, node):
        for item in self.iterate(self.value_of(node.iter)):
            self.assign(node.target, item)
            if not self._turn(node.body):
                return
        self.exec_block(node.orelse)

    def s_While(self, node):
        while self.value_of(node.test):
            if not self._turn(node.body):
                return
        self.exec_block(node.orelse)

    def _turn(self, body) -> bool:
        """One turn of a loop's body; False when it ended the loop with break."""
        try:
            self.exec_block(body)
        except _Break:
            return False
        except _Continue:
            pass
        return True

    # -- results ---------------------------------------------------------------------------------------------
    def check_storable(self, name, value):
        """A value a script leaves in the task data: JSON-like, bounded in size and depth."""
        total, todo = 0, [(value, 1)]
        while todo:
            item, depth = todo.pop()
            kind = type(item)
            if kind not in STORABLE_TYPES:
                raise DiagramCodeError(f"«{name}»: un valor de tipo «{type_name(item)}» no se puede guardar en los "
                                       "datos del caso (use list(), str() o float())")
            if depth > self.limits.max_depth:
                raise BudgetExceeded(f"«{name}» tiene más de {self.limits.max_depth} niveles de anidación")
            if kind is float and not math.isfinite(item):
                raise DiagramCodeError(f"«{name}»: los números infinitos o NaN no se pueden guardar")
            if kind is dict:
                if not all(type(k) is str for k in item):
                    raise DiagramCodeError(f"«{name}»: las claves de un diccionario guardado deben ser textos")
                todo.extend((v, depth + 1) for v in item.values())
                total += 16 * len(item) + sum(len(k) for k in item)
            elif kind in (list, tuple):
                todo.extend((v, depth + 1) for v in item)
                total += 8 * len(item)
            else:
                total += len(item) if kind is str else 8
            if total > self.limits.max_size:
                raise BudgetExceeded(f"«{name}» ocuparía más de {self.limits.max_size:,} bytes".replace(",", "."))


def _percent_specs(fmt):
    """(width, precision) of every % conversion, parsed as Python does (a mapping key may nest parentheses)."""
    position = fmt.find("%")
    while position >= 0:
        position += 1
        if position < len(fmt) and fmt[position] == "(":
            depth, position = 1, position + 1
            while depth and position < len(fmt):
                depth += {"(": 1, ")": -1}.get(fmt[position], 0)
                position += 1
        match = PERCENT_FLAGS.match(fmt, position)
        yield match.group(1), match.group(2)
        position = match.end() + 1  # past the conversion character (or "%%")
        position = fmt.find("%", position)


def _as_load(target):
    if isinstance(target, ast.Name):
        return ast.Name(id=target.id, ctx=ast.Load())
    if isinstance(target, ast.Subscript):
        return ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load())
    raise DiagramCodeError("solo se puede usar += con nombres o elementos")


def run_expression(tree: ast.Expression, data: dict, external: dict | None, limits: Limits):
    run = Run(limits, data, external, readonly=True)
    try:
        value = run.value_of(tree.body)
        run.need_deep(value)
        return value
    except DiagramCodeError:
        raise
    except (_Break, _Continue):
        raise DiagramCodeError("break y continue solo pueden usarse dentro de un bucle") from None
    except Exception as exc:
        raise DiagramCodeError(describe(exc), run.line) from None


def run_script(tree: ast.Module, data: dict, external: dict | None, limits: Limits) -> set[str]:
    """Run a script on `data` (task data, changed in place); returns the names it assigned."""
    run = Run(limits, data, external)
    try:
        run.exec_block(tree.body)
        run.line = None  # what is left in the data is not one line's doing
        for name, value in data.items():  # assigned, or changed in place through a method
            if name in run.assigned or type(value) in (list, dict, tuple, set):
                run.check_storable(name, value)
        return run.assigned
    except DiagramCodeError as exc:
        if exc.line is None and run.line is not None and not exc.message.startswith("línea"):
            raise type(exc)(exc.message, run.line) from None
        raise
    except (_Break, _Continue):
        raise DiagramCodeError("break y continue solo pueden usarse dentro de un bucle", run.line) from None
    except Exception as exc:
        raise DiagramCodeError(describe(exc), run.line) from None


# re-exported for the checker's constant folding and for tests
__all__ = ["Run", "run_expression", "run_script", "NUMBERS", "BINARY", "COMPARE", "UNARY"]
