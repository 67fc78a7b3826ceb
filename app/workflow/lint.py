"""The project's own rules for diagrams, checked on the XML before anything is deployed."""
import ast
import re

from flask_babel import gettext as _
from lxml import etree

from ..auth.roles import role_for_lane
from ..formschema import FormSchemaError, compile_form, load_form
from ..formschema.instructions import check_instructions
from ..formschema.loader import load_ui
from .actions import parameter_problems
from .dmn import lint_business_rule_tasks
from .engine import check_timer_literal
from .evaluator import check_source
from .xmlsafe import UnsafeXML, parse_xml

UNQUOTED_ISO = re.compile(r"(R\d*/)?P[0-9YMWDTHS.]+|\d{4}-\d{2}-\d{2}T[0-9:.Z+-]+", re.IGNORECASE)
RESERVED_IDS = {"Start", "End", "Root"}  # SpiffWorkflow's own task spec names
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def lint_diagram(filename: str, data: bytes, forms: dict[str, str],
                 decisions: dict[str, str] | None = None) -> list[tuple[str, str | None, str]]:
    """Problems as (file, element id, message): lanes, forms, deadlines, conditions, scripts, timers, and the DMN
    decision tables (name -> XML, app/workflow/dmn.py) that business rule tasks call."""
    try:
        root = parse_xml(data, filename).getroot()
    except UnsafeXML as exc:
        return [(filename, None, str(exc).split(": ", 1)[-1])]
    problems = [(filename, node.get("id"), f"el identificador «{node.get('id')}» está reservado por el motor")
                for node in root.iter() if node.get("id") in RESERVED_IDS]
    lanes = {ref.text.strip(): lane.get("name") for lane in root.iterfind(".//bpmn:lane", NS)
             for ref in lane.iterfind("bpmn:flowNodeRef", NS) if ref.text}
    user_tasks = {task.get("id") for task in root.iterfind(".//bpmn:userTask", NS)}
    for task in (node for tag in HUMAN_TASKS for node in root.iterfind(f".//bpmn:{tag}", NS)):
        problems.extend((filename, task.get("id"), msg) for msg in _user_task_problems(task, _lanes_of(task, lanes),
                                                                                      forms))
        problems.extend((filename, task.get("id"), msg) for msg in _approval_problems(task, user_tasks))
    problems.extend((filename, _owner_id(node), message) for node, message in _unsupported(root))
    problems.extend((filename, _owner_id(node), message) for node, message in _app_signal_problems(root))
    problems.extend((filename, element, message) for element, message in
                    lint_business_rule_tasks(root, forms, decisions or {}))
    for element, mode, label in _code_elements(root):
        problems.extend((filename, _owner_id(element), f"{label}: {msg}") for msg in check_source(element.text, mode))
    for element in root.iterfind(".//bpmn:timerEventDefinition/*", NS):
        problems.extend((filename, _owner_id(element), msg) for msg in _timer_problems(element))
    for process in root.iterfind("bpmn:process", NS):
        problems.extend((filename, element, msg) for element, msg in _flow_problems(process, top=True))
    return problems


def _lanes_of(task, lanes):
    """The lanes map, with a task inside a sub-process in the lane of its outermost enclosing sub-process (as the
    engine places it)."""
    node = task.getparent()
    while node is not None and task.get("id") not in lanes:
        if etree.QName(node).localname in SUBPROCESSES and node.get("id") in lanes:
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
    if not form and etree.QName(task).localname != "userTask":
        yield _("la tarea «%(n)s» la completa una persona en SIPROC (como una tarea de usuario): indique su carril y "
                "su formulario (formJsonSchemaFilename)", n=name)
    elif not form:
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
    "sendTask": "las tareas de envío de mensajes no se pueden ejecutar en SIPROC",
    "receiveTask": "las tareas de recepción de mensajes no se pueden ejecutar en SIPROC",
    "complexGateway": "las compuertas complejas no se pueden ejecutar en SIPROC",
    "adHocSubProcess": "los subprocesos ad hoc no se pueden ejecutar en SIPROC",
}
SUPPORTED_EVENTS = {"timerEventDefinition", "signalEventDefinition", "errorEventDefinition",
                    "escalationEventDefinition", "terminateEventDefinition", "cancelEventDefinition"}
HUMAN_TASKS = ("userTask", "manualTask", "task")  # SpiffWorkflow waits for a person on the three (engine.HUMAN_TASKS)


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
        elif name == "compensateEventDefinition" or node.get("isForCompensation") == "true":
            yield node, _("«%(n)s»: la compensación no se puede ejecutar en SIPROC (SpiffWorkflow 3.2 no la admite); "
                          "para deshacer un paso use una transacción con un evento de cancelación, o un camino "
                          "alternativo", n=_owner_name(node.getparent() if name.endswith("Definition") else node))
        elif name.endswith("EventDefinition") and name not in SUPPORTED_EVENTS:
            yield node, (f"el evento «{name.removesuffix('EventDefinition')}» no se puede ejecutar en SIPROC "
                         "(admitidos: temporizador, señal, error, escalamiento, terminación, cancelación)")


def _service_task_problems(node):
    """A service task runs only a connector SIPROC registered (no HTTP, no connector proxy), with the parameters
    that connector declares; each parameter is diagram code like any other (app/workflow/actions.py)."""
    name = node.get("name") or node.get("id")
    operator = node.find(".//spiffworkflow:serviceTaskOperator", NS)
    parameters = [] if operator is None else [
        (parameter.get("id"), parameter.get("value")) for parameter in operator.iterfind(".//spiffworkflow:parameter",
                                                                                           NS)]
    for message in parameter_problems(operator.get("id") if operator is not None else "", parameters,
                                      lambda source: check_source(source, "eval")):
        yield node, f"«{name}»: {message}"
    for parameter in [] if operator is None else operator.iterfind(".//spiffworkflow:parameter", NS):
        if not parameter.get("type"):  # SpiffWorkflow's parser needs it
            yield node, _("«%(n)s», parámetro «%(p)s»: falta el atributo type (p. ej. type=\"str\")", n=name,
                          p=parameter.get("id"))


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
              "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess", "exclusiveGateway",
              "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
SUBPROCESSES = {"subProcess", "transaction"}  # embedded: their nodes are checked within them
EVENT_SUBPROCESS_STARTS = {"timerEventDefinition": "temporizador", "signalEventDefinition": "señal",
                           "errorEventDefinition": "error", "escalationEventDefinition": "escalamiento"}


def _flow_problems(container, top=False):
    """Within a process or an embedded sub-process (then within each sub-process it holds): every node is reachable
    from a start event, and from every node the path can end. An event sub-process is started by its own start event
    and checked inside. A process path may end at a node without outgoing flow (BPMN's implicit end, which
    SpiffWorkflow runs); inside a sub-process SpiffWorkflow only finishes at an end event, so every path needs one."""
    nodes = {node.get("id"): node for node in container if etree.QName(node).localname in FLOW_NODES}
    kinds = {key: etree.QName(node).localname for key, node in nodes.items()}
    event_subprocesses = {key for key, node in nodes.items() if node.get("triggeredByEvent") == "true"}
    for key in event_subprocesses:
        yield from _event_subprocess_problems(nodes[key], top)
    for key, kind in kinds.items():
        if kind in SUBPROCESSES:
            yield from _flow_problems(nodes[key])
    yield from _event_placement_problems(container, nodes, kinds, top)
    nodes = {key: node for key, node in nodes.items()  # compensation handlers are refused by _unsupported()
             if key not in event_subprocesses and node.get("isForCompensation") != "true"}
    forward, backward = _graph(container, nodes)
    starts = [key for key in nodes if kinds[key] == "startEvent"]
    leaving = {flow.get("sourceRef") for flow in container.iterfind("bpmn:sequenceFlow", NS)}
    ends = [key for key in nodes if kinds[key] == "endEvent" or (top and key not in leaving)]
    yield from _bounds_problems(container, top, starts, ends)
    reached, finishing = _walk(starts, forward), _walk(ends, backward)
    for key, node in nodes.items():
        name = node.get("name") or key
        if starts and key not in reached:
            yield key, _("«%(n)s» no es alcanzable desde un evento de inicio", n=name)
        elif ends and key not in finishing:
            yield key, _("desde «%(n)s» no se llega a ningún evento de fin", n=name)


def _graph(container, nodes):
    forward, backward = {key: set() for key in nodes}, {key: set() for key in nodes}
    for flow in container.iterfind("bpmn:sequenceFlow", NS):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in nodes and target in nodes:
            forward[source].add(target)
            backward[target].add(source)
    for key, node in nodes.items():  # a boundary event lives while its task runs
        attached = node.get("attachedToRef")
        if attached in nodes:
            forward[attached].add(key)
            backward[key].add(attached)
    return forward, backward


def _bounds_problems(container, top, starts, ends):
    name = _owner_name(container)
    if not starts:
        yield container.get("id"), (_("el proceso no tiene evento de inicio") if top else
                                    _("el subproceso «%(n)s» no tiene evento de inicio", n=name))
    elif not top and len(starts) > 1:
        yield container.get("id"), _("el subproceso «%(n)s» tiene %(c)d eventos de inicio: SpiffWorkflow admite uno "
                                     "solo", n=name, c=len(starts))
    if not ends:
        yield container.get("id"), (_("el proceso no tiene evento de fin") if top else
                                    _("el subproceso «%(n)s» no tiene evento de fin", n=name))


def _definitions(node):
    return [etree.QName(child).localname for child in node
            if isinstance(child.tag, str) and etree.QName(child).localname.endswith("EventDefinition")]


def _event_subprocess_problems(node, top):
    """An event sub-process starts with one start event that SIPROC can trigger (not a none start, which
    SpiffWorkflow would run at once); nested in another sub-process, SpiffWorkflow only triggers it by a timer."""
    name = _owner_name(node)
    starts = [child for child in node if isinstance(child.tag, str) and etree.QName(child).localname == "startEvent"]
    if len(starts) != 1:
        return  # said by the walk inside it
    kinds = _definitions(starts[0])
    if len(kinds) != 1 or kinds[0] not in EVENT_SUBPROCESS_STARTS:
        yield starts[0].get("id"), _("el subproceso de evento «%(n)s» debe empezar con un evento de temporizador, "
                                     "señal, error o escalamiento", n=name)
    elif not top and kinds[0] != "timerEventDefinition":
        yield starts[0].get("id"), _("el subproceso de evento «%(n)s» está dentro de otro subproceso: ahí SIPROC solo "
                                     "puede iniciarlo con un temporizador (el %(k)s solo se atiende en un subproceso "
                                     "de evento del proceso principal)", n=name,
                                     k=EVENT_SUBPROCESS_STARTS[kinds[0]])


def _event_placement_problems(container, nodes, kinds, top):
    """Events SpiffWorkflow runs only in one place: error and escalation start only an event sub-process; cancel
    ends a transaction or interrupts it from its border."""
    in_event_subprocess = container.get("triggeredByEvent") == "true"
    for key, node in nodes.items():
        found = _definitions(node)
        name = node.get("name") or key
        if kinds[key] == "startEvent" and not in_event_subprocess and {
                "errorEventDefinition", "escalationEventDefinition"} & set(found):
            yield key, _("«%(n)s»: un evento de inicio de error o de escalamiento solo puede iniciar un subproceso de "
                         "evento", n=name)
        if "cancelEventDefinition" not in found:
            continue
        if kinds[key] == "boundaryEvent" and kinds.get(node.get("attachedToRef")) != "transaction":
            yield key, _("«%(n)s»: un evento de cancelación solo puede estar en el borde de una transacción", n=name)
        elif kinds[key] == "endEvent" and etree.QName(container).localname != "transaction":
            yield key, _("«%(n)s»: un evento de fin de cancelación solo puede estar dentro de una transacción", n=name)
        elif kinds[key] not in ("boundaryEvent", "endEvent"):
            yield key, _("«%(n)s»: la cancelación solo puede ser un evento de fin dentro de una transacción o "
                         "un evento en su borde", n=name)


def _owner_name(node):
    """The name a process owner gave the element that holds `node` (or its id)."""
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return (node.get("name") or node.get("id")) if node is not None else ""


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
