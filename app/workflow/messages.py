"""SpiffWorkflow's English exception messages in Spanish, through Flask-Babel.

The parser (ValidationException) and the engine (WorkflowException, WorkflowTaskException) speak English;
process owners read Spanish. Each known message of SpiffWorkflow 3.2.0 is matched by a pattern (texts
taken from its source: bpmn/parser, spiff/parser, camunda/parser, dmn/parser, bpmn/specs, specs) and
rewritten; anything else keeps the engine's words behind a Spanish prefix, so nothing English reaches a
user without saying where it comes from. Element ids stay with the problem (the editor marks them).
"""
import re

from flask_babel import gettext as _

MAX_DETAIL = 300


def _plain(text) -> str:
    return str(text or "").strip().rstrip(".").strip()[:MAX_DETAIL]


# (pattern over the first line of the English message, Spanish template). Templates are lambdas so that
# gettext runs at call time (the request's locale) and Babel's extractor still sees every literal.
_PATTERNS = [
    (r"The process '(?P<p>[^']*)' was not found\. Did you mean one of the following: (?P<o>.*?)\??$",
     lambda m: _("El proceso «%(p)s» no existe. ¿Quiso decir: %(o)s?", p=m["p"], o=m["o"])
     if m["o"].strip() else _("El proceso «%(p)s» no existe.", p=m["p"])),
    (r"The (?:called process|subprocess) '(?P<p>[^']*)' was not found",
     lambda m: _("El proceso llamado «%(p)s» no existe.", p=m["p"])),
    (r"A multiinstance task must specify a cardinality or a loop input data reference",
     lambda m: _("Una tarea multiinstancia debe indicar una cardinalidad (loopCardinality) o una colección de "
                 "entrada (loopDataInputRef).")),
    (r"A multiinstance task must specify exactly one of cardinality or loop input data reference",
     lambda m: _("Una tarea multiinstancia debe indicar solo una de las dos: la cardinalidad (loopCardinality) "
                 "o la colección de entrada (loopDataInputRef).")),
    (r"A multiinstance task must specify a cardinality or a collection",
     lambda m: _("Una tarea multiinstancia debe indicar una cardinalidad o una colección.")),
    (r"The loop (?P<d>input|output) data reference is missing from the IO specification",
     lambda m: _("La referencia de datos de %(d)s de la tarea multiinstancia no está en su especificación de "
                 "entradas y salidas (ioSpecification).", d=_("entrada") if m["d"] == "input" else _("salida"))),
    (r"A loopMaximum or loopCondition must be specified for Loop Tasks",
     lambda m: _("Una tarea en bucle debe indicar un máximo (loopMaximum) o una condición (loopCondition).")),
    (r"Sequential ordering for ad hoc subprocesses not supported",
     lambda m: _("El orden secuencial de los subprocesos ad hoc no está soportado.")),
    (r"Ad hoc subprocesses may not contain start or end events",
     lambda m: _("Un subproceso ad hoc no puede contener eventos de inicio ni de fin.")),
    (r"Cancel Events may only be used with transactions",
     lambda m: _("Los eventos de cancelación solo pueden usarse en transacciones.")),
    (r"Multiple outgoing flows are not supported for tasks of type",
     lambda m: _("Este tipo de tarea no admite varios flujos de salida.")),
    (r"When looking for a task spec, we found two items",
     lambda m: _("Un flujo de salida apunta a un elemento que no se encuentra o que está repetido.")),
    (r'No DMN Diagram available with id "(?P<d>[^"]*)", Available DMN ids are: (?P<o>.*)',
     lambda m: _("La tabla de decisión «%(d)s» no existe (tablas disponibles: %(o)s).", d=m["d"],
                 o=m["o"].strip("[] ") or _("ninguna"))),
    (r"No start event found",
     lambda m: _("El proceso no tiene evento de inicio.")),
    (r"Process (?P<p>\S+) is not executable",
     lambda m: _("El proceso «%(p)s» no es ejecutable (isExecutable=\"false\").", p=m["p"])),
    (r"Duplicate process ID: (?P<p>.+)",
     lambda m: _("El identificador de proceso «%(p)s» está repetido.", p=m["p"])),
    (r"There is no support implemented for this task type",
     lambda m: _("Este tipo de elemento no está soportado por el motor de procesos.")),
    (r"Non-default exclusive outgoing sequence flow without condition",
     lambda m: _("Un flujo de salida de una compuerta exclusiva no tiene condición y no es el flujo por defecto.")),
    (r"Exactly one start event is required in a SubWorkflow Task; found (?P<n>\d+)",
     lambda m: _("Un subproceso debe tener exactamente un evento de inicio; tiene %(n)s.", n=m["n"])),
    (r"A SubWorkflow Must contain an End event",
     lambda m: _("Un subproceso debe tener un evento de fin.")),
    (r'No "calledElement" attribute for Call Activity',
     lambda m: _("La actividad de llamada no indica el proceso que llama (calledElement).")),
    (r"Invalid Script Task\.\s+No Script Provided",
     lambda m: _("La tarea de script no tiene script.")),
    (r"A Service Task must have an operator",
     lambda m: _("La tarea de servicio no indica su conector (operador).")),
    (r"Expected an? (?P<k>Message|Signal|Error|Escalation) node",
     lambda m: _("El evento hace referencia a un elemento «%(k)s» que no existe.", k=m["k"])),
    (r"Conditional event definition with missing condition",
     lambda m: _("El evento condicional no tiene condición.")),
    (r"Unknown Time Specification",
     lambda m: _("El temporizador no indica fecha, duración ni ciclo.")),
    (r"Time Specification Error\.?\s*(?P<d>.*)",
     lambda m: _("El temporizador no es válido: %(d)s", d=_plain(m["d"]))),
    (r"Cannot resolve data(?P<d>Input|Output)Association (?P<n>.*)",
     lambda m: _("No se encuentra el dato «%(n)s» de una asociación de %(d)s.", n=_plain(m["n"]),
                 d=_("entrada") if m["d"] == "Input" else _("salida"))),
    (r"Could not find messageRef from message event definition: (?P<n>.*)",
     lambda m: _("No se encuentra el mensaje «%(n)s» del evento.", n=_plain(m["n"]))),
    (r"(?P<k>Message|Signal|Error|Escalation|Correlation|Data Store) identifier is missing from bpmn xml",
     lambda m: _("Un elemento «%(k)s» del diagrama no tiene identificador.", k=m["k"])),
    (r"Data Store name is missing from bpmn xml",
     lambda m: _("Un almacén de datos del diagrama no tiene nombre.")),
    (r"Data Store with name (?P<n>.*) has no implementation",
     lambda m: _("El almacén de datos «%(n)s» no existe en este sistema.", n=_plain(m["n"]))),
    (r"Correlation is missing correlation property retrieval expressions: (?P<n>.*)",
     lambda m: _("La correlación «%(n)s» no tiene expresiones para obtener su valor.", n=_plain(m["n"]))),
    (r"Message identifier is missing from correlation property: (?P<n>.*)",
     lambda m: _("Falta el mensaje en la propiedad de correlación «%(n)s».", n=_plain(m["n"]))),
    (r"No decisions found",
     lambda m: _("La tabla de decisión (DMN) no contiene ninguna decisión.")),
    (r"Multiple decision tables are not current supported",
     lambda m: _("Un archivo DMN con varias tablas de decisión no está soportado: use un archivo por tabla.")),
    (r"Unknown type in decision table: (?P<n>.*)",
     lambda m: _("Elemento desconocido en la tabla de decisión: %(n)s.", n=_plain(m["n"]))),
    (r"Malformed Output Expression '(?P<e>.*)'",
     lambda m: _("La expresión de salida «%(e)s» de la tabla de decisión no es válida.", e=_plain(m["e"]))),
    (r"No conditions satisfied (?:on gateway|for (?P<n>.*))",
     lambda m: _("Ninguna condición de la compuerta se cumple y no tiene flujo por defecto.")),
    (r"A default output is required",
     lambda m: _("La compuerta necesita un flujo por defecto.")),
    (r"This process is not waiting for (?P<n>.*)",
     lambda m: _("El proceso no espera el evento «%(n)s».", n=_plain(m["n"]))),
    (r"Error evaluating expression '(?P<e>.*)'",
     lambda m: _("Error al evaluar la expresión «%(e)s».", e=_plain(m["e"]))),
    (r"(?:Split at|Split task|Join with) .* (?:was|which was) not reached",
     lambda m: _("Una unión del proceso espera una bifurcación que no se alcanzó.")),
    (r"Element '(?P<e>[^']*)'(?:, attribute '(?P<a>[^']*)')?: (?P<d>.*)",
     lambda m: _("El elemento «%(e)s» no cumple el esquema BPMN 2.0: %(d)s", e=_short_tag(m["e"]),
                 d=_schema_detail(m["d"]))),
]
# lxml's XML Schema messages (the parser validates every diagram against BPMN 2.0's schema)
_SCHEMA_DETAILS = [
    (r"This element is not expected\.(?: Expected is (?:one of )?\(\s*(?P<x>.*?)\s*\)?\.?)?$",
     lambda m: _("este elemento no se admite en esta posición") + (
         _(" (se esperaba: %(x)s)", x=_names(m["x"])) if m["x"] else "")),
    (r"Missing child element\(s\)\.(?: Expected is (?:one of )?\(\s*(?P<x>.*?)\s*\)?\.?)?$",
     lambda m: _("faltan elementos dentro de este") + (_(" (se esperaba: %(x)s)", x=_names(m["x"])) if m["x"] else "")),
    (r"The attribute '(?P<a>[^']*)' is not allowed",
     lambda m: _("el atributo «%(a)s» no está permitido", a=_short_tag(m["a"]))),
    (r"The attribute '(?P<a>[^']*)' is required but missing",
     lambda m: _("falta el atributo obligatorio «%(a)s»", a=_short_tag(m["a"]))),
    (r"'(?P<v>[^']*)' is not a valid value of the atomic type '(?P<t>[^']*)'",
     lambda m: _("«%(v)s» no es un valor válido (tipo %(t)s)", v=_plain(m["v"]), t=m["t"])),
]
_SCHEMA_COMPILED = [(re.compile(pattern), template) for pattern, template in _SCHEMA_DETAILS]


def _schema_detail(text: str) -> str:
    for pattern, template in _SCHEMA_COMPILED:
        match = pattern.match(text.strip())
        if match:
            return template(match)
    return _plain(text)


def _names(text: str) -> str:
    """«{ns}documentation, {ns}extensionElements» → «documentation, extensionElements» (at most 8)."""
    names = [_short_tag(n.strip()) for n in (text or "").split(",") if n.strip()]
    return ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
_COMPILED = [(re.compile(pattern), template) for pattern, template in _PATTERNS]


def _short_tag(tag: str) -> str:
    return re.sub(r"^\{[^}]*\}", "", tag or "")


def english_text(exc) -> str:
    """The engine's own message: its first argument (str() of SpiffWorkflow exceptions appends notes)."""
    text = exc.args[0] if getattr(exc, "args", None) else str(exc)
    return str(text).split("\n")[0].strip()


def translate(text: str) -> str:
    """Spanish for one English SpiffWorkflow message; unknown ones keep their words after a Spanish prefix."""
    text = (text or "").strip()
    for pattern, template in _COMPILED:
        match = pattern.match(text)
        if match:
            return template(match)
    return _("El motor de procesos rechazó el diagrama: %(m)s", m=_plain(text) or "?")


def validation_message(exc) -> str:
    """A ValidationException as the editor shows it: Spanish, with its line when the parser knew it."""
    message = translate(english_text(exc))
    line = getattr(exc, "line_number", None)
    return _("%(m)s (línea %(l)s)", m=message, l=line) if line else message


def validation_element(exc, parser=None) -> str | None:
    """The element id of a ValidationException; for a missing called process, the call activity naming it."""
    element = getattr(exc, "id", None) or None
    if element or parser is None:
        return element
    match = re.match(r"The process '([^']*)' was not found", english_text(exc))
    if match:
        return _calling_element(parser, match.group(1))
    return None


def element_at_line(tree, exc) -> str | None:
    """The id of the element a schema error's line points at (or of its nearest ancestor with an id)."""
    line = getattr(exc, "line_number", None)
    if tree is None or not isinstance(line, int) or line <= 0:
        return None
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    found = None
    for element in root.iter():
        if not isinstance(element.tag, str) or element.sourceline is None or element.sourceline > line:
            continue
        found = element  # the last element opened on or before that line
    while found is not None and not found.get("id"):
        found = found.getparent()
    return found.get("id") if found is not None and found is not root else None


def _calling_element(parser, called) -> str | None:
    for process_parser in getattr(parser, "process_parsers", {}).values():
        for node in process_parser.node.iter():
            if node.get("calledElement") == called and node.get("id"):
                return node.get("id")
    return None


def engine_message(exc, task_name=None, element=None, message=None) -> str:
    """A run-time refusal: where (task name and element id) and why, in Spanish. `message` is a Spanish
    message already found (the interpreter's); otherwise SpiffWorkflow's own text is translated."""
    where = ""
    if task_name and element and task_name != element:
        where = _(" en «%(t)s» (%(e)s)", t=task_name, e=element)
    elif task_name or element:
        where = _(" en «%(t)s»", t=task_name or element)
    if message is None:
        message = translate(english_text(exc)) if _is_spiff(exc) else _plain(exc)
    return _("error del diagrama%(w)s: %(m)s", w=where, m=message)


def _is_spiff(exc) -> bool:
    return any(cls.__module__.startswith("SpiffWorkflow") for cls in type(exc).__mro__)
