"""DMN decision tables: the publish-time lint and the engine glue that keeps their evaluation budgeted.

A decision table is untrusted input like a diagram. SpiffWorkflow 3.2.0 (SpiffWorkflow/dmn) evaluates a rule
by building Python text from the table and asking the workflow's script engine to evaluate it:

- an input entry with `?` (outside quotes) becomes `… dmninputexpr …`, evaluated with the input expression's value
  as `dmninputexpr`;
- otherwise, when the entry parses as an expression, `(input) == (entry)`; when it does not (`> 5`, `in [...]`),
  the two texts are concatenated: `input entry`;
- an output entry is evaluated as it is; `-` or an empty entry matches anything.

The script engine is the project's (app/workflow/evaluator.py), so every one of those texts goes through the
restricted interpreter within the run's budgets. The lint below builds the very same texts at publish time and
checks each with check_source, so a table that would be refused when a case reaches it is refused before it is
stored; sizes are capped (file, rules, columns, entry length) so even the text building stays small, and
BudgetedDMNEngine checks the run's deadline between the entries of a long table.
"""
import ast
import re
import time

from flask_babel import gettext as _
from lxml import etree
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from .evaluator import check_source
from .language.library import FUNCTIONS
from .language.limits import BudgetExceeded, DiagramCodeError, current_run
from .xmlsafe import UnsafeXML, parse_xml

MAX_DMN_BYTES = 1024 * 1024
MAX_RULES = 500
MAX_COLUMNS = 30  # inputs + outputs of a table
MAX_ENTRY_CHARS = 1000  # of one input expression or entry text
MAX_PLACEHOLDERS = 8  # `?` in one input entry (SpiffWorkflow rescans the rest of the entry for each)
HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")  # what SpiffWorkflow 3.2.0 evaluates as the DMN standard says
DMN_NAMESPACES = (  # the versions SpiffWorkflow ships schemas for
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
)
DMN_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,80}\.dmn$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_QUESTION = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')  # SpiffWorkflow's own substitution

__all__ = ["BudgetedDMNEngine", "called_decisions", "decision_id", "guard_specs", "input_names", "lint_decision",
           "lint_business_rule_tasks", "output_names", "read_dmn_dir", "used_decisions"]


# -- reading ---------------------------------------------------------------------------------------------------
def _root(text, name):
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > MAX_DMN_BYTES:
        raise UnsafeXML(_("%(n)s: la tabla de decisión supera %(mb)s MB", n=name, mb=MAX_DMN_BYTES // (1024 * 1024)))
    return parse_xml(data, name).getroot()


def _ns(root):
    return etree.QName(root).namespace


def _children(node, localname):
    return [child for child in node if isinstance(child.tag, str) and etree.QName(child).localname == localname]


def _text(node, localname="text"):
    found = _children(node, localname)
    return (found[0].text or "") if found else None


def decision_id(text, name="decision.dmn") -> str | None:
    """The id of the (only) decision of a DMN document, or None when it cannot be read."""
    try:
        root = _root(text, name)
    except UnsafeXML:
        return None
    decisions = _children(root, "decision")
    return decisions[0].get("id") if decisions else None


def called_decisions(bpmn_root) -> list[tuple[str, str | None]]:
    """(business rule task id, calledDecisionId) of every business rule task of a diagram."""
    result = []
    for task in bpmn_root.iter(f"{{{BPMN}}}businessRuleTask"):
        called = task.find(f".//{{{SPIFF}}}calledDecisionId")
        result.append((task.get("id"), (called.text or "").strip() if called is not None else None))
    return result


def used_decisions(files: dict[str, bytes], decisions: dict[str, str]) -> dict[str, str]:
    """The decision documents (name -> XML) that the business rule tasks of these diagrams call."""
    wanted = set()
    for name, data in files.items():
        try:
            wanted.update(d for _task, d in called_decisions(parse_xml(data, name).getroot()) if d)
        except UnsafeXML:
            continue
    chosen = {}
    for name, text in sorted(decisions.items()):  # one document per decision id: the first by name, as the lint
        chosen.setdefault(decision_id(text, name), (name, text))
    return dict(chosen[d] for d in sorted(wanted) if d in chosen)


def output_names(text, name="decision.dmn") -> set[str]:
    try:
        root = _root(text, name)
    except UnsafeXML:
        return set()
    return {o.get("name") for o in root.iter(f"{{{_ns(root)}}}output") if o.get("name")}


def input_names(text, name="decision.dmn") -> dict[str, str]:
    """Variables the input expressions read: name -> id of the input column that reads it."""
    try:
        root = _root(text, name)
    except UnsafeXML:
        return {}
    names = {}
    for column in root.iter(f"{{{_ns(root)}}}input"):
        expression = column.find(f"{{{_ns(root)}}}inputExpression")
        source = _text(expression) if expression is not None else None
        for variable in _loaded_names(source or ""):
            names.setdefault(variable, column.get("id"))
    return names


def _loaded_names(source):
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                  - bound - set(FUNCTIONS) - {"True", "False", "None"})


def read_dmn_dir(dmn_dir) -> dict[str, str]:
    """The .dmn seed files of a directory (workflows/dmn), by file name; a missing directory gives none."""
    from pathlib import Path

    folder = Path(dmn_dir)
    if not folder.is_dir():
        return {}
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.dmn"))}


# -- lint ------------------------------------------------------------------------------------------------------
def lint_decision(name, text) -> list[tuple[str | None, str]]:
    """Problems of one DMN document as (element id, Spanish message); empty when SIPROC can run it."""
    if not DMN_NAME.match(name or ""):
        return [(None, _("Nombre de archivo no válido: minúsculas, cifras, _ o -, terminado en .dmn."))]
    try:
        root = _root(text, name)
    except UnsafeXML as exc:
        return [(None, str(exc).split(": ", 1)[-1])]
    namespace = _ns(root)
    if etree.QName(root).localname != "definitions" or namespace not in DMN_NAMESPACES:
        return [(None, _("El archivo no es una tabla de decisión DMN (1.1, 1.2 o 1.3)."))]
    decisions = _children(root, "decision")
    if len(decisions) != 1:
        return [(None, _("El archivo debe contener exactamente una decisión (tiene %(n)s).", n=len(decisions)))]
    decision = decisions[0]
    label = decision.get("name") or decision.get("id")
    if not decision.get("id") or not IDENTIFIER.match(decision.get("id")):
        return [(decision.get("id"), _("La decisión «%(d)s» necesita un identificador de letras, cifras y _.",
                                       d=label))]
    tables = _children(decision, "decisionTable")
    others = [etree.QName(c).localname for c in decision if isinstance(c.tag, str)
              and etree.QName(c).localname not in ("decisionTable", "description", "extensionElements",
                                                   "informationRequirement", "authorityRequirement",
                                                   "knowledgeRequirement", "question", "allowedAnswers",
                                                   "variable")]
    if len(tables) != 1 or others:
        return [(decision.get("id"), _("La decisión «%(d)s» debe ser una tabla de decisión (SIPROC no ejecuta "
                                       "expresiones literales ni otros tipos de decisión).", d=label))]
    return list(_table_problems(tables[0], label)) or _engine_problems(name, root, decision.get("id"))


def _engine_problems(name, root, decision):
    """What SpiffWorkflow's own DMN parser says (the DMN schema, the entries it reads), in Spanish."""
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
    from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_dmn_xml(root, filename=name)
        parser.get_engine(decision, root)
    except ValidationException as exc:
        detail = str(exc).split("\n")[0][:300]
        return [(getattr(exc, "id", None) or None, _("La tabla no cumple el esquema DMN: %(e)s", e=detail))]
    except Exception as exc:  # SpiffWorkflow's parser raises plain errors on odd tables
        return [(None, _("SpiffWorkflow no pudo leer la tabla: %(e)s", e=str(exc)[:300]))]
    return []


def _table_problems(table, label):
    table_id = table.get("id")
    if not table_id:
        yield None, _("La tabla de la decisión «%(d)s» no tiene identificador.", d=label)
        return
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in HIT_POLICIES:
        yield table_id, _("La política de aciertos «%(p)s» de «%(d)s» no se puede ejecutar en SIPROC (admitidas: "
                          "%(ok)s).", p=policy, d=label, ok=", ".join(HIT_POLICIES))
    if table.get("aggregation"):
        yield table_id, _("La agregación «%(a)s» de «%(d)s» no se puede ejecutar en SIPROC: use COLLECT sin "
                          "agregación.", a=table.get("aggregation"), d=label)
    inputs, outputs, rules = _children(table, "input"), _children(table, "output"), _children(table, "rule")
    if len(inputs) + len(outputs) > MAX_COLUMNS:
        yield table_id, _("La tabla «%(d)s» tiene %(n)s columnas; el máximo es %(m)s.", d=label,
                          n=len(inputs) + len(outputs), m=MAX_COLUMNS)
        return
    if len(rules) > MAX_RULES:
        yield table_id, _("La tabla «%(d)s» tiene %(n)s reglas; el máximo es %(m)s.", d=label, n=len(rules),
                          m=MAX_RULES)
        return
    if not outputs:
        yield table_id, _("La tabla «%(d)s» no tiene ninguna columna de salida.", d=label)
    sources = []
    yield from _input_problems(inputs, sources)
    seen = set()
    for column in outputs:
        output = column.get("name") or ""
        if not IDENTIFIER.match(output):
            yield column.get("id"), _("La salida «%(c)s» necesita un nombre de variable (letras, cifras y _, sin "
                                      "puntos).", c=column.get("label") or column.get("id"))
        elif output in seen:
            yield column.get("id"), _("La salida «%(c)s» se repite.", c=output)
        seen.add(output)
    for row, rule in enumerate(rules, start=1):
        yield from _rule_problems(rule, row, sources, len(outputs), label)


def _input_problems(inputs, sources):
    """Each input column has an expression the interpreter accepts; `sources` receives them (raw text)."""
    for column in inputs:
        expression = _children(column, "inputExpression")
        source = (_text(expression[0]) or "") if expression else ""  # raw: SpiffWorkflow joins it as it is
        column_label = column.get("label") or column.get("id")
        if not source.strip():
            yield column.get("id"), _("La entrada «%(c)s» no indica su expresión (por ejemplo, el nombre de un "
                                      "campo).", c=column_label)
        elif len(source) > MAX_ENTRY_CHARS:
            yield column.get("id"), _("La expresión de la entrada «%(c)s» supera %(m)s caracteres.", c=column_label,
                                      m=MAX_ENTRY_CHARS)
            source = ""
        else:
            yield from ((column.get("id"), _("Entrada «%(c)s»: %(m)s", c=column_label, m=m))
                        for m in check_source(source, "eval"))
        sources.append(source)


def _rule_problems(rule, row, sources, outputs, label):
    rule_id = rule.get("id")
    if not rule_id:
        yield None, _("La regla %(r)s de «%(d)s» no tiene identificador.", r=row, d=label)
        return
    entries, results = _children(rule, "inputEntry"), _children(rule, "outputEntry")
    if len(entries) != len(sources) or len(results) != outputs:
        yield rule_id, _("La regla %(r)s tiene %(e)s celdas de entrada y %(s)s de salida; la tabla tiene %(ie)s y "
                         "%(os)s.", r=row, e=len(entries), s=len(results), ie=len(sources), os=outputs)
        return
    for entry, source in zip(entries, sources, strict=True):
        text = _text(entry)
        if text is None or text == "-" or not source.strip():  # what SpiffWorkflow treats as "any value"
            continue
        for message in _entry_problems(text, source):
            yield rule_id, _("Regla %(r)s, celda «%(t)s»: %(m)s", r=row, t=text[:80], m=message)
    for entry in results:
        text = _text(entry)
        if not text:  # SpiffWorkflow evaluates any other text, even blanks
            continue
        if len(text) > MAX_ENTRY_CHARS:
            yield rule_id, _("Regla %(r)s: una salida supera %(m)s caracteres.", r=row, m=MAX_ENTRY_CHARS)
            continue
        for message in check_source(text, "eval"):
            yield rule_id, _("Regla %(r)s, salida «%(t)s»: %(m)s", r=row, t=text[:80], m=message)


def _entry_problems(text, source) -> list[str]:
    """The texts SpiffWorkflow's DMNEngine.evaluate builds from this input entry, checked as it will run them."""
    if len(text) > MAX_ENTRY_CHARS:
        return [_("la celda supera %(m)s caracteres", m=MAX_ENTRY_CHARS)]
    if text.count("?") > MAX_PLACEHOLDERS:
        return [_("la celda usa «?» más de %(m)s veces", m=MAX_PLACEHOLDERS)]
    replaced = _QUESTION.sub("dmninputexpr", text)
    if "dmninputexpr" in replaced:
        return check_source(replaced, "eval")
    text = prepared_entry(text)
    return check_source(f"({source}) == ({text})" if _parses(text) else source + text, "eval")


def _parses(text):
    try:
        ast.parse(text)  # what SpiffWorkflow's PythonScriptEngine.validate does
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def prepared_entry(text):
    """The input entry as the engine passes it on: SpiffWorkflow joins the input expression and an entry that is
    not an expression without a space (`nivel` + `in ["a"]` = `nivelin ["a"]`, another variable), so such an entry
    gets a leading space. Entries that are expressions, or use `?`, are left as they are."""
    if text is None or _QUESTION.search(text) or _parses(text) or text.startswith((" ", "\t")):
        return text
    return " " + text


def lint_business_rule_tasks(root, forms: dict[str, str], decisions: dict[str, str]):
    """Problems (element id, message) of a diagram's business rule tasks: the decision each calls exists (by its
    id, spiffworkflow:calledDecisionId), SIPROC can run it, and the variables its inputs read are defined by the
    diagram: a field a form of a user task passes to the process, a variable a script assigns, or an output of
    another decision. (The order is not checked: a variable defined only after the task is an error of the run.)"""
    tasks = called_decisions(root)
    if not tasks:
        return
    index = {}
    for name, text in sorted(decisions.items()):
        index.setdefault(decision_id(text, name), name)
    defined, withheld = _defined_names(root, forms, decisions, index)
    for task_id, reference in tasks:
        task = next(t for t in root.iter(f"{{{BPMN}}}businessRuleTask") if t.get("id") == task_id)
        label = task.get("name") or task_id
        if not reference:
            yield task_id, _("La tarea de reglas de negocio «%(t)s» no indica su tabla de decisión "
                             "(calledDecisionId).", t=label)
            continue
        document = index.get(reference)
        if document is None:
            known = ", ".join(sorted(k for k in index if k)) or _("ninguna")
            yield task_id, _("La tabla de decisión «%(d)s» de la tarea «%(t)s» no existe (disponibles: %(k)s).",
                             d=reference, t=label, k=known)
            continue
        problems = lint_decision(document, decisions[document])
        for element, message in problems:
            where = f" ({element})" if element else ""
            yield task_id, f"{document}{where}: {message}"
        if problems:
            continue
        for variable, column in sorted(input_names(decisions[document], document).items()):
            if variable in defined:
                continue
            if variable in withheld:
                yield task_id, _("La entrada %(c)s de %(d)s lee «%(v)s», un campo del formulario %(f)s que no pasa "
                                 "al proceso: añádalo a «x-siproc-workflow-fields».", c=column, d=document,
                                 v=variable, f=withheld[variable])
            else:
                yield task_id, _("La entrada %(c)s de %(d)s lee «%(v)s», que ningún formulario, script ni tabla de "
                                 "decisión de este diagrama define.", c=column, d=document, v=variable)


def _defined_names(root, forms, decisions, index):
    """Variables the diagram defines (fields its forms pass to the process, script assignments, decision outputs),
    and the fields a form has but keeps from the process (x-siproc-workflow-fields) -> that form's name."""
    import json

    defined, withheld = set(), {}
    for prop in root.iter(f"{{{SPIFF}}}property"):
        if prop.get("name") != "formJsonSchemaFilename" or prop.get("value") not in forms:
            continue
        try:
            schema = json.loads(forms[prop.get("value")])
        except ValueError:
            continue
        fields = set((schema.get("properties") or {}) if isinstance(schema, dict) else ())
        passed = schema.get("x-siproc-workflow-fields") if isinstance(schema, dict) else None
        passed = set(passed) if isinstance(passed, list) else (set() if schema.get("x-siproc-action") else fields)
        defined |= passed & fields if fields else passed
        for name in fields - passed:
            withheld.setdefault(name, prop.get("value"))
    for tag in (f"{{{BPMN}}}script", f"{{{SPIFF}}}preScript", f"{{{SPIFF}}}postScript"):
        for element in root.iter(tag):
            try:
                tree = ast.parse(element.text or "")
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            defined |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for _task, reference in called_decisions(root):
        if reference in index:
            defined |= output_names(decisions[index[reference]], index[reference])
    return defined, {k: v for k, v in withheld.items() if k not in defined}


# -- engine glue -----------------------------------------------------------------------------------------------
class BudgetedDMNEngine(DMNEngine):
    """SpiffWorkflow's DMNEngine with the run's deadline checked before each cell, and the lint's size caps
    enforced again at run time (versions are linted at publish; this holds even for a spec stored earlier)."""

    def evaluate(self, input_expr, match_expr, task):
        run = current_run()
        if run is not None and time.perf_counter() > run.deadline:
            raise BudgetExceeded(_("la tabla de decisión superó el tiempo máximo del proceso (%(ms)s ms)",
                                   ms=int(run.limits.run_seconds * 1000)))
        if match_expr is not None and (len(match_expr) > MAX_ENTRY_CHARS or match_expr.count("?") > MAX_PLACEHOLDERS
                                       or len(input_expr or "") > MAX_ENTRY_CHARS):
            raise DiagramCodeError(_("una celda de la tabla de decisión es demasiado larga"))
        return super().evaluate(input_expr, prepared_entry(match_expr), task)


def guard_specs(*specs) -> None:
    """Give every business rule task of these workflow specs the budgeted DMN engine (after parse or restore)."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            engine = getattr(task_spec, "dmnEngine", None)
            if engine is not None and not isinstance(engine, BudgetedDMNEngine):
                task_spec.dmnEngine = BudgetedDMNEngine(engine.decision_table)
