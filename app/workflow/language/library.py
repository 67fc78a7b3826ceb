"""What diagram code may call: the listed functions, helpers and methods of plain values, nothing else.

Every entry is a function of (run, *args) written here, so no Python object other than plain data ever
reaches diagram code: methods are looked up in these tables by the value's exact type, never through
getattr, and each entry checks the size of what it is about to build before building it.
"""
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...core import clock
from .limits import DiagramCodeError

NUMBERS = (bool, int, float, Decimal)
SEQUENCES = (list, tuple, str)
ITERABLES = (list, tuple, str, dict, set)
TYPE_NAMES = {
    type(None): "nulo", bool: "lógico", int: "entero", float: "decimal", Decimal: "decimal", str: "texto",
    date: "fecha", datetime: "fecha y hora", timedelta: "duración", list: "lista", dict: "diccionario",
    tuple: "tupla", set: "conjunto",
}
PLAIN_TYPES = frozenset(TYPE_NAMES)


class Entry:
    """A callable of the language: the function, the keyword arguments it accepts, and its arity."""

    __slots__ = ("func", "keywords", "min_args", "max_args")

    def __init__(self, func, min_args=0, max_args=0, keywords=()):
        self.func, self.min_args, self.max_args, self.keywords = func, min_args, max_args, frozenset(keywords)


def type_name(value) -> str:
    return TYPE_NAMES.get(type(value), "valor no permitido")


def _iterable(value):
    if type(value) not in ITERABLES:
        raise DiagramCodeError(f"un valor de tipo «{type_name(value)}» no se puede recorrer")
    return value


def _items(run, value):
    _iterable(value)
    run.need(8 * len(value))
    return list(value)


# -- functions ------------------------------------------------------------------------------------------------

def _range(run, *args):
    if not all(type(a) in (int, bool) for a in args):
        raise DiagramCodeError("range() solo admite números enteros")
    span = range(*args)
    run.need(8 * len(span))
    return list(span)


def _str(run, value=""):
    run.need_deep(value)
    return str(value)


def _int(run, value=0, *base):
    if type(value) is str:
        run.need(len(value))
    return int(value, *base)


def _sum(run, values, start=0):
    values = _items(run, values)
    if not all(type(v) in NUMBERS for v in [*values, start]):
        raise DiagramCodeError("sum() solo suma números")
    return sum(values, start)


def _min_max(builtin):
    def call(run, *args, **kw):
        values = _items(run, args[0]) if len(args) == 1 else list(args)
        return builtin(values, **kw)
    return call


def _sorted(run, values, reverse=False):
    return sorted(_items(run, values), reverse=bool(reverse))


def _zip(run, *iterables):
    lists = [_items(run, i) for i in iterables]
    run.need(8 * len(lists) * min((len(x) for x in lists), default=0))
    return [tuple(group) for group in zip(*lists, strict=False)]


def _enumerate(run, values, start=0):
    values = _items(run, values)
    run.need(24 * len(values))
    return [(start + i, v) for i, v in enumerate(values)]


def _dict(run, value=None, **kw):
    if value is None:
        return dict(kw)
    if type(value) is dict:
        return {**value, **kw}
    return {**dict(_items(run, value)), **kw}


def _round(run, value, digits=None):
    if digits is not None and (type(digits) is not int or abs(digits) > 100):
        raise DiagramCodeError("round() admite como máximo 100 decimales")
    return round(value, digits) if digits is not None else round(value)


def _as_date(value):
    if type(value) is date:
        return value
    if type(value) is datetime:
        return value.date()
    if type(value) is str:
        try:
            return datetime.fromisoformat(value).date()
        except ValueError as exc:
            raise DiagramCodeError(f"«{value[:40]}» no es una fecha ISO 8601 (AAAA-MM-DD)") from exc
    raise DiagramCodeError("se esperaba una fecha")


def _hoy(run):
    return clock.now().date().isoformat()


def _ahora(run):
    return clock.now().isoformat()


def _dias_entre(run, start, end):
    return (_as_date(end) - _as_date(start)).days


def _sumar_horas(run, start, hours):
    if type(start) is not str and type(start) is not datetime:
        raise DiagramCodeError("sumar_horas() espera una fecha y hora ISO 8601 y un número de horas")
    if type(hours) not in NUMBERS:
        raise DiagramCodeError("sumar_horas() espera un número de horas")
    try:
        moment = start if type(start) is datetime else datetime.fromisoformat(start)
    except ValueError as exc:
        raise DiagramCodeError(f"«{start[:40]}» no es una fecha y hora ISO 8601") from exc
    return (moment + timedelta(hours=float(hours))).isoformat()


def _sumar_dias(run, start, days):
    if type(days) not in (int, bool):
        raise DiagramCodeError("sumar_dias() espera un número entero de días")
    return (_as_date(start) + timedelta(days=days)).isoformat()


ZONE_NAME = re.compile(r"[A-Za-z]+(?:/[A-Za-z0-9_+-]+){0,2}")


def _instante_local(run, day, zone, hour=9):
    """The ISO 8601 instant (with its UTC offset) of a calendar day at a whole hour in a time zone: the
    follow-up reminder of a typed date fires at 9:00 in the office's zone."""
    if type(zone) is not str or not ZONE_NAME.fullmatch(zone):
        raise DiagramCodeError("instante_local() espera una zona horaria como «America/Mexico_City»")
    if type(hour) is not int or not 0 <= hour <= 23:
        raise DiagramCodeError("instante_local() espera una hora entera entre 0 y 23")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DiagramCodeError(f"la zona horaria «{zone[:40]}» no existe") from exc
    return datetime.combine(_as_date(day), time(hour), tzinfo=tz).isoformat()


# -- SpiffArena's script helpers (the run's user, process and office time zone; app/workflow/actions.run_context) --
# A user is given as {"username", "full_name", "role", "office"}: who acts and where, nothing to reach them by
# (no e-mail, no phone), so a script cannot copy contact data into the case or a notice.
_datetime_cls = datetime  # _get_localtime's argument is called datetime, as in SpiffArena
CONTEXT_HELPERS = frozenset({"get_current_user", "get_process_initiator_user", "get_current_date", "get_localtime",
                             "get_toplevel_process_info"})


def _context():
    from ..actions import run_context

    return run_context()


def _user_dict(user_id):
    from ...auth.models import User
    from ...extensions import db

    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        return None
    office = user.office
    return {"username": user.username, "full_name": user.full_name, "role": user.role,
            "office": office.code if office is not None else None}


def _get_current_user(run):
    """The user whose action runs the process now (completing a task, opening the case); None for the scheduler."""
    context = _context()
    return _user_dict(context.user_id) if context is not None else None


def _get_process_initiator_user(run):
    """The user who opened the case's process (started the instance)."""
    context = _context()
    if context is None:
        return None
    instance = context.instance
    return _user_dict(getattr(instance, "started_by_id", None) if instance is not None else context.user_id)


def _office_zone() -> ZoneInfo:
    from ...extensions import db
    from ...reference.models import Office

    context = _context()
    office = db.session.get(Office, context.office_id) if context is not None and context.office_id else None
    try:
        return ZoneInfo(office.timezone) if office is not None and office.timezone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _zone(name) -> ZoneInfo:
    if name is None:
        return _office_zone()
    if type(name) is not str or not ZONE_NAME.fullmatch(name):
        raise DiagramCodeError("get_localtime() espera una zona horaria como «America/Mexico_City»")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DiagramCodeError(f"la zona horaria «{name[:40]}» no existe") from exc


def _get_current_date(run):
    """Today's date (AAAA-MM-DD) in the time zone of the case's office (hoy() is the UTC date)."""
    return clock.now().astimezone(_office_zone()).date().isoformat()


def _get_localtime(run, datetime=None, timezone=None):
    """An instant (now by default) as ISO 8601 text in a time zone (the office's by default); the argument
    names are SpiffArena's."""
    moment = clock.now() if datetime is None else datetime
    if type(moment) is str:
        try:
            moment = _datetime_cls.fromisoformat(moment)
        except ValueError as exc:
            raise DiagramCodeError(f"«{moment[:40]}» no es una fecha y hora ISO 8601") from exc
    if type(moment) is not _datetime_cls:
        raise DiagramCodeError("get_localtime() espera una fecha y hora ISO 8601")
    moment = clock.as_utc(moment)  # a moment without offset is UTC, as everything SIPROC stores
    try:
        return moment.astimezone(_zone(timezone)).isoformat()
    except (OverflowError, ValueError) as exc:
        raise DiagramCodeError("get_localtime(): la fecha está fuera del calendario admitido") from exc


def _get_toplevel_process_info(run):
    """{"process_instance_id", "process_model_identifier"} of the running instance (None before it is stored)."""
    context = _context()
    instance = context.instance if context is not None else None
    if instance is None:
        return None
    version = getattr(instance, "process_version", None)
    return {"process_instance_id": instance.id,
            "process_model_identifier": version.process_key if version is not None else None}



def _plain(builtin):
    return lambda run, *args: builtin(*args)


FUNCTIONS = {
    "abs": Entry(_plain(abs), 1, 1),
    "all": Entry(lambda run, v: all(_iterable(v)), 1, 1),
    "any": Entry(lambda run, v: any(_iterable(v)), 1, 1),
    "bool": Entry(_plain(bool), 0, 1),
    "dict": Entry(_dict, 0, 1, keywords=("*",)),
    "divmod": Entry(_plain(divmod), 2, 2),
    "enumerate": Entry(_enumerate, 1, 2),
    "float": Entry(_plain(float), 0, 1),
    "int": Entry(_int, 0, 2),
    "len": Entry(lambda run, v: len(_iterable(v)), 1, 1),
    "list": Entry(lambda run, v=(): _items(run, v), 0, 1),
    "max": Entry(_min_max(max), 1, 64, keywords=("default",)),
    "min": Entry(_min_max(min), 1, 64, keywords=("default",)),
    "range": Entry(_range, 1, 3),
    "reversed": Entry(lambda run, v: _items(run, v)[::-1], 1, 1),
    "round": Entry(_round, 1, 2),
    "set": Entry(lambda run, v=(): set(_items(run, v)), 0, 1),
    "sorted": Entry(_sorted, 1, 1, keywords=("reverse",)),
    "str": Entry(_str, 0, 1),
    "sum": Entry(_sum, 1, 2),
    "tuple": Entry(lambda run, v=(): tuple(_items(run, v)), 0, 1),
    "zip": Entry(_zip, 0, 8),
    # the project's helpers, documented in the README
    "hoy": Entry(_hoy),
    "ahora": Entry(_ahora),
    "dias_entre": Entry(_dias_entre, 2, 2),
    "sumar_horas": Entry(_sumar_horas, 2, 2),
    "sumar_dias": Entry(_sumar_dias, 2, 2),
    "instante_local": Entry(_instante_local, 2, 3),
    # SpiffArena's script helpers
    "get_current_user": Entry(_get_current_user),
    "get_process_initiator_user": Entry(_get_process_initiator_user),
    "get_current_date": Entry(_get_current_date),
    "get_localtime": Entry(_get_localtime, 0, 2, keywords=("datetime", "timezone")),
    "get_toplevel_process_info": Entry(_get_toplevel_process_info),
}


# -- methods of plain values ---------------------------------------------------------------------------------

def _replace(run, text, old, new, count=-1):
    if type(old) is not str or type(new) is not str:
        raise DiagramCodeError("replace() espera textos")
    hits = text.count(old) if old else len(text) + 1
    hits = hits if count < 0 else min(hits, count)
    run.need(len(text) + hits * max(0, len(new) - len(old)))
    return text.replace(old, new, count)


def _pad(name):
    def pad(run, text, width, *fill):
        if type(width) not in (int, bool):
            raise DiagramCodeError(f"{name}() espera un ancho entero")
        run.need(width)
        return getattr(str, name)(text, width, *fill)
    return pad


def _join(run, sep, values):
    values = _items(run, values)
    if not all(type(v) is str for v in values):
        raise DiagramCodeError("join() solo une textos")
    run.need(sum(len(v) for v in values) + len(sep) * len(values))
    return sep.join(values)


def _split(name):
    def split(run, text, sep=None, maxsplit=-1):
        if sep is not None and (type(sep) is not str or not sep):
            raise DiagramCodeError(f"{name}() espera un separador de texto no vacío")
        run.need(8 * ((text.count(sep) if sep else len(text) // 2) + 1))
        return getattr(str, name)(text, sep, maxsplit)
    return split


def _strftime(run, value, fmt):
    if type(fmt) is not str or len(fmt) > 100:
        raise DiagramCodeError("strftime() espera un formato de hasta 100 caracteres")
    return value.strftime(fmt)


def _extend(run, items, more):
    more = _items(run, more)
    run.fits(8 * (len(items) + len(more)), 8 * len(more))
    items.extend(more)


def _grow(method):
    def grow(run, container, *args):
        run.fits(8 * (len(container) + 1), 8)
        return getattr(type(container), method)(container, *args)
    return grow


def _update(run, container, other):
    other = other if type(other) in (dict, set) else _items(run, other)
    run.fits(16 * (len(container) + len(other)), 16 * len(other))
    container.update(other)


def _method(name, min_args=0, max_args=0, keywords=()):
    """A method of a built-in type, called as type.method(value, *args) (never looked up on the value)."""
    def call(run, value, *args, **kw):
        return getattr(type(value), name)(value, *args, **kw)
    return Entry(call, min_args, max_args, keywords)


def _methods(names, min_args=0, max_args=0):
    return {name: _method(name, min_args, max_args) for name in names}


def _sort(run, items, reverse=False):
    items.sort(reverse=bool(reverse))


STR_METHODS = {
    **_methods(("lower", "upper", "title", "capitalize", "casefold", "swapcase", "isdigit", "isdecimal",
                "isnumeric", "isalpha", "isalnum", "isspace", "islower", "isupper", "splitlines")),
    **_methods(("strip", "lstrip", "rstrip"), 0, 1),
    **_methods(("startswith", "endswith", "find", "rfind", "index", "rindex", "count"), 1, 3),
    **_methods(("partition", "rpartition", "removeprefix", "removesuffix"), 1, 1),
    "replace": Entry(_replace, 2, 3),
    "join": Entry(_join, 1, 1),
    "split": Entry(_split("split"), 0, 2, keywords=("sep", "maxsplit")),
    "rsplit": Entry(_split("rsplit"), 0, 2, keywords=("sep", "maxsplit")),
    "ljust": Entry(_pad("ljust"), 1, 2),
    "rjust": Entry(_pad("rjust"), 1, 2),
    "center": Entry(_pad("center"), 1, 2),
    "zfill": Entry(_pad("zfill"), 1, 1),
}
LIST_METHODS = {
    "append": Entry(_grow("append"), 1, 1),
    "insert": Entry(_grow("insert"), 2, 2),
    "extend": Entry(_extend, 1, 1),
    "sort": Entry(_sort, 0, 0, keywords=("reverse",)),
    **_methods(("pop",), 0, 1),
    **_methods(("remove", "count"), 1, 1),
    **_methods(("index",), 1, 3),
    **_methods(("reverse", "copy", "clear")),
}
DICT_METHODS = {
    "keys": Entry(lambda run, d: list(d.keys())),
    "values": Entry(lambda run, d: list(d.values())),
    "items": Entry(lambda run, d: (run.need(24 * len(d)), [tuple(i) for i in d.items()])[1]),
    "update": Entry(_update, 1, 1),
    "setdefault": Entry(_grow("setdefault"), 1, 2),
    **_methods(("get", "pop"), 1, 2),
    **_methods(("copy", "clear")),
}
SET_METHODS = {
    "add": Entry(_grow("add"), 1, 1),
    "update": Entry(_update, 1, 1),
    **_methods(("discard", "remove", "issubset", "issuperset", "isdisjoint"), 1, 1),
    **{name: Entry(lambda run, s, other, _n=name: getattr(set, _n)(s, _items(run, other)), 1, 1)
       for name in ("union", "intersection", "difference", "symmetric_difference")},
    **_methods(("pop", "copy", "clear")),
}
TUPLE_METHODS = {**_methods(("count",), 1, 1), **_methods(("index",), 1, 3)}
DATE_METHODS = {**_methods(("isoformat", "weekday", "isoweekday")), "strftime": Entry(_strftime, 1, 1)}
DATETIME_METHODS = {**DATE_METHODS, "date": _method("date")}
TIMEDELTA_METHODS = _methods(("total_seconds",))

METHODS = {
    str: STR_METHODS, list: LIST_METHODS, dict: DICT_METHODS, set: SET_METHODS, tuple: TUPLE_METHODS,
    date: DATE_METHODS, datetime: DATETIME_METHODS, timedelta: TIMEDELTA_METHODS,
}
ATTRIBUTES = {
    date: frozenset({"year", "month", "day"}),
    datetime: frozenset({"year", "month", "day", "hour", "minute", "second"}),
    timedelta: frozenset({"days", "seconds"}),
}
METHOD_NAMES = frozenset(name for table in METHODS.values() for name in table)
ATTRIBUTE_NAMES = frozenset(name for names in ATTRIBUTES.values() for name in names)

# Calls that walk into their container arguments (comparisons, hashing, sorting): the interpreter measures
# those arguments deeply first, so a list holding the same big list 100,000 times cannot cost 10^10 steps.
DEEP_FUNCTIONS = frozenset({"sorted", "set", "min", "max", "dict", "sum"})
DEEP_METHODS = {
    list: frozenset({"sort", "count", "index", "remove"}), tuple: frozenset({"count", "index"}),
    dict: frozenset({"get", "pop", "setdefault", "update"}), set: frozenset(SET_METHODS),
}
MUTATING_METHODS = {
    list: frozenset({"append", "insert", "extend", "sort", "pop", "remove", "reverse", "clear"}),
    dict: frozenset({"update", "setdefault", "pop", "clear"}),
    set: frozenset({"add", "update", "discard", "remove", "pop", "clear"}),
}
