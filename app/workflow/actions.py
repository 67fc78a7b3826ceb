"""Domain actions that forms bind to by name ("x-siproc-action" in the form's JSON Schema).

The registry lives here, below the domains: a domain registers its actions (@domain_action in app/cases/actions.py)
and the task page runs the one its form names (app/tasks/services.py); neither imports the other for it."""
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
# A diagram's service task names an operation (SpiffArena's <spiffworkflow:serviceTaskOperator id="...">); only
# operations a domain registered here run: an allowlist, checked at publication and again at run time.
Operation = Callable[[dict, dict], dict]
_OPERATIONS: dict[str, tuple[Operation, str]] = {}


def service_operation(name: str, label: str):
    """Register a function as the operation behind service tasks naming it: (params, task data) -> result."""
    def register(func: Operation) -> Operation:
        _OPERATIONS[name] = (func, label)
        return func
    return register


def get_operation(name: str) -> Operation | None:
    found = _OPERATIONS.get(name)
    return found[0] if found else None


def operations() -> dict[str, str]:
    """Name -> Spanish label of every registered operation (the modeler offers these)."""
    return {name: label for name, (_func, label) in sorted(_OPERATIONS.items())}
