"""Budgets for diagram code, and the Spanish refusals the interpreter raises when code breaks one."""
import contextlib
import contextvars
import time
from dataclasses import dataclass, replace


class DiagramCodeError(Exception):
    """Diagram code was refused: a construct outside the language, a budget exceeded, or a run-time error.

    `message` is Spanish and meant for the person who wrote the diagram (and the officer who met it).
    """

    def __init__(self, message: str, line: int | None = None):
        self.message = f"línea {line}: {message}" if line else message
        self.line = line
        super().__init__(self.message)


class BudgetExceeded(DiagramCodeError):
    """Diagram code used more time, steps, memory or nesting than it is allowed."""


@dataclass(frozen=True)
class Limits:
    """What one evaluation (an expression or a script) may use; configurable (DIAGRAM_CODE_* settings)."""

    seconds: float = 0.05  # wall-clock time of one evaluation
    steps: int = 200_000  # interpreter steps (nodes evaluated, loop turns) of one evaluation
    max_size: int = 1_000_000  # bytes of any single value (text length, 8 bytes per list item, integer bits / 8)
    max_total: int = 16_000_000  # bytes of all values produced by one evaluation
    max_depth: int = 32  # nesting of data values and of the code's syntax tree
    max_int_bits: int = 4096  # integers (1,233 decimal digits)
    run_seconds: float = 1.0  # all diagram code of one engine run (a request or a scheduler job)
    run_tasks: int = 2_000  # engine tasks (gateways, scripts, events) one engine run may complete


DEFAULT_LIMITS = Limits()
_run: contextvars.ContextVar["RunBudget | None"] = contextvars.ContextVar("diagram_run_budget", default=None)


class RunBudget:
    """The budget shared by every evaluation of one engine run, so a loop of cheap steps still ends."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.deadline = time.perf_counter() + limits.run_seconds
        self.tasks = 0

    def task_done(self, name: str):
        self.tasks += 1
        if self.tasks > self.limits.run_tasks:
            raise BudgetExceeded(f"el proceso ejecutó más de {self.limits.run_tasks} pasos automáticos seguidos "
                                 f"(último: «{name}»); revise los bucles del diagrama")
        if time.perf_counter() > self.deadline:
            raise BudgetExceeded(f"el código del diagrama superó {self._ms(self.limits.run_seconds)} ms en total "
                                 f"(último paso: «{name}»)")

    @staticmethod
    def _ms(seconds):
        return int(seconds * 1000)


def current_limits() -> Limits:
    """The limits in force: the engine run's, else the application's configuration, else the defaults."""
    run = _run.get()
    if run is not None:
        return run.limits
    return configured_limits()


def configured_limits() -> Limits:
    try:
        from flask import current_app, has_app_context
    except ImportError:  # pragma: no cover - Flask is always installed
        return DEFAULT_LIMITS
    if not has_app_context():
        return DEFAULT_LIMITS
    config = current_app.config
    return replace(
        DEFAULT_LIMITS,
        seconds=config.get("DIAGRAM_CODE_MS", 50) / 1000,
        max_size=config.get("DIAGRAM_CODE_MAX_BYTES", DEFAULT_LIMITS.max_size),
        max_depth=config.get("DIAGRAM_CODE_MAX_DEPTH", DEFAULT_LIMITS.max_depth),
        run_seconds=config.get("DIAGRAM_RUN_MS", 1000) / 1000,
        run_tasks=config.get("DIAGRAM_RUN_MAX_TASKS", DEFAULT_LIMITS.run_tasks),
    )


def current_run() -> RunBudget | None:
    return _run.get()


@contextlib.contextmanager
def engine_run(limits: Limits | None = None):
    """Every evaluation inside shares one run budget (nested runs keep the outer one)."""
    if _run.get() is not None:
        yield _run.get()
        return
    token = _run.set(RunBudget(limits or configured_limits()))
    try:
        yield _run.get()
    finally:
        _run.reset(token)
