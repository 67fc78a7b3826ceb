"""Deploy diagrams as versioned process definitions keyed by content hash."""
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..audit import services as audit
from ..extensions import db
from ..formschema import read_forms_dir
from .dmn import read_dmn_dir, used_decisions
from .engine import SERIALIZER_VERSION, DiagramError, get_engine
from .lint import lint_diagram
from .models import ProcessVersion


@dataclass
class DeployResult:
    process_key: str
    version: int
    created: bool


def deploy_directory(bpmn_dir, forms_dir) -> list[DeployResult]:
    """Deploy every .bpmn file of a directory with the forms they use and the decision tables of ../dmn."""
    files = {p.name: p.read_bytes() for p in sorted(Path(bpmn_dir).glob("*.bpmn"))}
    return deploy_files(files, read_forms_dir(forms_dir), decisions=read_dmn_dir(Path(bpmn_dir).parent / "dmn"))


def deploy_files(files: dict[str, bytes], forms: dict[str, str], comment=None, author=None,
                 decisions: dict[str, str] | None = None) -> list[DeployResult]:
    """Parse, lint and store each process; an unchanged process keeps its version. Flushes only.

    decisions: the DMN documents (name -> XML) business rule tasks may call; None reads the seed files of
    workflows/dmn (DMN_DIR), as callers that pass the forms of forms/ expect."""
    if decisions is None:
        decisions = read_dmn_dir(_default_dmn_dir())
    problems = [p for name, data in sorted(files.items()) for p in lint_diagram(name, data, forms, decisions)]
    try:
        parsed = get_engine().parse(files, decisions)
    except DiagramError as exc:  # the project's own (Spanish) findings first, then the engine's
        raise DiagramError(problems + exc.problems) from exc
    if problems:
        raise DiagramError(problems)
    called = {key for process in parsed for key in json.loads(process.spec_json)["subprocess_specs"]}
    results = []
    for process in parsed:
        used = sorted({name for t in process.user_tasks for name in (t.form, t.ui_form) if name})
        snapshot = {name: forms[name] for name in used}
        tables = used_decisions({name: files[name] for name in process.files}, decisions)
        digest = hashlib.sha256()
        for name in process.files:
            digest.update(name.encode() + b"\0" + files[name] + b"\0")
        for name in used:
            digest.update(name.encode() + b"\0" + snapshot[name].encode() + b"\0")
        for name, text in tables.items():  # a changed decision table is a new version; cases keep theirs
            digest.update(b"dmn\0" + name.encode() + b"\0" + text.encode() + b"\0")
        results.append(_store(process, digest.hexdigest(), snapshot, files, process.key not in called, comment,
                              author, tables))
    refresh_startable()
    return results


def refresh_startable() -> None:
    """A process that the latest version of another calls is not startable on its own (README), whatever the
    order in which the two were published: recomputed over every latest version at each publication."""
    newest = (db.select(ProcessVersion.process_key, db.func.max(ProcessVersion.version).label("version"))
              .group_by(ProcessVersion.process_key).subquery())
    latest = list(db.session.scalars(db.select(ProcessVersion).join(
        newest, (ProcessVersion.process_key == newest.c.process_key) & (ProcessVersion.version == newest.c.version))))
    called = {key for version in latest for key in json.loads(version.spec_json)["subprocess_specs"]
              if key != version.process_key}
    for version in latest:
        if version.is_startable != (version.process_key not in called):
            version.is_startable = version.process_key not in called
    db.session.flush()


def _store(process, content_hash, forms, files, startable, comment, author, decisions=None) -> DeployResult:
    existing = db.session.scalar(
        db.select(ProcessVersion).where(
            ProcessVersion.process_key == process.key, ProcessVersion.content_hash == content_hash
        )
    )
    if existing is not None:
        return DeployResult(process.key, existing.version, created=False)
    latest = db.session.scalar(
        db.select(db.func.max(ProcessVersion.version)).where(ProcessVersion.process_key == process.key)
    )
    version = ProcessVersion(
        process_key=process.key,
        version=(latest or 0) + 1,
        name=process.name,
        content_hash=content_hash,
        source_file=process.filename,
        bpmn_xml=files[process.filename].decode("utf-8"),
        spec_json=process.spec_json,
        forms_json=json.dumps(forms, ensure_ascii=False),
        decisions_json=json.dumps(decisions or {}, ensure_ascii=False),
        serializer_version=SERIALIZER_VERSION,
        is_startable=startable,
        comment=comment,
        author_id=author.id if author is not None else None,
    )
    db.session.add(version)
    db.session.flush()
    audit.record("diagram_published", object_type="process_version", object_id=version.id, actor=author,
                 details={"proceso": process.key, "versión": version.version, "hash": content_hash[:12],
                          "comentario": comment or ""})
    return DeployResult(process.key, version.version, created=True)


def _default_dmn_dir():
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get("DMN_DIR"):
        return current_app.config["DMN_DIR"]
    base = current_app.config.get("BPMN_DIR") if has_app_context() else None
    return Path(base).parent / "dmn" if base else Path(__file__).resolve().parents[2] / "workflows" / "dmn"
