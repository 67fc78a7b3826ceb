"""SpiffWorkflow behind one boundary: parse diagrams, keep specs once per version, run and store state.

Nothing outside app/workflow/ imports SpiffWorkflow. Specs are serialized once per process version
and cached in memory per version id; an instance's stored state is the serializer dict without the
spec, so loading an instance never re-parses or re-reads its diagram.
"""
import functools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from flask_babel import gettext as _
from SpiffWorkflow.bpmn.parser.event_parsers import (
    CONDITIONAL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TIMER_EVENT_XPATH,
)
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.event_parsers import SpiffStartEventParser
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from ..core import clock
from . import messages
from .dmn import guard_specs, used_decisions
from .evaluator import script_engine
from .language.limits import DiagramCodeError, engine_run
from .xmlsafe import UnsafeXML, parse_xml

__all__ = ["DiagramError", "EngineError", "get_engine", "SERIALIZER_VERSION"]


class DiagramError(Exception):
    """A diagram was refused; `problems` lists (file, element id, message)."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(f"{f}: {e + ': ' if e else ''}{m}" for f, e, m in problems))


class EngineError(Exception):
    """Running a workflow failed (a script, condition or timer in the diagram raised)."""


class _ClockDatetime(datetime):
    """datetime whose now() follows app.core.clock, so SpiffWorkflow timers obey the injectable clock."""

    @classmethod
    def now(cls, tz=None):
        current = clock.now()
        return current.astimezone(tz) if tz else current.astimezone().replace(tzinfo=None)


class _StateOnlyConverter(BpmnWorkflowConverter):
    """Serializes a workflow without its spec; restores it around a spec object we already hold."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct, spec, subprocess_specs):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


@dataclass
class UserTaskInfo:
    """What the app needs to know about one user task of a diagram."""

    bpmn_id: str
    name: str
    lane: str | None
    form: str | None
    ui_form: str | None
    instructions: str | None
    case_status: str | None
    deadline: str | None
    approval_of: str | None = None  # the user task this one approves (four eyes: its completer may not approve)
    approval_panel: str | None = None  # what the task page shows of what is approved (app/cases/approval.py)


@dataclass
class ParsedProcess:
    key: str
    name: str
    filename: str
    spec_json: str
    user_tasks: list[UserTaskInfo]
    files: list[str] = field(default_factory=list)  # this file and every file it calls into


@dataclass
class ReadyTask:
    id: str
    info: UserTaskInfo
    data: dict


@dataclass
class FiredTimer:
    """A timer event that fired during an engine run; attached_to is the user task of a boundary timer."""

    bpmn_id: str
    name: str
    attached_to: str | None


@dataclass
class WaitingTimer:
    task_id: str
    name: str
    event_type: str
    due_at: datetime
    bpmn_id: str = ""


def user_task_info(task_spec) -> UserTaskInfo:
    ext = getattr(task_spec, "extensions", None) or {}
    props = ext.get("properties") or {}
    return UserTaskInfo(
        bpmn_id=task_spec.bpmn_id,
        name=task_spec.bpmn_name or task_spec.bpmn_id,
        lane=task_spec.lane,
        form=props.get("formJsonSchemaFilename"),
        ui_form=props.get("formUiSchemaFilename"),
        instructions=ext.get("instructionsForEndUser"),
        case_status=props.get("caseStatus"),
        deadline=props.get("deadline"),
        approval_of=props.get("approvalOf"),
        approval_panel=props.get("approvalPanel"),
    )


class Engine:
    """The process-wide SpiffWorkflow boundary: parser, serializer, spec cache, script engine."""

    def __init__(self):
        self.registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        self.converter = _StateOnlyConverter(BpmnWorkflow, self.registry)
        self._encoder = create_encoder(self.registry)
        self._encode_lock = threading.Lock()
        self._specs: dict[tuple, tuple] = {}
        self._user_tasks: dict[tuple, dict] = {}
        self._spec_lock = threading.Lock()
        self.script_engine = script_engine()

    # -- parsing ---------------------------------------------------------------------------------
    def parse(self, files: dict[str, bytes], decisions: dict[str, str] | None = None) -> list[ParsedProcess]:
        """Parse diagram files together (call activities may cross files) with the DMN decision documents their
        business rule tasks call (name -> XML); refuse any invalid one."""
        parser = _Parser(validator=VALIDATOR)
        problems = []
        for filename, text in used_decisions(files, decisions or {}).items():
            try:
                parser.add_dmn_xml(parse_xml(text, filename).getroot(), filename=filename)
            except UnsafeXML as exc:
                problems.append((filename, None, str(exc).split(": ", 1)[-1]))
            except ValidationException as exc:
                problems.append((filename, messages.validation_element(exc), _validation_message(exc)))
        for filename, data in sorted(files.items()):
            tree = None
            try:
                tree = parse_xml(data, filename)
                parser.add_bpmn_xml(tree, filename=filename)
            except UnsafeXML as exc:
                problems.append((filename, None, str(exc).split(": ", 1)[-1]))
            except ValidationException as exc:  # a schema error knows only its line: the element there, if any
                problems.append((filename, messages.validation_element(exc) or messages.element_at_line(tree, exc),
                                 _validation_message(exc)))
        if problems:
            raise DiagramError(problems)
        return [self._parse_process(parser, key) for key in parser.get_process_ids()]

    def _parse_process(self, parser, key) -> ParsedProcess:
        process_parser = parser.get_process_parser(key)
        filename = process_parser.filename
        try:
            spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key)
        except ValidationException as exc:
            raise DiagramError([(getattr(exc, "file_name", None) or filename, messages.validation_element(exc, parser),
                                 _validation_message(exc))]) from exc
        unheard = [(s.file or filename, name, getattr(subprocess_specs.get(name), "description", None) or name)
                   for s in subprocess_specs.values() for name in s.start.trigger_specs]
        if unheard:  # SpiffWorkflow hears signals, errors and escalations only for the main process's own
            raise DiagramError([(f, i, _("el subproceso de evento «%(n)s» no se iniciaría nunca: está en un proceso "
                                         "llamado o en un subproceso, donde SpiffWorkflow solo lo inicia con un "
                                         "temporizador", n=n)) for f, i, n in unheard])
        spec_json = json.dumps({
            "spec": self.registry.convert(spec),
            "subprocess_specs": {name: self.registry.convert(s) for name, s in subprocess_specs.items()},
            "event_subprocesses": _event_subprocesses(parser, subprocess_specs),
        })
        user_tasks = []
        for s in (spec, *subprocess_specs.values()):
            user_tasks.extend(user_task_info(ts) for ts in s.task_specs.values() if _is_user_task(ts))
        # A task's form and instructions are looked up by its BPMN id across the process and the processes
        # it calls (user_task()), so a user task id must not repeat between them.
        ids = [t.bpmn_id for t in user_tasks]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise DiagramError([(filename, i, f"el identificador de tarea «{i}» se repite en los procesos que este "
                                              "diagrama llama; use identificadores únicos") for i in repeated])
        files = [filename] + sorted({s.file for s in subprocess_specs.values() if s.file} - {filename})
        return ParsedProcess(key, process_parser.get_name() or key, filename, spec_json, user_tasks, files)

    # -- specs and state ---------------------------------------------------------------------------
    def spec(self, key: tuple, spec_json):
        """The (spec, subprocess_specs) of a process version, deserialized once per process.

        key identifies the version's content, (process key, content hash), so a cache entry can never
        serve another database's or another version's spec. spec_json may be a callable, called only on a
        cache miss (so the large column is not even read from the database once the spec is cached).
        """
        cached = self._specs.get(key)
        if cached is None:
            dct = json.loads(spec_json() if callable(spec_json) else spec_json)
            cached = (
                self.registry.restore(dct["spec"]),
                {name: self.registry.restore(s) for name, s in dct["subprocess_specs"].items()},
            )
            for name, interrupting in dct.get("event_subprocesses", {}).items():  # read while the version runs
                cached[1][name].siproc_event_subprocess = True
                cached[1][name].siproc_interrupting = interrupting
            guard_specs(cached[0], *cached[1].values())  # business rule tasks: the budgeted DMN engine
            with self._spec_lock:
                self._specs[key] = cached
        return cached

    def user_tasks(self, key: tuple, spec_json) -> list[UserTaskInfo]:
        """Every user task of a process version and the processes it calls, from the cached spec."""
        return list(self._user_task_index(key, spec_json).values())

    def user_task(self, key: tuple, spec_json, bpmn_id: str) -> UserTaskInfo | None:
        """A user task's definition from the cached spec, without loading any instance."""
        return self._user_task_index(key, spec_json).get(bpmn_id)

    def user_task_processes(self, key: tuple, spec_json) -> dict[str, str]:
        """bpmn id of every user task -> the id of the process (main or called) that holds it."""
        spec, subprocess_specs = self.spec(key, spec_json)
        return {ts.bpmn_id: candidate.name for candidate in (spec, *subprocess_specs.values())
                for ts in candidate.task_specs.values() if _is_user_task(ts)}

    def _user_task_index(self, key, spec_json) -> dict[str, UserTaskInfo]:
        index = self._user_tasks.get(key)
        if index is None:
            spec, subprocess_specs = self.spec(key, spec_json)
            index = {ts.bpmn_id: user_task_info(ts) for candidate in (spec, *subprocess_specs.values())
                     for ts in candidate.task_specs.values() if _is_user_task(ts)}
            self._user_tasks[key] = index
        return index

    def new_workflow(self, key: tuple, spec_json) -> BpmnWorkflow:
        spec, subprocess_specs = self.spec(key, spec_json)
        return BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine)

    def load(self, key: tuple, spec_json, state_json: str, serializer_version: str) -> BpmnWorkflow:
        if serializer_version != SERIALIZER_VERSION:
            raise EngineError(
                f"estado guardado con el serializador {serializer_version}; se esperaba {SERIALIZER_VERSION}"
            )
        spec, subprocess_specs = self.spec(key, spec_json)
        workflow = self.converter.restore(json.loads(state_json), spec, subprocess_specs)
        workflow.script_engine = self.script_engine
        return workflow

    def dump(self, workflow: BpmnWorkflow) -> str:
        with self._encode_lock:
            self.registry._encoder_mode = True
            try:
                return json.dumps(self.converter.to_dict(workflow), cls=self._encoder, separators=(",", ":"))
            finally:
                self.registry._encoder_mode = False

    # -- running -----------------------------------------------------------------------------------
    def advance(self, workflow: BpmnWorkflow) -> list[FiredTimer]:
        """Fire due timers and run every engine task until only user tasks or waits remain.

        Returns the timers that fired in this run (for reminders): those that were due and are now gone
        (a duration or date) or re-armed for their next occurrence (a cycle such as "R/P7D").
        """
        before = {t.task_id: t for t in self.waiting_timers(workflow)}
        with engine_run() as budget:
            def did_complete(task):
                budget.task_done(_task_name(task))
                _interrupt(task)

            try:
                workflow.refresh_timers()
                workflow.do_engine_steps(did_complete_task=did_complete)
                while _end_waiting_event_subprocesses(workflow):
                    workflow.do_engine_steps(did_complete_task=did_complete)
            except (SpiffWorkflowException, DiagramCodeError) as exc:
                raise EngineError(_engine_message(exc)) from exc
        after = {t.task_id: t.due_at for t in self.waiting_timers(workflow)}
        now = clock.now()
        return [self._fired(workflow, timer) for task_id, timer in before.items()
                if timer.due_at <= now and after.get(task_id) != timer.due_at]

    @staticmethod
    def _fired(workflow, timer) -> FiredTimer:
        task = workflow.get_task_from_id(UUID(timer.task_id))
        parent = task.parent.task_spec.name if task is not None and task.parent is not None else ""
        suffix = ".BoundaryEventSplit"
        return FiredTimer(task.task_spec.bpmn_id if task is not None else "", timer.name,
                          parent[: -len(suffix)] if parent.endswith(suffix) else None)

    def complete_user_task(self, workflow: BpmnWorkflow, task_id: str, data: dict):
        """Merge form data into a READY user task and run it; refuses tasks that are not READY."""
        task = workflow.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY or not _is_user_task(task.task_spec):
            raise EngineError("la tarea ya no está pendiente")
        with engine_run():
            try:
                task.task_spec.add_data_from_form(task, data) if hasattr(task.task_spec, "add_data_from_form") \
                    else task.data.update(data)
                task.run()
            except (SpiffWorkflowException, DiagramCodeError) as exc:
                raise EngineError(_engine_message(exc)) from exc

    def deliver_signal(self, workflow: BpmnWorkflow, name: str, payload: dict | None = None) -> None:
        """Deliver a named signal to the catch event waiting for it; its payload joins that event's data.

        Refuses (EngineError) when no event of the workflow waits for this signal, so a reopening or any other
        app-delivered event never lands on an instance that is not at that point of the diagram.
        """
        waiting = [t for t in workflow.event_manager.tasks.values()
                   if isinstance(t.task_spec.event_definition, SignalEventDefinition)
                   and t.task_spec.event_definition.name == name]
        if not waiting:
            raise EngineError(f"el proceso no espera el evento «{name}»")
        with engine_run():
            try:
                for task in waiting:
                    task.set_data(**(payload or {}))
                workflow.send_event(BpmnEvent(waiting[0].task_spec.event_definition, payload=payload or {}))
            except (SpiffWorkflowException, DiagramCodeError) as exc:
                raise EngineError(_engine_message(exc)) from exc

    def waiting_statuses(self, workflow: BpmnWorkflow) -> list[str]:
        """The caseStatus property of every catch event now waiting (e.g. «cerrado» while a closed case waits
        for a reopening); timers and other events without the property give nothing."""
        statuses = []
        for task in workflow.event_manager.tasks.values():
            props = (getattr(task.task_spec, "extensions", None) or {}).get("properties") or {}
            if props.get("caseStatus"):
                statuses.append(props["caseStatus"])
        return statuses

    def waiting_signals(self, workflow: BpmnWorkflow) -> list[str]:
        """Names of the signals the workflow's catch events wait for now."""
        return sorted({t.task_spec.event_definition.name for t in workflow.event_manager.tasks.values()
                       if isinstance(t.task_spec.event_definition, SignalEventDefinition)})

    def ready_user_tasks(self, workflow: BpmnWorkflow) -> list[ReadyTask]:
        return [
            ReadyTask(str(t.id), user_task_info(t.task_spec), t.data)
            for t in workflow.get_tasks(state=TaskState.READY, manual=True)
        ]

    def task_data(self, workflow: BpmnWorkflow, task_id: str) -> dict:
        """A copy of the data a task sees (JSON values only)."""
        task = workflow.get_task_from_id(UUID(task_id))
        return json.loads(json.dumps(task.data, default=str)) if task is not None else {}

    def task_state(self, workflow: BpmnWorkflow, task_id: str):
        task = workflow.get_task_from_id(UUID(task_id))
        return None if task is None else TaskState.get_name(task.state)

    def waiting_timers(self, workflow: BpmnWorkflow) -> list[WaitingTimer]:
        """Armed timers with their next due time (UTC), read from the workflow's event manager."""
        timers = []
        for task in workflow.event_manager.tasks.values():
            definition = task.task_spec.event_definition
            if not isinstance(definition, TimerEventDefinition):
                continue
            value = task._get_internal_data("event_value")
            if isinstance(definition, CycleTimerEventDefinition) and isinstance(value, dict):
                value = value.get("next")
            if not value:
                continue
            timers.append(WaitingTimer(str(task.id), definition.name or task.task_spec.bpmn_name or "",
                                       type(definition).__name__, _utc(value), task.task_spec.bpmn_id or ""))
        return timers

    def evaluate(self, workflow: BpmnWorkflow, task_id: str, expression: str):
        task = workflow.get_task_from_id(UUID(task_id))
        try:
            return self.script_engine.evaluate(task, expression)
        except (SpiffWorkflowException, DiagramCodeError) as exc:
            raise EngineError(_engine_message(exc)) from exc

    def completed_bpmn_ids(self, workflow: BpmnWorkflow) -> list[str]:
        return [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
                if t.task_spec.bpmn_id]

    def is_completed(self, workflow: BpmnWorkflow) -> bool:
        return workflow.is_completed()


def parse_duration(expression: str):
    """Parse an ISO 8601 duration such as 'P7D' or 'PT48H' into a timedelta from now (clock)."""
    parsed = TimerEventDefinition.parse_iso_duration(expression)
    return TimerEventDefinition.get_timedelta_from_start(parsed, clock.now())


def check_timer_literal(kind: str, value: str) -> str | None:
    """Problem with a constant timer value ('P7D', 'R/P7D', an ISO date), or None when it parses."""
    try:
        if kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        elif kind == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        else:
            TimerEventDefinition.get_datetime(value)
    except Exception:
        return f"el temporizador «{value}» no es una expresión ISO 8601 válida"
    return None


HUMAN_TASKS = ("UserTask", "ManualTask", "NoneTask")


def _is_user_task(task_spec) -> bool:
    """A task a person completes in SIPROC: a user task, a manual task or a task without type (SpiffWorkflow waits
    for a person on the three, as SpiffArena does; SIPROC puts each in its lane's inbox with its form)."""
    return bool(getattr(task_spec, "manual", False)) and type(task_spec).__name__ in HUMAN_TASKS


# -- event sub-processes ------------------------------------------------------------------------------------
# SpiffWorkflow 3.2.0 runs event sub-processes started by a timer, a signal or a message, but: it reads no error or
# escalation start event (it would take one for a none start and run the sub-process at once), it never
# interrupts (isInterrupting is not read), and a sub-process still waiting for its timer keeps the process that
# holds it from ever ending. The three are completed here, on the engine's own objects.
class _StartEventParser(SpiffStartEventParser):
    """The start event of an event sub-process may also be an error or an escalation (BPMN 2.0, 10.3.5)."""

    def create_task(self):
        if self.node.getparent().get("triggeredByEvent") != "true":
            return super().create_task()
        task = self._create_task(self.get_event_definition([
            MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TIMER_EVENT_XPATH, CONDITIONAL_EVENT_XPATH, ERROR_EVENT_XPATH,
            ESCALATION_EVENT_XPATH]))
        self.spec.start.connect(task)
        return task


class _Parser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {**SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
                               full_tag("startEvent"): (_StartEventParser, StartEvent)}


def _event_subprocesses(parser, subprocess_specs) -> dict[str, bool]:
    """Id of every event sub-process -> whether its start event interrupts (isInterrupting: true unless false)."""
    found = {}
    for name in sorted(subprocess_specs):
        process_parser = parser.process_parsers.get(name)
        node = process_parser.node if process_parser is not None else None
        if node is None or node.get("triggeredByEvent") != "true":
            continue
        starts = [child for child in node if child.tag == full_tag("startEvent")]
        found[name] = bool(starts) and starts[0].get("isInterrupting", "true") != "false"
    return found


def _interrupt(task) -> None:
    """When the start event of an interrupting event sub-process has run, everything else of the (sub-)process that
    holds the event sub-process is cancelled: its paths, its user tasks, its other event sub-processes."""
    holder = task.workflow
    if not getattr(holder.spec, "siproc_interrupting", False) or not isinstance(task.task_spec, StartEvent):
        return
    scope = holder.parent_workflow
    own = scope.get_task_from_id(holder.parent_task_id) if scope is not None else None
    if own is None:
        return
    keep = {own.id, *(t.id for t in _ancestors(own))}
    for other in scope.get_tasks(state=TaskState.NOT_FINISHED_MASK, skip_subprocesses=True):
        if other.id not in keep and own not in _ancestors(other) and other.has_state(TaskState.NOT_FINISHED_MASK):
            other.cancel()


def _end_waiting_event_subprocesses(workflow) -> bool:
    """A (sub-)process whose paths have all ended ends, cancelling its event sub-processes that still wait for their
    start event (a timer that has not fired). Returns whether anything changed (then the engine runs again)."""
    changed = False
    for scope in (workflow, *workflow.subprocesses.values()):
        if scope.completed:
            continue
        pending = scope.get_tasks(state=TaskState.NOT_FINISHED_MASK, skip_subprocesses=True)
        waiting = [t for t in pending if _waits_for_its_start(workflow, t)]
        if not waiting:
            continue
        inside = {t.id for t in pending for w in waiting if t is w or w in _ancestors(t)}
        if any(t.id not in inside and t.task_spec.name not in (scope.spec.end.name, "End") for t in pending):
            continue  # a path of the (sub-)process is still running
        for task in waiting:
            subprocess = workflow.subprocesses[task.id]
            starts = [t for t in subprocess.get_tasks(state=TaskState.WAITING) if isinstance(t.task_spec, StartEvent)]
            if any(t.has_state(TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR)
                   and t not in starts for t in subprocess.get_tasks()):
                for start in starts:  # a cycle that already fired: stop it (keeping what it started) and let
                    start._set_state(TaskState.CANCELLED)  # the paths it started finish
                    workflow.event_manager.remove_task(start)
            else:
                task.cancel()
        for join in scope.get_tasks(state=TaskState.WAITING, skip_subprocesses=True):
            join.task_spec._update(join)
        changed = True
    return changed


def _waits_for_its_start(workflow, task) -> bool:
    subprocess = workflow.subprocesses.get(task.id) if task.state == TaskState.STARTED else None
    return getattr(getattr(subprocess, "spec", None), "siproc_event_subprocess", False) and any(
        t.state == TaskState.WAITING for t in subprocess.get_tasks() if isinstance(t.task_spec, StartEvent))


def _ancestors(task):
    node = task.parent
    while node is not None:
        yield node
        node = node.parent


def _utc(value: str) -> datetime:
    return TimerEventDefinition.get_datetime(value).astimezone(UTC)


def _validation_message(exc) -> str:
    return messages.validation_message(exc)  # Spanish (app/workflow/messages.py), with the line when known


def _task_name(task) -> str:
    return task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name


def _engine_message(exc) -> str:
    """Spanish: the element that failed and why (the interpreter's message when it refused the code)."""
    task = getattr(exc, "task", None)
    spec = task.task_spec if task is not None else getattr(exc, "task_spec", None)
    spec = spec if hasattr(spec, "bpmn_id") else None
    message = getattr(exc, "diagram_message", None) or getattr(exc, "message", None)
    cause = exc
    while message is None and cause is not None:
        if isinstance(cause, DiagramCodeError):
            message = cause.message
        cause = cause.__cause__ or getattr(cause, "exception", None)
    return messages.engine_message(exc, (spec.bpmn_name or spec.bpmn_id) if spec is not None else None,
                                   spec.bpmn_id if spec is not None else None, message)


@functools.cache
def get_engine() -> Engine:
    """The process-wide engine; first use also makes SpiffWorkflow's timers read our clock."""
    spiff_timer.datetime = _ClockDatetime
    return Engine()
