"""Domain actions that forms bind to by name ("x-siproc-action" in the form's JSON Schema)."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass
class ActionContext:
    """What a domain action may use: who acts, on which instance and task, and when."""

    user: Any
    instance: Any
    human_task: Any
    now: datetime


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


def action_names() -> set[str]:
    return set(_ACTIONS)
