"""SpiffWorkflow's script engine, backed by the diagram-language interpreter (app/workflow/language).

Diagrams are untrusted input. Every expression and script SpiffWorkflow asks for (gateway conditions,
scripts, pre/post scripts, timers, multi-instance and loop expressions, deadlines) is checked against the
allowlist and then interpreted within the run-time budgets; none of it reaches Python's eval or exec.
"""
import json
import logging
import time

from flask_babel import gettext as _
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from ..core.errors import DomainError
from .actions import ServiceError, run_operation
from .language.checker import check, parsed
from .language.interpreter import run_expression, run_script
from .language.limits import BudgetExceeded, DiagramCodeError, current_limits, current_run

RestrictedCodeError = DiagramCodeError  # the name earlier code and tests use
__all__ = ["BudgetExceeded", "DiagramCodeError", "RestrictedCodeError", "RestrictedEnvironment", "check_source",
           "script_engine"]
log = logging.getLogger(__name__)


def check_source(source, mode: str = "eval") -> list[str]:
    """Problems found in a piece of diagram code (empty when it may run). mode: 'eval' or 'exec'."""
    return check(source, mode)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates with the interpreter; task data in, task data out; no globals, no Python objects."""

    def __init__(self):
        super().__init__({})

    def evaluate(self, expression, context, external_context=None):
        limits = current_limits()
        return run_expression(parsed(expression, "eval", limits), context, external_context, limits)

    def execute(self, script, context, external_context=None):
        limits = current_limits()
        run_script(parsed(script, "exec", limits), context, external_context, limits)
        return True

    def call_service(self, context, **kwargs):
        raise DiagramCodeError("las tareas de servicio no se pueden ejecutar en SIPROC")


class DiagramScriptEngine(PythonScriptEngine):
    """Reports the interpreter's refusals as task errors with their Spanish message, naming the element."""

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except DiagramCodeError as exc:
            raise _task_error(task, exc) from exc

    def execute(self, task, script, external_context=None):
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except DiagramCodeError as exc:
            raise _task_error(task, exc) from exc

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        """Run an allowlisted SIPROC connector with its parameters (already evaluated by the interpreter), each
        checked against its declared kind; a refusal or failure of the connector is a task error in Spanish."""
        params = {name: value.get("value") for name, value in (operation_params or {}).items()}
        run, started = current_run(), time.perf_counter()
        try:
            result = run_operation(operation_name or "", params, task.data)
        except DiagramCodeError as exc:
            raise _task_error(task, exc) from exc
        except (ServiceError, DomainError) as exc:
            raise _task_error(task, DiagramCodeError(exc.message)) from exc
        except Exception as exc:  # a connector's own failure: the officer gets a task error, never a 500
            log.exception("service task %s (%s) failed", getattr(task.task_spec, "bpmn_id", "?"), operation_name)
            raise _task_error(task, DiagramCodeError(_(
                "el conector «%(c)s» falló; avise a la persona responsable de los procesos", c=operation_name))) \
                from exc
        finally:
            # the project's own code (a referral's letter, say) does not spend the diagram code's run budget
            if run is not None:
                run.deadline += time.perf_counter() - started
        return json.dumps(result, default=str)


def _task_error(task, exc: DiagramCodeError) -> WorkflowTaskException:
    error = WorkflowTaskException(exc.message, task=task, exception=exc)
    error.diagram_message = exc.message
    return error


def script_engine() -> PythonScriptEngine:
    return DiagramScriptEngine(environment=RestrictedEnvironment())
