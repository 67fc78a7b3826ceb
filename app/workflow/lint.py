"""The project's own rules for diagrams, checked on the XML before anything is deployed."""
import ast
import re

from lxml import etree

from ..auth.roles import role_for_lane
from ..formschema import FormSchemaError, compile_form, load_form
from ..formschema.instructions import check_instructions
from ..formschema.loader import load_ui
from .actions import operations
from .engine import check_timer_literal
from .evaluator import check_source
from .xmlsafe import UnsafeXML, parse_xml

UNQUOTED_ISO = re.compile(r"(R\d*/)?P[0-9YMWDTHS.]+|\d{4}-\d{2}-\d{2}T[0-9:.Z+-]+", re.IGNORECASE)
RESERVED_IDS = {"Start", "End", "Root"}  # SpiffWorkflow's own task spec names
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def lint_diagram(filename: str, data: bytes, forms: dict[str, str]) -> list[tuple[str, str | None, str]]:
    """Problems as (file, element id, message): lanes, forms, deadlines, conditions, scripts, timers."""
    try:
        root = parse_xml(data, filename).getroot()
    except UnsafeXML as exc:
        return [(filename, None, str(exc).split(": ", 1)[-1])]
    problems = [(filename, node.get("id"), f"el identificador «{node.get('id')}» está reservado por el motor")
                for node in root.iter() if node.get("id") in RESERVED_IDS]
    lanes = {ref.text.strip(): lane.get("name") for lane in root.iterfind(".//bpmn:lane", NS)
             for ref in lane.iterfind("bpmn:flowNodeRef", NS) if ref.text}
    user_tasks = {task.get("id") for task in root.iterfind(".//bpmn:userTask", NS)}
    for task in root.iterfind(".//bpmn:userTask", NS):
        problems.extend((filename, task.get("id"), msg) for msg in _user_task_problems(task, _lanes_of(task, lanes),
                                                                                      forms))
        problems.extend((filename, task.get("id"), msg) for msg in _approval_problems(task, user_tasks))
    problems.extend((filename, _owner_id(node), message) for node, message in _unsupported(root))
    problems.extend((filename, _owner_id(node), message) for node, message in _app_signal_problems(root))
    for element, mode, label in _code_elements(root):
        problems.extend((filename, _owner_id(element), f"{label}: {msg}") for msg in check_source(element.text, mode))
    for element in root.iterfind(".//bpmn:timerEventDefinition/*", NS):
        problems.extend((filename, _owner_id(element), msg) for msg in _timer_problems(element))
    for process in root.iterfind("bpmn:process", NS):
        problems.extend((filename, element, msg) for element, msg in _flow_problems(process))
    return problems


def _lanes_of(task, lanes):
    """The lanes map, with a task inside a sub-process in the lane of its outermost enclosing sub-process (as the
    engine places it)."""
    node = task.getparent()
    while node is not None and task.get("id") not in lanes:
        if etree.QName(node).localname == "subProcess" and node.get("id") in lanes:
            return {**lanes, task.get("id"): lanes[node.get("id")]}
        node = node.getparent()
    return lanes


def _user_task_problems(task, lanes, forms):
    props = {p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)}
    name = task.get("name") or task.get("id")
    lane = lanes.get(task.get("id"))
    if lane is None:
        yield f"la tarea «{name}» no está en ningún carril (lane)"
    elif role_for_lane(lane) is None:
        yield f"el carril «{lane}» de la tarea «{name}» no corresponde a ningún rol"
    form = props.get("formJsonSchemaFilename")
    if not form:
        yield f"la tarea «{name}» no indica su formulario (formJsonSchemaFilename)"
    elif form not in forms:
        yield f"el formulario «{form}» de la tarea «{name}» no existe"
    else:
        try:
            ui_name = props.get("formUiSchemaFilename")
            if ui_name and ui_name not in forms:
                raise FormSchemaError(f"el esquema de interfaz «{ui_name}» no existe")
            compile_form(form, load_form(form, forms[form]), load_ui(ui_name, forms.get(ui_name)))
        except FormSchemaError as exc:
            yield str(exc)
    for element in task.iterfind(".//spiffworkflow:instructionsForEndUser", NS):
        yield from (f"instrucciones de «{name}»: {m}" for m in check_instructions(element.text or ""))
    deadline = props.get("deadline")
    if deadline:
        if deadline.strip().upper().startswith("P"):
            problem = check_timer_literal("timeDuration", deadline.strip())
            if problem:
                yield f"plazo de «{name}»: {problem}"
        else:
            yield from (f"plazo de «{name}»: {m}" for m in check_source(deadline, "eval"))


APPROVAL_PANELS: set[str] = set()  # names of the approval panels the domains registered (cases/approval.py)


def approval_panel(name: str) -> None:
    """Register an approval panel's name, so a diagram's `approvalPanel` property can be checked at publish."""
    APPROVAL_PANELS.add(name)


def _approval_problems(task, user_tasks):
    """`approvalOf` names a user task of the same diagram (the four-eyes rule refuses its completer) and
    `approvalPanel` a registered panel: a typo would silently leave the approval without either."""
    props = {p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)}
    name = task.get("name") or task.get("id")
    approved = props.get("approvalOf")
    if approved is not None and (approved not in user_tasks or approved == task.get("id")):
        yield (f"la tarea «{name}» aprueba «{approved}» (approvalOf), que no es otra tarea de usuario de este "
               "diagrama")
    panel = props.get("approvalPanel")
    if panel is not None and panel not in APPROVAL_PANELS:
        known = ", ".join(sorted(APPROVAL_PANELS)) or "ninguno"
        yield f"el panel de aprobación «{panel}» de la tarea «{name}» no existe (admitidos: {known})"


UNSUPPORTED_NODES = {  # BPMN flow elements SIPROC cannot execute (a later issue may add connectors or DMN)
    "businessRuleTask": "las tareas de reglas de negocio (DMN) aún no se pueden ejecutar en SIPROC",
    "sendTask": "las tareas de envío de mensajes no se pueden ejecutar en SIPROC",
    "receiveTask": "las tareas de recepción de mensajes no se pueden ejecutar en SIPROC",
    "complexGateway": "las compuertas complejas no se pueden ejecutar en SIPROC",
    "transaction": "los subprocesos de transacción no se pueden ejecutar en SIPROC",
    "adHocSubProcess": "los subprocesos ad hoc no se pueden ejecutar en SIPROC",
}
SUPPORTED_EVENTS = {"timerEventDefinition", "signalEventDefinition", "errorEventDefinition",
                    "escalationEventDefinition", "terminateEventDefinition"}


APP_SIGNALS: dict[str, str] = {}  # signal name -> when SIPROC delivers it (Spanish), registered by the domains


def app_signal(name: str, delivered: str) -> None:
    """Register a signal that only SIPROC delivers (deliver_message), e.g. `caso_reabierto` when a supervisor
    reopens a case: diagrams may wait for it in an intermediate catch event, never throw it or start with it."""
    APP_SIGNALS[name] = delivered


def _app_signal_problems(root):
    """A signal SIPROC delivers is only caught, by an intermediate catch event: a diagram that threw it (or
    caught it elsewhere) would reopen a case, or run its path, without the service, its checks and its audit."""
    names = {signal.get("id"): signal.get("name") for signal in root.iterfind("bpmn:signal", NS)}
    for definition in root.iterfind(".//bpmn:signalEventDefinition", NS):
        name = names.get(definition.get("signalRef"))
        owner = definition.getparent()
        if name in APP_SIGNALS and etree.QName(owner).localname != "intermediateCatchEvent":
            yield definition, (f"la señal «{name}» la entrega SIPROC {APP_SIGNALS[name]}: solo puede esperarse en "
                               "un evento intermedio de captura, no lanzarse ni iniciar o interrumpir un proceso")


def _unsupported(root):
    """Elements the engine would accept but SIPROC cannot run: refused at publish, never met by a case."""
    for node in root.iter(etree.Element):
        kind = etree.QName(node)
        if kind.namespace != NS["bpmn"]:
            continue
        name = kind.localname
        if name == "serviceTask":
            yield from _service_task_problems(node)
        elif name in UNSUPPORTED_NODES:
            yield node, f"«{node.get('name') or node.get('id')}»: {UNSUPPORTED_NODES[name]}"
        elif name.endswith("EventDefinition") and name not in SUPPORTED_EVENTS:
            yield node, (f"el evento «{name.removesuffix('EventDefinition')}» no se puede ejecutar en SIPROC "
                         "(admitidos: temporizador, señal, error, escalamiento, terminación)")


def _service_task_problems(node):
    """A service task runs only an operation SIPROC registered (no connectors, no HTTP); its parameters are
    diagram code like any other."""
    name = node.get("name") or node.get("id")
    operator = node.find(".//spiffworkflow:serviceTaskOperator", NS)
    known = operations()
    allowed = ", ".join(known) or "ninguna"
    if operator is None or operator.get("id") not in known:
        which = operator.get("id") if operator is not None else ""
        yield node, (f"«{name}»: las tareas de servicio solo pueden usar las operaciones de SIPROC ({allowed}); "
                     f"«{which}» no es una de ellas")
        return
    for parameter in operator.iterfind(".//spiffworkflow:parameter", NS):
        for message in check_source(parameter.get("value") or "", "eval"):
            yield node, f"«{name}», parámetro «{parameter.get('id')}»: {message}"


def _code_elements(root):
    for element in root.iterfind(".//bpmn:conditionExpression", NS):
        yield element, "eval", "condición"
    for tag, label in (("loopCardinality", "cardinalidad"), ("completionCondition", "condición de término"),
                       ("loopCondition", "condición del bucle")):
        for element in root.iterfind(f".//bpmn:{tag}", NS):
            yield element, "eval", label
    for element in root.iterfind(".//bpmn:script", NS):
        yield element, "exec", "script"
    for tag in ("preScript", "postScript"):
        for element in root.iterfind(f".//spiffworkflow:{tag}", NS):
            yield element, "exec", "script"


def _timer_problems(element):
    source = (element.text or "").strip()
    if UNQUOTED_ISO.fullmatch(source):
        return [f"temporizador: escriba la expresión entre comillas, por ejemplo \"{source}\""]
    problems = check_source(source, "eval")
    if problems:
        return [f"temporizador: {m}" for m in problems]
    try:
        literal = ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return []  # an expression computed from case data; checked when it runs
    if not isinstance(literal, str):
        return ["temporizador: la expresión debe producir un texto ISO 8601 (por ejemplo \"P7D\")"]
    problem = check_timer_literal(etree.QName(element).localname, literal)
    return [problem] if problem else []


FLOW_NODES = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
              "inclusiveGateway", "eventBasedGateway", "complexGateway"}


def _flow_problems(process):
    """Every node is reachable from a start event, and from every node some end event can be reached."""
    nodes = {node.get("id"): node for node in process if etree.QName(node).localname in FLOW_NODES}
    forward, backward = {key: set() for key in nodes}, {key: set() for key in nodes}
    for flow in process.iterfind("bpmn:sequenceFlow", NS):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in nodes and target in nodes:
            forward[source].add(target)
            backward[target].add(source)
    for key, node in nodes.items():  # a boundary event lives while its task runs
        attached = node.get("attachedToRef")
        if attached in nodes:
            forward[attached].add(key)
            backward[key].add(attached)
    kinds = {key: etree.QName(node).localname for key, node in nodes.items()}
    starts = [key for key, kind in kinds.items() if kind == "startEvent"]
    ends = [key for key, kind in kinds.items() if kind == "endEvent"]
    if not starts:
        yield process.get("id"), "el proceso no tiene evento de inicio"
    if not ends:
        yield process.get("id"), "el proceso no tiene evento de fin"
    reached, finishing = _walk(starts, forward), _walk(ends, backward)
    for key, node in nodes.items():
        name = node.get("name") or key
        if starts and key not in reached:
            yield key, f"«{name}» no es alcanzable desde un evento de inicio"
        elif ends and key not in finishing:
            yield key, f"desde «{name}» no se llega a ningún evento de fin"


def _walk(seeds, edges):
    seen, todo = set(seeds), list(seeds)
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _owner_id(element):
    """The id of the flow element (task, event, flow) a piece of code or timer belongs to."""
    node = element
    while node is not None and (node.get("id") is None or
                                etree.QName(node).localname.endswith("EventDefinition")):
        node = node.getparent()
    return node.get("id") if node is not None else None
