"""Drafts, validation, publication and version differences of diagrams; form documents.

Files in workflows/bpmn and forms/ are seeds: `flask siproc deploy` publishes changed files; the
editor publishes from drafts. Either way a publication is deploy_files() over every process's latest
diagram (call activities cross files) with the form documents of the database.
"""
import json
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from lxml import etree

from ..core.errors import DomainError
from ..extensions import db
from ..formschema import FormSchemaError, compile_form, load_form, read_forms_dir
from ..formschema.loader import load_ui
from ..workflow import messages as engine_messages
from ..workflow.deploy import deploy_files
from ..workflow.engine import DiagramError, get_engine
from ..workflow.lint import NS, lint_diagram
from ..workflow.models import ProcessVersion
from ..workflow.xmlsafe import UnsafeXML, parse_xml
from .models import UI_SUFFIXES, FormDocument, ProcessDraft

MAX_UPLOAD = 5 * 1024 * 1024
KEY = re.compile(r"^[a-z][a-z0-9_]{2,60}$")
# Form file names: the project's own (registro_caso.json, registro_caso_ui.json) and SpiffArena's
# (registro-schema.json, registro-uischema.json): letters, digits, _ - and inner dots; no path separator, no
# leading dot, no "..", at most 120 characters, ending .json.
FORM_NAME = re.compile(r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.-]{0,114}\.json$")
TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="Collaboration_{key}">
    <bpmn:participant id="Participant_{key}" name="{name}" processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name="{name}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_{key}">
      <bpmn:lane id="Lane_oficial" name="Oficial consular">
        <bpmn:flowNodeRef>StartEvent_{key}</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_primera</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndEvent_{key}</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_{key}" name="Inicio"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_primera" name="Registro del caso">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="registro_caso.json" />
          <spiffworkflow:property name="formUiSchemaFilename" value="registro_caso_ui.json" />
          <spiffworkflow:property name="caseStatus" value="registrado" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_{key}" name="Fin"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_{key}" targetRef="Task_primera" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_primera" targetRef="EndEvent_{key}" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_{key}">
    <bpmndi:BPMNPlane id="BPMNPlane_{key}" bpmnElement="Collaboration_{key}">
      <bpmndi:BPMNShape id="Participant_{key}_di" bpmnElement="Participant_{key}" isHorizontal="true">
        <dc:Bounds x="120" y="60" width="600" height="250" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_oficial_di" bpmnElement="Lane_oficial" isHorizontal="true">
        <dc:Bounds x="150" y="60" width="570" height="250" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="StartEvent_{key}_di" bpmnElement="StartEvent_{key}">
        <dc:Bounds x="212" y="167" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_primera_di" bpmnElement="Task_primera">
        <dc:Bounds x="320" y="145" width="120" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="EndEvent_{key}_di" bpmnElement="EndEvent_{key}">
        <dc:Bounds x="532" y="167" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1">
        <di:waypoint x="248" y="185" /><di:waypoint x="320" y="185" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2">
        <di:waypoint x="440" y="185" /><di:waypoint x="532" y="185" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


@dataclass
class Problem:
    file: str | None
    element: str | None
    message: str
    kind: str | None = None  # "not_executable": publishing's headline says so

    def as_dict(self):
        return {"file": self.file, "element": self.element, "message": self.message}


class Refused(DomainError):
    """The diagram cannot even be stored (unsafe or malformed XML, a process id that is not its own)."""

    status_code = 422

    def __init__(self, problems):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


# -- forms ---------------------------------------------------------------------------------------------
NEW_FORM = """{
  "title": "Nuevo formulario",
  "type": "object",
  "required": ["observaciones"],
  "properties": {
    "observaciones": {"type": "string", "title": "Observaciones", "minLength": 3, "maxLength": 2000}
  }
}
"""

NEW_UI = "{}\n"  # a UI schema starts empty: the form's own order and widgets


def create_form(name, user, now) -> FormDocument:
    """A new form document from the starting template; refuses taken and invalid names."""
    name = (name or "").strip()
    if not name.endswith(".json"):
        name += ".json"
    if db.session.get(FormDocument, name) is not None:
        raise DomainError(_("Ya existe el formulario %(n)s.", n=name))
    text = NEW_UI if valid_form_name(name) and is_ui_name(name) else NEW_FORM
    problems = check_form(name, text)
    if problems:
        raise DomainError(" ".join(problems))
    document = FormDocument(name=name, text=text, updated_by_id=user.id, updated_at=now)
    db.session.add(document)
    db.session.flush()
    return document


def seed_forms(forms_dir) -> int:
    """Insert form files that the database does not have yet; edited documents are kept."""
    known = set(db.session.scalars(db.select(FormDocument.name)))
    added = 0
    for name, text in read_forms_dir(forms_dir).items():
        if name not in known:
            db.session.add(FormDocument(name=name, text=text))
            added += 1
    db.session.flush()
    return added


def forms() -> dict[str, str]:
    return dict(db.session.execute(db.select(FormDocument.name, FormDocument.text)).all())


def valid_form_name(name) -> bool:
    return isinstance(name, str) and bool(FORM_NAME.match(name))


def task_form_pairs() -> dict[str, str]:
    """formJsonSchemaFilename -> formUiSchemaFilename of the user tasks of the latest versions (cached specs)."""
    engine, pairs = get_engine(), {}
    for version in latest_versions():
        for info in engine.user_tasks(version.cache_key, lambda v=version: v.spec_json):
            if info.form and info.ui_form:
                pairs.setdefault(info.form, info.ui_form)
    return pairs


def is_ui_name(name, pairs=None) -> bool:
    """A UI schema: named as some task's formUiSchemaFilename, or by convention *_ui.json / *-uischema.json."""
    return (name or "").endswith(UI_SUFFIXES) or name in (pairs if pairs is not None else task_form_pairs()).values()


def ui_name_for(schema_name, documents, pairs=None) -> str:
    """The UI schema that goes with a form: the tasks' pairing, else x_ui.json or x-uischema.json (for x.json or
    SpiffArena's x-schema.json), the first that exists."""
    pairs = pairs if pairs is not None else task_form_pairs()
    if schema_name in pairs:
        return pairs[schema_name]
    base = schema_name[:-len("-schema.json")] if schema_name.endswith("-schema.json") else schema_name[:-5]
    candidates = [base + "_ui.json", base + "-uischema.json"]
    if schema_name.endswith("-schema.json"):
        candidates.reverse()
    return next((c for c in candidates if c in documents), candidates[0])


def schema_name_for(ui_name, documents, pairs=None) -> str:
    """The form a UI schema belongs to (the inverse of ui_name_for)."""
    pairs = pairs if pairs is not None else task_form_pairs()
    for schema, ui in pairs.items():
        if ui == ui_name:
            return schema
    if ui_name.endswith("-uischema.json"):
        base = ui_name[:-len("-uischema.json")]
        candidates = [base + "-schema.json", base + ".json"]
    else:
        base = ui_name[:-len("_ui.json")] if ui_name.endswith("_ui.json") else ui_name[:-5]
        candidates = [base + ".json", base + "-schema.json"]
    return next((c for c in candidates if c in documents), candidates[0])


def check_form(name, text, documents=None, pairs=None) -> list[str]:
    """Problems of a form document: valid JSON Schema the compiler supports, compiled with its UI schema; a UI
    schema is compiled with the form it presents (a widget its field cannot have is found here, for every caller:
    the editor, model imports, and the republication that saving triggers)."""
    if not valid_form_name(name):
        return [_("Nombre de archivo no válido: letras, cifras, _, - o . (sin empezar por punto ni «..»), hasta "
                  "120 caracteres, terminado en .json (p. ej. registro.json, registro_ui.json, "
                  "registro-schema.json, registro-uischema.json).")]
    pairs = pairs if pairs is not None else task_form_pairs()
    try:
        if is_ui_name(name, pairs):
            ui = load_ui(name, text)
            documents = documents if documents is not None else forms()
            schema_name = schema_name_for(name, documents, pairs)
            if schema_name in documents:
                compile_form(schema_name, load_form(schema_name, documents[schema_name]), ui)
        else:
            documents = documents if documents is not None else forms()
            ui_name = ui_name_for(name, documents, pairs)
            compile_form(name, load_form(name, text), load_ui(ui_name, documents.get(ui_name)))
    except FormSchemaError as exc:
        return [str(exc)]
    return []


def save_form(name, text, user, now) -> list[int]:
    """Store a valid form document and republish the latest versions that use it; returns their new
    version numbers. Raises Refused when the document is not valid."""
    problems = check_form(name, text)
    if problems:
        raise Refused([Problem(name, None, p) for p in problems])
    document = db.session.get(FormDocument, name)
    if document is None:
        document = FormDocument(name=name, text=text)
        db.session.add(document)
    document.text, document.updated_by_id, document.updated_at = text, user.id, now
    db.session.flush()
    using = [v for v in latest_versions() if name in json.loads(v.forms_json)]
    if not using:
        return []
    results = deploy_files(latest_files(), forms(), comment=_("Formulario %(n)s modificado", n=name), author=user,
                           decisions=_decisions())
    return [r.version for r in results if r.created]


# -- diagrams ------------------------------------------------------------------------------------------
def latest_versions() -> list[ProcessVersion]:
    newest = (db.select(ProcessVersion.process_key, db.func.max(ProcessVersion.version).label("version"))
              .group_by(ProcessVersion.process_key).subquery())
    return list(db.session.scalars(db.select(ProcessVersion).join(
        newest, (ProcessVersion.process_key == newest.c.process_key) & (ProcessVersion.version == newest.c.version))
        .order_by(ProcessVersion.name)))


def latest_files() -> dict[str, bytes]:
    """The latest published diagram of every process, by file name."""
    return {v.source_file: v.bpmn_xml.encode("utf-8") for v in latest_versions()}


def draft_for(process_key) -> ProcessDraft | None:
    """The process's draft; until someone saves one, an unsaved copy of its latest version (reading writes nothing)."""
    draft = db.session.scalar(db.select(ProcessDraft).where(ProcessDraft.process_key == process_key))
    if draft is None:
        version = next((v for v in latest_versions() if v.process_key == process_key), None)
        if version is None:
            return None
        draft = ProcessDraft(process_key=process_key, filename=version.source_file, bpmn_xml=version.bpmn_xml)
    return draft


def _stored_draft(process_key) -> ProcessDraft | None:
    """The draft row to change: the stored one, or one added now from the latest version."""
    draft = draft_for(process_key)
    if draft is not None and draft.id is None:
        db.session.add(draft)
        db.session.flush()
    return draft


def validate(process_key, filename, xml) -> list[Problem]:
    """Everything publication checks, without storing anything. Raises Refused for unusable XML."""
    processes = _process_ids(filename, xml)
    if process_key not in processes:
        raise Refused([Problem(filename, None, _("El diagrama no contiene el proceso «%(k)s».", k=process_key))])
    owners = {v.process_key: v.source_file for v in latest_versions()}
    clashes = [key for key in processes if key in owners and owners[key] != filename]
    if clashes:
        raise Refused([Problem(filename, None, _("El identificador de proceso «%(k)s» ya lo usa otro diagrama "
                                                 "(%(f)s).", k=key, f=owners[key])) for key in clashes])
    files = {**latest_files(), filename: xml.encode("utf-8")}
    documents = forms()
    tables = _decisions()
    problems = [Problem(f, e, m) for f, e, m in lint_diagram(filename, files[filename], documents, tables)]
    if process_key in _non_executable(filename, xml):  # SpiffWorkflow skips it: it would publish nothing
        problems.insert(0, Problem(filename, process_key, _(
            "El proceso «%(k)s» no es ejecutable (isExecutable=\"false\"): el motor no lo ejecuta y no se "
            "publicaría. Márquelo como ejecutable (isExecutable=\"true\").", k=process_key), "not_executable"))
    try:
        get_engine().parse(files, tables)
    except DiagramError as exc:
        problems.extend(Problem(f, e, m) for f, e, m in exc.problems)
    except Exception as exc:
        # anything else the engine raised: its message in Spanish (or behind a Spanish prefix), with its element
        problems.append(Problem(filename, engine_messages.validation_element(exc),
                                engine_messages.validation_message(exc)))
    return _unique(problems)


def save_draft(process_key, xml, user, now) -> tuple[ProcessDraft, list[Problem]]:
    """Store the draft (even with problems, so no work is lost); unusable XML is refused."""
    draft = _stored_draft(process_key)
    if draft is None:
        raise Refused([Problem(None, None, _("El proceso no existe."))])
    problems = validate(process_key, draft.filename, xml)
    draft.bpmn_xml, draft.updated_by_id, draft.updated_at = xml, user.id, now
    return draft, problems


def publish(process_key, xml, comment, user, now):
    """Save the draft and, when it has no problem, publish it: new versions of it (and of its callers)."""
    draft, problems = save_draft(process_key, xml, user, now)
    if problems:
        return None, problems
    comment = (comment or "").strip()[:500] or None
    results = deploy_files({**latest_files(), draft.filename: xml.encode("utf-8")}, forms(), decisions=_decisions(),
                           comment=comment,
                           author=user)
    mine = next((r for r in results if r.process_key == process_key), None)
    return mine, []


def create_process(process_key, name, user, now) -> ProcessDraft:
    """A new process from the template: start → «Registro del caso» → end, ready to be drawn on."""
    process_key = (process_key or "").strip()
    if not KEY.match(process_key):
        raise Refused([Problem(None, None, _("El identificador debe empezar por una letra y tener 3 a 61 "
                                             "minúsculas, cifras o _."))])
    name = (name or "").strip()[:200]
    if not name:
        raise Refused([Problem(None, None, _("Escriba el nombre del proceso."))])
    taken = {v.process_key for v in latest_versions()} | set(db.session.scalars(db.select(ProcessDraft.process_key)))
    if process_key in taken:
        raise Refused([Problem(None, None, _("Ya existe un proceso «%(k)s».", k=process_key))])
    xml = TEMPLATE.format(key=process_key, name=_escape(name))
    draft = ProcessDraft(process_key=process_key, filename=f"{process_key}.bpmn", bpmn_xml=xml,
                         updated_by_id=user.id, updated_at=now)
    db.session.add(draft)
    db.session.flush()
    return draft


def upload(data: bytes, filename, user, now, process_key=None) -> ProcessDraft:
    """A .bpmn file becomes a draft: of `process_key` (replacing its draft) or of the new process it holds."""
    filename = (filename or "").rsplit("/", 1)[-1] or "diagrama.bpmn"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused([Problem(filename, None, _("El archivo no está en UTF-8."))]) from exc
    processes = _process_ids(filename, text)
    if process_key is None:
        existing = {v.process_key for v in latest_versions()} | set(
            db.session.scalars(db.select(ProcessDraft.process_key)))
        clashes = [key for key in processes if key in existing]
        if clashes:
            raise Refused([Problem(filename, None, _("El identificador de proceso «%(k)s» ya existe: abra ese "
                                                     "proceso y suba el archivo allí.", k=clashes[0]))])
        process_key = processes[0]
        draft = ProcessDraft(process_key=process_key, filename=f"{process_key}.bpmn", bpmn_xml=text)
        db.session.add(draft)
    else:
        draft = draft_for(process_key) if process_key in processes else None
        if draft is None:
            raise Refused([Problem(filename, None, _("El archivo no contiene el proceso «%(k)s».", k=process_key))])
        draft = _stored_draft(process_key)
        draft.bpmn_xml = text
    draft.updated_by_id, draft.updated_at = user.id, now
    db.session.flush()
    return draft


def _process_ids(filename, xml) -> list[str]:
    """Process ids of a diagram, read with the hardened parser (refuses DTDs, entities, huge files)."""
    try:
        root = parse_xml(xml.encode("utf-8") if isinstance(xml, str) else xml, filename).getroot()
    except UnsafeXML as exc:
        raise Refused([Problem(filename, None, str(exc).split(": ", 1)[-1])]) from exc
    if etree.QName(root).localname != "definitions" or etree.QName(root).namespace != NS["bpmn"]:
        raise Refused([Problem(filename, None, _("El archivo no es un diagrama BPMN 2.0."))])
    ids = [p.get("id") for p in root.iterfind("bpmn:process", NS) if p.get("id")]
    if not ids:
        raise Refused([Problem(filename, None, _("El diagrama no contiene ningún proceso."))])
    return ids


def _non_executable(filename, xml) -> set[str]:
    """Ids of the processes marked isExecutable="false" (missing means executable, as in SpiffWorkflow)."""
    root = parse_xml(xml.encode("utf-8") if isinstance(xml, str) else xml, filename).getroot()
    return {p.get("id") for p in root.iterfind("bpmn:process", NS) if p.get("isExecutable", "true") != "true"}


def unchanged_version(result) -> ProcessVersion | None:
    """The stored version a publication that created nothing is identical to."""
    if result is None or result.created:
        return None
    return db.session.scalar(db.select(ProcessVersion).where(ProcessVersion.process_key == result.process_key,
                                                             ProcessVersion.version == result.version))


def _escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))


def _unique(problems):
    seen, result = set(), []
    for problem in problems:
        key = (problem.element, problem.message)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


# -- differences ---------------------------------------------------------------------------------------
@dataclass
class VersionDiff:
    added: list[tuple[str, str]]
    removed: list[tuple[str, str]]
    renamed: list[tuple[str, str, str]]
    forms_changed: list[str]
    forms_added: list[str]
    forms_removed: list[str]
    decisions_changed: list[str] = field(default_factory=list)
    decisions_added: list[str] = field(default_factory=list)
    decisions_removed: list[str] = field(default_factory=list)


def diff(older: ProcessVersion, newer: ProcessVersion) -> VersionDiff:
    """User tasks added, removed and renamed, and forms and decision tables changed, between two versions."""
    engine = get_engine()
    before = {t.bpmn_id: t.name for t in engine.user_tasks(older.cache_key, lambda: older.spec_json)}
    after = {t.bpmn_id: t.name for t in engine.user_tasks(newer.cache_key, lambda: newer.spec_json)}
    old_forms, new_forms = json.loads(older.forms_json), json.loads(newer.forms_json)
    old_tables, new_tables = json.loads(older.decisions_json or "{}"), json.loads(newer.decisions_json or "{}")
    return VersionDiff(
        added=sorted((k, after[k]) for k in after.keys() - before.keys()),
        removed=sorted((k, before[k]) for k in before.keys() - after.keys()),
        renamed=sorted((k, before[k], after[k]) for k in before.keys() & after.keys() if before[k] != after[k]),
        forms_changed=sorted(n for n in old_forms.keys() & new_forms.keys() if old_forms[n] != new_forms[n]),
        forms_added=sorted(new_forms.keys() - old_forms.keys()),
        forms_removed=sorted(old_forms.keys() - new_forms.keys()),
        decisions_changed=sorted(n for n in old_tables.keys() & new_tables.keys() if old_tables[n] != new_tables[n]),
        decisions_added=sorted(new_tables.keys() - old_tables.keys()),
        decisions_removed=sorted(old_tables.keys() - new_tables.keys()),
    )


def deploy_from_files(bpmn_dir, forms_dir, author=None):
    """`flask siproc deploy`: seed missing form documents, then publish the diagram files whose text no
    version has had yet. A file already published once never overrides what the editor published after
    it; only a file that changed in the repository does."""
    from pathlib import Path

    seed_forms(forms_dir)
    from .decisions import seed_decisions

    seed_decisions(Path(bpmn_dir).parent / "dmn")
    files = {p.name: p.read_bytes() for p in sorted(Path(bpmn_dir).glob("*.bpmn"))}
    published = set(db.session.execute(db.select(ProcessVersion.source_file, ProcessVersion.bpmn_xml)).all())
    changed = {name: data for name, data in files.items() if (name, data.decode("utf-8")) not in published}
    return deploy_files({**latest_files(), **changed}, forms(), author=author, decisions=_decisions())


def _decisions() -> dict[str, str]:
    """The DMN decision documents of the database (app/modeler/decisions.py; imported here, it imports us)."""
    from .decisions import decisions

    return decisions()


