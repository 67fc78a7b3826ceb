"""Domain actions that forms bind to by name ("x-siproc-action" in the form's JSON Schema).

The registry lives here, below the domains: a domain registers its actions (@domain_action in app/cases/actions.py)
and the task page runs the one its form names (app/tasks/services.py); neither imports the other for it."""
import ast
import contextlib
import contextvars
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ActionContext:
    """What a domain action may use: who acts, on which instance and task, when, and what it says.

    task_data is a copy of the workflow data the task sees (ids such as referral_id live there);
    extras are decisions the page adds beside the form (e.g. which existing person to link);
    warnings collects messages to show after a successful save.
    """

    user: Any
    instance: Any
    human_task: Any
    now: datetime
    task_data: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


Action = Callable[[ActionContext, dict], dict]
_ACTIONS: dict[str, Action] = {}


def domain_action(name: str):
    """Register a function as the action behind forms that name it; it returns workflow variables."""
    def register(func: Action) -> Action:
        _ACTIONS[name] = func
        return func
    return register


def get_action(name: str) -> Action | None:
    return _ACTIONS.get(name)


# -- service tasks ------------------------------------------------------------------------------------------
# A diagram's service task names an operation (SpiffArena's <spiffworkflow:serviceTaskOperator id="...">) and
# gives its parameters (<spiffworkflow:parameter id type value>, each value diagram code). Only operations a domain
# registered here run, with the parameters they declared: an allowlist, checked at publication and at run time.
Operation = Callable[[dict, dict], dict]

# kind -> (the SpiffArena parameter type the editor writes, the Spanish name of what the value must be)
PARAM_KINDS = {
    "text": ("str", "un texto"),
    "number": ("int", "un número"),
    "boolean": ("bool", "verdadero o falso (True/False)"),
    "role": ("str", "el código de un rol"),
    "template": ("str", "un texto entre comillas (admite {numero_caso} y {oficina})"),
    "expression": ("any", "un valor calculado con los datos del caso"),
}
MAX_TEXT_PARAM = 2000
TEMPLATE_FIELDS = ("numero_caso", "oficina")
_TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Param:
    """A parameter a connector declares: its id in the diagram, Spanish label, kind, and whether it is required."""

    name: str
    label: str
    kind: str = "text"
    required: bool = True
    help: str = ""

    def __post_init__(self):
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")


@dataclass(frozen=True)
class ServiceOperation:
    name: str
    label: str
    func: Operation
    params: tuple[Param, ...] = ()
    description: str = ""

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


_OPERATIONS: dict[str, ServiceOperation] = {}


def service_operation(name: str, label: str, params=(), description: str = ""):
    """Register a function as the operation behind service tasks naming it: (params, task data) -> result.

    params declares the parameters (Param) the diagram may and must give; the modeler offers them."""
    def register(func: Operation) -> Operation:
        _OPERATIONS[name] = ServiceOperation(name, label, func, tuple(params), description)
        return func
    return register


def get_operation(name: str) -> Operation | None:
    found = _OPERATIONS.get(name)
    return found.func if found else None


def operation_spec(name: str) -> ServiceOperation | None:
    return _OPERATIONS.get(name)


def operations() -> dict[str, str]:
    """Name -> Spanish label of every registered operation (the modeler offers these)."""
    return {name: str(op.label) for name, op in sorted(_OPERATIONS.items())}


def catalogue() -> list[dict]:
    """The connectors as the modeler's panel shows them: id, label, description and declared parameters."""
    return [{"id": op.name, "label": str(op.label), "description": str(op.description),
             "params": [{"id": p.name, "label": str(p.label), "kind": p.kind, "type": PARAM_KINDS[p.kind][0],
                         "required": p.required, "help": str(p.help)} for p in op.params]}
            for _name, op in sorted(_OPERATIONS.items())]


def parameter_problems(name: str, parameters: list[tuple[str | None, str | None]], check) -> list[str]:
    """What publication refuses in a service task naming operation `name` with (id, value) parameters;
    check(source) -> messages is the language checker. Spanish, without the element (the lint adds it)."""
    from flask_babel import gettext as _

    operation = _OPERATIONS.get(name or "")
    if operation is None and not name:
        return [_("la tarea de servicio no indica su conector (elíjalo en el panel: %(a)s)",
                  a=", ".join(_OPERATIONS) or _("ninguno"))]
    if operation is None:
        allowed = ", ".join(_OPERATIONS) or _("ninguna")
        return [_("las tareas de servicio solo pueden usar los conectores de SIPROC (%(a)s); «%(n)s» no es uno de "
                  "ellos", a=allowed, n=name or "")]
    problems, seen = [], set()
    for param_id, value in parameters:
        declared = operation.param(param_id or "")
        if declared is None:
            known = ", ".join(p.name for p in operation.params) or _("ninguno")
            problems.append(_("el conector «%(c)s» no tiene el parámetro «%(p)s» (admite: %(k)s)",
                              c=operation.label, p=param_id or "", k=known))
            continue
        if param_id in seen:
            problems.append(_("el parámetro «%(p)s» está repetido", p=declared.label))
            continue
        seen.add(param_id)
        source = (value or "").strip()
        if not source:
            if declared.required:
                problems.append(_("falta el parámetro «%(p)s» del conector «%(c)s»", p=declared.label,
                                  c=operation.label))
            continue
        messages = check(source)
        if not messages and declared.kind == "template" and not _is_text_literal(source):
            # a template goes into notices and e-mails: written text only, never case data computed into it
            messages = [_("escriba un texto entre comillas; los datos del caso no van en avisos ni correos "
                          "(solo {numero_caso} y {oficina})")]
        problems.extend(_("parámetro «%(p)s»: %(m)s", p=declared.label, m=m) for m in messages)
        if not messages:
            problems.extend(_("parámetro «%(p)s»: %(m)s", p=declared.label, m=m)
                            for m in _literal_problems(declared, source))
    problems.extend(_("falta el parámetro «%(p)s» del conector «%(c)s»", p=p.label, c=operation.label)
                    for p in operation.params if p.required and p.name not in seen and not any(
                        pid == p.name for pid, _v in parameters))
    return problems


def _is_text_literal(source: str) -> bool:
    try:
        return type(ast.literal_eval(source)) is str
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False


def _literal_problems(param: Param, source: str) -> list[str]:
    """A parameter written as a literal is checked against its kind at publication (expressions when they run)."""
    try:
        value = ast.literal_eval(source)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return []
    problem = kind_problem(param, value)
    return [problem] if problem else []


def kind_problem(param: Param, value) -> str | None:
    """Why a parameter's value does not fit its kind (Spanish), or None."""
    from flask_babel import gettext as _

    from ..auth.roles import ROLES

    if value is None:
        return _("el valor está vacío") if param.required else None
    expected = PARAM_KINDS[param.kind][1]
    if param.kind in ("text", "template", "role"):
        if type(value) is not str:
            return _("debe ser %(e)s", e=expected)
        if not value.strip() and param.required:
            return _("el valor está vacío")
        if len(value) > MAX_TEXT_PARAM:
            return _("supera %(n)d caracteres", n=MAX_TEXT_PARAM)
    if param.kind == "role" and value not in ROLES:
        return _("«%(v)s» no es un rol de SIPROC (%(r)s)", v=value[:40], r=", ".join(ROLES))
    if param.kind == "template":
        unknown = [f for f in _TEMPLATE_FIELD.findall(value) if f not in TEMPLATE_FIELDS]
        if unknown:
            return _("la plantilla usa {%(f)s}; solo admite %(k)s", f=unknown[0][:40],
                     k=", ".join("{" + f + "}" for f in TEMPLATE_FIELDS))
    if param.kind == "number" and (type(value) not in (int, float) or value != value):
        return _("debe ser %(e)s", e=expected)
    if param.kind == "boolean" and type(value) is not bool:
        return _("debe ser %(e)s", e=expected)
    return None


def fill_template(text: str, values: dict) -> str:
    """A template parameter with its {campo} placeholders replaced (only TEMPLATE_FIELDS; nothing is evaluated)."""
    return _TEMPLATE_FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


class ServiceError(Exception):
    """A connector refused or failed; `message` is Spanish (the task error shows it)."""

    def __init__(self, message):
        self.message = str(message)
        super().__init__(self.message)


def run_operation(name: str, params: dict, task_data: dict) -> dict:
    """Run a registered operation with its evaluated parameters, each checked against its declared kind;
    ServiceError (Spanish) for an unknown operation or parameter, a missing or mistyped value."""
    from flask_babel import gettext as _

    operation = _OPERATIONS.get(name or "")
    if operation is None:
        raise ServiceError(_("las tareas de servicio no se pueden ejecutar con el conector «%(n)s»: SIPROC solo "
                             "ejecuta sus propios conectores", n=name))
    for param_id in params:
        if operation.param(param_id) is None:
            raise ServiceError(_("el conector «%(c)s» no tiene el parámetro «%(p)s»", c=operation.label,
                                 p=param_id))
    checked = {}
    for param in operation.params:
        value = params.get(param.name)
        if param.name not in params and not param.required:
            continue
        problem = kind_problem(param, value)
        if problem:
            raise ServiceError(_("parámetro «%(p)s» del conector «%(c)s»: %(m)s", p=param.label, c=operation.label,
                                 m=problem))
        checked[param.name] = value
    return operation.func(checked, task_data) or {}


# -- who and what an engine run is for ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RunContext:
    """The instance an engine run advances and the user whose action triggered it (None: scheduler, repairs).

    Set by app/workflow/services around every engine call; connectors act on this instance's case only, and
    the language's get_current_user() reads the user from here."""

    instance: Any = None
    office_id: int | None = None
    user_id: int | None = None

    @property
    def instance_id(self) -> int | None:
        return getattr(self.instance, "id", None)

    @property
    def case_id(self) -> int | None:
        return getattr(self.instance, "case_id", None)


_run_context: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar("siproc_run_context", default=None)


@contextlib.contextmanager
def running(instance=None, *, office_id=None, user_id=None):
    """Everything inside is one engine run for this instance. A nested run of the same instance keeps the outer
    run's user; a nested run of another instance (a connector ending another task) gets its own context."""
    outer = _run_context.get()
    if outer is not None and instance is not None and outer.instance is instance and user_id is None:
        user_id = outer.user_id
    context = RunContext(instance, office_id if office_id is not None else getattr(instance, "office_id", None),
                         user_id)
    token = _run_context.set(context)
    try:
        yield context
    finally:
        _run_context.reset(token)


def run_context() -> RunContext | None:
    return _run_context.get()
