"""SpiffArena process-model folders in and out: a zip (or, from the command line, a folder) holding
process_model.json, the .bpmn, its form files (x-schema.json / x-uischema.json, or ours x.json / x_ui.json)
and its .dmn decision tables.

Import is all-or-nothing: the archive is read under budgets (compressed and uncompressed size, number of
entries, compression ratio, no absolute paths, no "..", no links, only .bpmn .dmn .json), every file is
checked, and only when nothing blocks does one transaction store the form documents, the decisions and the
draft; the draft's own validation problems are listed, as when a draft is saved. Export writes the same
layout back (import(export(x)) gives the same files).
"""
import io
import json
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from flask_babel import gettext as _
from lxml import etree

from ..extensions import db
from ..workflow.lint import NS
from ..workflow.models import ProcessVersion
from ..workflow.xmlsafe import UnsafeXML, parse_xml
from . import services
from .models import FormDocument, ProcessDraft
from .services import Problem, Refused

MAX_COMPRESSED = 5 * 1024 * 1024
MAX_UNCOMPRESSED = 20 * 1024 * 1024
MAX_ENTRIES = 200
MAX_RATIO = 100  # uncompressed / compressed, for members big enough to matter
RATIO_FLOOR = 64 * 1024
MAX_MODEL_JSON = 64 * 1024
MODEL_JSON = "process_model.json"
KINDS = (".bpmn", ".dmn", ".json")
SPIFF_IGNORED = ("-exampledata.json",)  # SpiffArena's form builder examples: not forms
FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # exports are byte-for-byte reproducible


@dataclass
class Archive:
    files: dict[str, bytes]
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    process_key: str
    display_name: str
    filename: str
    forms_added: list[str]
    forms_unchanged: list[str]
    decisions_added: list[str]
    problems: list[Problem]  # of the draft (validate): listed, the draft is kept
    notes: list[str]
    replaced_draft: bool = False


class ImportRefused(Refused):
    """Nothing was stored; every problem found and the notes on skipped files."""

    def __init__(self, problems, notes=()):
        super().__init__(problems)
        self.notes = list(notes)


# -- reading -------------------------------------------------------------------------------------------
def read_zip(data: bytes) -> Archive:
    """The files of an uploaded zip, read member by member under the budgets; raises ImportRefused."""
    if len(data) > MAX_COMPRESSED:
        raise ImportRefused([Problem(None, None, _("El archivo supera %(n)d MB.", n=MAX_COMPRESSED // 2 ** 20))])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise ImportRefused([Problem(None, None, _("El archivo no es un zip válido."))]) from exc
    if len(members) > MAX_ENTRIES:
        raise ImportRefused([Problem(None, None, _("El zip tiene más de %(n)d entradas.", n=MAX_ENTRIES))])
    problems, notes, wanted = [], [], []
    for info in members:
        problem = _member_problem(info)
        if problem:
            problems.append(Problem(info.filename[:120], None, problem))
        elif not info.is_dir():
            wanted.append(info)
    if sum(info.file_size for info in wanted) > MAX_UNCOMPRESSED:
        problems.append(Problem(None, None, _("El contenido descomprimido supera %(n)d MB.",
                                              n=MAX_UNCOMPRESSED // 2 ** 20)))
    if problems:
        raise ImportRefused(problems)
    files, total = {}, 0
    for info in wanted:
        try:
            with archive.open(info) as member:
                content = member.read(info.file_size + 1)  # never more than the header promised (plus one)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError,
                ValueError) as exc:
            raise ImportRefused([Problem(info.filename, None, _("No se pudo leer este archivo del zip."))]) from exc
        total += len(content)
        if len(content) > info.file_size or total > MAX_UNCOMPRESSED:
            raise ImportRefused([Problem(info.filename, None, _("El tamaño real no coincide con el declarado: "
                                                                "se rechaza el zip."))])
        files[info.filename] = content
    return _flatten(files, notes)


def read_folder(path) -> Archive:
    """The files of a process-model folder on the server (command line), under the same budgets."""
    root = Path(path)
    if not root.is_dir():
        raise ImportRefused([Problem(str(path)[:120], None, _("No es una carpeta."))])
    entries = sorted(root.iterdir())
    if len(entries) > MAX_ENTRIES:
        raise ImportRefused([Problem(None, None, _("La carpeta tiene más de %(n)d entradas.", n=MAX_ENTRIES))])
    files, notes, total = {}, [], 0
    for entry in entries:
        if entry.is_symlink() or not entry.is_file():
            if not entry.is_dir() or entry.is_symlink():
                notes.append(_("Se ignoró %(n)s: no es un archivo normal.", n=entry.name))
            else:
                notes.append(_("Se ignoró la subcarpeta %(n)s.", n=entry.name))
            continue
        size = entry.stat().st_size
        total += size
        if total > MAX_UNCOMPRESSED:
            raise ImportRefused([Problem(None, None, _("El contenido supera %(n)d MB.",
                                                       n=MAX_UNCOMPRESSED // 2 ** 20))])
        files[entry.name] = entry.read_bytes()
    return _flatten(files, notes)


def _member_problem(info) -> str | None:
    """Why a zip member is refused: its path, a link or special file, encryption, an anomalous ratio."""
    problem = _path_problem(info.filename)
    if problem or info.is_dir():
        return problem
    mode = info.external_attr >> 16
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # a link, device or pipe (0: no Unix type recorded)
        return _("El zip contiene un enlace o un archivo especial: no se admite.")
    if info.flag_bits & 0x1:
        return _("El zip contiene un archivo cifrado: no se admite.")
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return _("La compresión de este archivo es anómala (más de %(r)d a 1): se rechaza el zip.", r=MAX_RATIO)
    return None


def _path_problem(name) -> str | None:
    if not name or "\\" in name or "\0" in name:
        return _("Nombre de archivo no válido en el zip.")
    path = PurePosixPath(name)
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return _("El zip contiene una ruta absoluta: no se admite.")
    if ".." in path.parts:
        return _("El zip contiene una ruta con «..»: no se admite.")
    if len(path.parts) > 4 or len(name) > 300:
        return _("El zip contiene rutas demasiado profundas o largas.")
    return None


def _flatten(files: dict[str, bytes], notes) -> Archive:
    """A model folder at the zip's root or inside one top folder; anything else or of another kind is noted."""
    tops = {PurePosixPath(n).parts[0] for n in files if len(PurePosixPath(n).parts) > 1}
    prefix = next(iter(tops)) + "/" if len(tops) == 1 and all("/" in n for n in files) else ""
    flat = {}
    for name, content in sorted(files.items()):
        inner = name[len(prefix):]
        if "/" in inner:
            notes.append(_("Se ignoró %(n)s: está en una subcarpeta.", n=name[:120]))
        elif inner.startswith("."):
            notes.append(_("Se ignoró %(n)s: archivo oculto.", n=name[:120]))
        elif not inner.lower().endswith(KINDS):
            notes.append(_("Se ignoró %(n)s: solo se importan archivos .bpmn, .dmn y .json.", n=name[:120]))
        elif inner.endswith(SPIFF_IGNORED):
            notes.append(_("Se ignoró %(n)s: datos de ejemplo del editor de formularios de SpiffArena.",
                           n=name[:120]))
        else:
            flat[inner] = content
    return Archive(flat, notes)


# -- importing -----------------------------------------------------------------------------------------
def import_archive(archive: Archive, user, now) -> ImportResult:
    """Store the model's forms, decisions and diagram draft, or nothing (ImportRefused lists every problem)."""
    problems, notes = [], list(archive.notes)
    texts = {}
    for name, content in archive.files.items():
        try:
            texts[name] = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(Problem(name, None, _("El archivo no está en UTF-8.")))
    meta = _model_json(texts.pop(MODEL_JSON, None), problems)
    diagrams = sorted(n for n in texts if n.lower().endswith(".bpmn"))
    dmn = {n: texts[n] for n in sorted(texts) if n.lower().endswith(".dmn")}
    forms = {n: texts[n] for n in sorted(texts) if n.lower().endswith(".json")}
    primary = _primary(diagrams, meta, problems)
    for other in diagrams:
        if other != primary:
            problems.append(Problem(other, None, _("Un modelo se importa con un solo diagrama (el principal, "
                                                   "%(p)s); importe este en su propio modelo.", p=primary or "?")))
    xml = texts.get(primary) if primary else None
    process_key, pairs = _primary_process(primary, xml, meta, problems) if xml is not None else (None, {})
    forms = _form_files(forms, pairs, notes)
    stored = services.forms()
    added, unchanged = _split_forms(forms, stored, problems)
    documents = {**stored, **{n: forms[n] for n in added}}
    known_pairs = {**services.task_form_pairs(), **pairs}
    for name in added:
        problems.extend(Problem(name, None, message) for message in
                        services.check_form(name, forms[name], documents, known_pairs))
    for task_form in sorted({f for pair in pairs.items() for f in pair if f}):
        if task_form not in documents:
            notes.append(_("El diagrama usa el formulario %(n)s, que no viene en el modelo ni existe aquí.",
                           n=task_form))
    decisions_added = _check_decisions(dmn, problems, notes)
    if process_key and xml is not None and _unpublished_work(process_key, xml):
        problems.append(Problem(primary, process_key, _(
            "El proceso «%(k)s» ya tiene un borrador con cambios sin publicar: importar lo reemplazaría. Publíquelo "
            "o descárguelo antes de importar el modelo.", k=process_key)))
    if problems:
        raise ImportRefused(services._unique(problems), notes)
    # nothing blocks: one transaction stores everything (the view or command commits; a refusal rolls back)
    for name in added:
        db.session.add(FormDocument(name=name, text=forms[name], updated_by_id=_uid(user), updated_at=now))
    db.session.flush()
    decisions = _decisions_module()
    for name in decisions_added:
        decisions.save_decision(name, dmn[name], user, now)
    existing = _process_exists(process_key)
    draft = services.upload(xml.encode("utf-8"), primary, user, now, process_key=process_key if existing else None)
    draft_problems = services.validate(draft.process_key, draft.filename, draft.bpmn_xml)
    return ImportResult(draft.process_key, meta.get("display_name") or draft.process_key, draft.filename, added,
                        unchanged, decisions_added, draft_problems, notes, replaced_draft=existing)


def _primary_process(primary, xml, meta, problems) -> tuple[str | None, dict]:
    """The process the draft is for (process_model.json's primary_process_id, else the diagram's first) and the
    forms its user tasks name."""
    try:
        ids = services._process_ids(primary, xml)
    except Refused as exc:
        problems.extend(exc.problems)
        return None, {}
    wanted = meta.get("primary_process_id")
    if wanted and wanted not in ids:
        problems.append(Problem(primary, None, _("process_model.json indica el proceso «%(k)s», que no está en el "
                                                 "diagrama.", k=wanted)))
    process_key = wanted if wanted in ids else ids[0]
    if len(process_key) > 100:
        problems.append(Problem(primary, None, _("El identificador de proceso supera 100 caracteres.")))
    return process_key, _task_forms(primary, xml)


def _form_files(files, pairs, notes) -> dict[str, str]:
    """The .json files that are forms: named by a user task of the diagram or by the form naming conventions
    (x-schema.json / x-uischema.json, x_ui.json and its x.json). Others (SpiffArena's unit tests, data files) are
    skipped with a note."""
    named = {n for pair in pairs.items() for n in pair if n}
    kept = {}
    for name, text in files.items():
        paired = any(name == services.schema_name_for(ui, files, {}) for ui in files if services.is_ui_name(ui, {}))
        if name in named or name.endswith(("-schema.json",) + services.UI_SUFFIXES) or paired:
            kept[name] = text
        else:
            notes.append(_("Se ignoró %(n)s: ninguna tarea del diagrama lo usa como formulario.", n=name))
    return kept


def _split_forms(forms, stored, problems) -> tuple[list[str], list[str]]:
    """New form files and those identical to a stored document; a different one is never overwritten."""
    added, unchanged = [], []
    for name, text in forms.items():
        existing = stored.get(name)
        if existing is None:
            added.append(name)
        elif existing == text:
            unchanged.append(name)
        else:
            problems.append(Problem(name, None, _("Ya existe un formulario «%(n)s» con otro contenido: no se "
                                                  "sobrescribe. Cambie el nombre en el modelo o edite el existente "
                                                  "en Formularios.", n=name)))
    return added, unchanged


def _uid(user):
    return getattr(user, "id", None)


def _model_json(text, problems) -> dict:
    """The fields of process_model.json we use (display name, primary file and process): JSON only, bounded."""
    if text is None:
        return {}
    if len(text) > MAX_MODEL_JSON:
        problems.append(Problem(MODEL_JSON, None, _("process_model.json es demasiado grande.")))
        return {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        problems.append(Problem(MODEL_JSON, None, _("process_model.json no es JSON válido.")))
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(MODEL_JSON, None, _("process_model.json debe ser un objeto JSON.")))
        return {}
    meta = {}
    for key in ("display_name", "primary_file_name", "primary_process_id", "description"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            meta[key] = value.strip()[:200]
    return meta


def _primary(diagrams, meta, problems) -> str | None:
    named = meta.get("primary_file_name")
    if named and named in diagrams:
        return named
    if named:
        problems.append(Problem(MODEL_JSON, None, _("process_model.json indica el diagrama %(n)s, que no viene en "
                                                    "el modelo.", n=named)))
        return None
    if not diagrams:
        problems.append(Problem(None, None, _("El modelo no contiene ningún diagrama .bpmn.")))
        return None
    if len(diagrams) > 1:
        problems.append(Problem(None, None, _("El modelo tiene varios diagramas y process_model.json no indica el "
                                              "principal (primary_file_name).")))
        return None
    return diagrams[0]


def _task_forms(filename, xml) -> dict[str, str | None]:
    """formJsonSchemaFilename -> formUiSchemaFilename of the diagram's user tasks."""
    root = parse_xml(xml.encode("utf-8"), filename).getroot()
    pairs = {}
    for task in root.iter(f"{{{NS['bpmn']}}}userTask"):
        props = {p.get("name"): p.get("value") for p in task.iter(f"{{{NS['spiffworkflow']}}}property")}
        if props.get("formJsonSchemaFilename"):
            pairs[props["formJsonSchemaFilename"]] = props.get("formUiSchemaFilename") or None
    return pairs


def _decisions_module():
    try:
        from . import decisions
    except ImportError:
        return None
    needed = ("decisions", "check_decision", "save_decision")
    return decisions if all(hasattr(decisions, n) for n in needed) else None


def _check_decisions(dmn, problems, notes) -> list[str]:
    """The .dmn files to store (new ones); identical existing ones are noted, different ones refused."""
    if not dmn:
        return []
    module = _decisions_module()
    if module is None:
        problems.extend(Problem(n, None, _("Tabla de decisión pendiente: este sistema aún no admite DMN; quite el "
                                           "archivo o impórtelo cuando esté disponible.")) for n in dmn)
        return []
    stored, added = module.decisions(), []
    for name, text in dmn.items():
        if name in stored:
            if stored[name] == text:
                notes.append(_("La tabla de decisión %(n)s ya existía idéntica.", n=name))
            else:
                problems.append(Problem(name, None, _("Ya existe una tabla de decisión «%(n)s» con otro contenido: "
                                                      "no se sobrescribe.", n=name)))
            continue
        found = module.check_decision(name, text)
        problems.extend(Problem(name, None, str(m)) for m in found)
        if not found:
            added.append(name)
    return added


def _unpublished_work(process_key, xml) -> bool:
    """A saved draft that differs from both the latest version and the imported diagram (work an import would lose)."""
    draft = db.session.scalar(db.select(ProcessDraft).where(ProcessDraft.process_key == process_key))
    if draft is None or draft.bpmn_xml == xml:
        return False
    latest = db.session.scalar(db.select(ProcessVersion.bpmn_xml).where(ProcessVersion.process_key == process_key)
                               .order_by(ProcessVersion.version.desc()).limit(1))
    return draft.bpmn_xml != latest


def _process_exists(process_key) -> bool:
    if process_key is None:
        return False
    return (db.session.scalar(db.select(ProcessVersion.id).where(ProcessVersion.process_key == process_key)
                              .limit(1)) is not None
            or db.session.scalar(db.select(ProcessDraft.id).where(ProcessDraft.process_key == process_key))
            is not None)


# -- exporting -----------------------------------------------------------------------------------------
def export_files(process_key, version: int | None = None, draft: bool = False) -> dict[str, bytes] | None:
    """The model folder of a process: its latest version (or `version`, or its draft) with process_model.json,
    the diagram, the forms its user tasks name and the decision tables its business rule tasks call."""
    if draft:
        source = services.draft_for(process_key)
        if source is None:
            return None
        filename, xml, name = source.filename, source.bpmn_xml, None
        documents = services.forms()
        decisions = _stored_decisions()
    else:
        query = db.select(ProcessVersion).where(ProcessVersion.process_key == process_key)
        query = query.where(ProcessVersion.version == version) if version else query.order_by(
            ProcessVersion.version.desc()).limit(1)
        found = db.session.scalar(query)
        if found is None:
            return None
        filename, xml, name = found.source_file, found.bpmn_xml, found.name
        documents = json.loads(found.forms_json)
        decisions = json.loads(getattr(found, "decisions_json", None) or "{}")
    root = parse_xml(xml.encode("utf-8"), filename).getroot()
    process = next((p for p in root.iterfind("bpmn:process", NS) if p.get("id") == process_key), None)
    name = name or (process.get("name") if process is not None else None) or process_key
    used = sorted({n for pair in _task_forms(filename, xml).items() for n in pair if n and n in documents})
    files = {filename: xml.encode("utf-8")}
    files.update({n: documents[n].encode("utf-8") for n in used})
    files.update({n: t.encode("utf-8") for n, t in _called_decisions(root, decisions).items()})
    model = {"display_name": name, "description": "", "primary_file_name": filename,
             "primary_process_id": process_key, "exception_notification_addresses": [],
             "fault_or_suspend_on_exception": "fault", "metadata_extraction_paths": None}
    files[MODEL_JSON] = (json.dumps(model, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return files


def export_zip(process_key, version=None, draft=False) -> bytes | None:
    files = export_files(process_key, version, draft)
    if files is None:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{process_key}/{name}", date_time=FIXED_TIME)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


def _stored_decisions() -> dict[str, str]:
    module = _decisions_module()
    return module.decisions() if module is not None else {}


def _called_decisions(root, decisions: dict[str, str]) -> dict[str, str]:
    """The decision files whose decision ids the diagram's business rule tasks call."""
    called = set()
    for task in root.iter(f"{{{NS['bpmn']}}}businessRuleTask"):
        for element in task.iter():
            if etree.QName(element).localname == "calledDecisionId" and (element.text or "").strip():
                called.add(element.text.strip())
        for attribute, value in task.attrib.items():
            if etree.QName(attribute).localname in ("decisionRef", "calledDecisionId") and value:
                called.add(value)
    result = {}
    for name, text in decisions.items():
        try:
            dmn_root = parse_xml(text.encode("utf-8"), name).getroot()
        except UnsafeXML:
            continue
        ids = {e.get("id") for e in dmn_root.iter() if etree.QName(e).localname == "decision"}
        if ids & called:
            result[name] = text
    return result
