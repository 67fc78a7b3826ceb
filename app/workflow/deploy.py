"""Deploy diagrams as versioned process definitions keyed by content hash."""
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..audit import services as audit
from ..extensions import db
from ..formschema import read_forms_dir
from .engine import SERIALIZER_VERSION, DiagramError, get_engine
from .lint import lint_diagram
from .models import ProcessVersion


@dataclass
class DeployResult:
    process_key: str
    version: int
    created: bool


def deploy_directory(bpmn_dir, forms_dir) -> list[DeployResult]:
    """Deploy every .bpmn file of a directory with the forms they use."""
    files = {p.name: p.read_bytes() for p in sorted(Path(bpmn_dir).glob("*.bpmn"))}
    return deploy_files(files, read_forms_dir(forms_dir))


def deploy_files(files: dict[str, bytes], forms: dict[str, str], comment=None, author=None) -> list[DeployResult]:
    """Parse, lint and store each process; an unchanged process keeps its version. Flushes only."""
    problems = [p for name, data in sorted(files.items()) for p in lint_diagram(name, data, forms)]
    try:
        parsed = get_engine().parse(files)
    except DiagramError as exc:  # the project's own (Spanish) findings first, then the engine's
        raise DiagramError(problems + exc.problems) from exc
    if problems:
        raise DiagramError(problems)
    called = {key for process in parsed for key in json.loads(process.spec_json)["subprocess_specs"]}
    results = []
    for process in parsed:
        used = sorted({name for t in process.user_tasks for name in (t.form, t.ui_form) if name})
        snapshot = {name: forms[name] for name in used}
        digest = hashlib.sha256()
        for name in process.files:
            digest.update(name.encode() + b"\0" + files[name] + b"\0")
        for name in used:
            digest.update(name.encode() + b"\0" + snapshot[name].encode() + b"\0")
        results.append(_store(process, digest.hexdigest(), snapshot, files, process.key not in called, comment,
                              author))
    return results


def _store(process, content_hash, forms, files, startable, comment, author) -> DeployResult:
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
