"""DMN decision documents: the tables business rule tasks call, stored, checked and published with the processes.

Files in workflows/dmn are seeds (missing documents only, like forms/). Saving a document republishes the latest
versions whose business rule tasks use it; every version keeps its own snapshot (ProcessVersion.decisions_json),
so a running case keeps evaluating the table it started with.
"""
import json

from flask_babel import gettext as _

from ..core.errors import DomainError
from ..extensions import db
from ..workflow.deploy import deploy_files
from ..workflow.dmn import DMN_NAME, decision_id, lint_decision, read_dmn_dir
from ..workflow.engine import DiagramError
from .models import DecisionDocument
from .services import Problem, Refused, forms, latest_files, latest_versions

NEW_DECISION = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
  xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/"
  id="Definitions_{key}" name="{key}" namespace="http://siproc.example/dmn">
  <decision id="{key}" name="{key}">
    <decisionTable id="DecisionTable_{key}" hitPolicy="FIRST">
      <input id="Input_1" label="Requiere remisión">
        <inputExpression id="InputExpression_1" typeRef="boolean"><text>requiere_remision</text></inputExpression>
      </input>
      <output id="Output_1" label="Resultado" name="resultado" typeRef="string" />
      <rule id="Rule_1">
        <inputEntry id="InputEntry_1"><text>True</text></inputEntry>
        <outputEntry id="OutputEntry_1"><text>"remitir"</text></outputEntry>
      </rule>
      <rule id="Rule_2">
        <inputEntry id="InputEntry_2"><text>-</text></inputEntry>
        <outputEntry id="OutputEntry_2"><text>"atender"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="DMNDiagram_{key}">
      <dmndi:DMNShape id="DMNShape_{key}" dmnElementRef="{key}">
        <dc:Bounds height="80" width="180" x="160" y="100" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""


def decisions() -> dict[str, str]:
    """Every decision document, name -> DMN XML text."""
    return dict(db.session.execute(db.select(DecisionDocument.name, DecisionDocument.text)).all())


def check_decision(name, text, documents=None) -> list[str]:
    """Spanish problems of a decision document (empty when SIPROC can run it): a .dmn name, safe XML, one decision
    table with a supported hit policy, every expression accepted by the interpreter, the size budgets, and a
    decision id no other document uses."""
    if not isinstance(text, str):
        return [_("La tabla de decisión debe ser texto.")]
    problems = [f"{element}: {message}" if element else message for element, message in lint_decision(name, text)]
    if problems:
        return problems
    documents = documents if documents is not None else decisions()
    mine = decision_id(text, name)
    taken = sorted(other for other, other_text in documents.items()
                   if other != name and decision_id(other_text, other) == mine)
    if taken:
        return [_("El identificador de decisión «%(d)s» ya lo usa %(o)s.", d=mine, o=taken[0])]
    return []


def save_decision(name, text, user, now) -> list[int]:
    """Store a valid decision document and republish the latest versions that use it; returns their new version
    numbers. Raises Refused when the document is not valid (nothing is stored)."""
    problems = check_decision(name, text)
    if problems:
        raise Refused([Problem(name, None, p) for p in problems])
    document = db.session.get(DecisionDocument, name)
    if document is None:
        document = DecisionDocument(name=name, text=text)
        db.session.add(document)
    document.text, document.updated_by_id, document.updated_at = text, user.id if user else None, now
    db.session.flush()
    mine = decision_id(text, name)
    using = [v for v in latest_versions()
             if name in json.loads(v.decisions_json or "{}")
             or mine in {decision_id(t, n) for n, t in json.loads(v.decisions_json or "{}").items()}]
    if not using:
        return []
    try:
        results = deploy_files(latest_files(), forms(), comment=_("Tabla de decisión %(n)s modificada", n=name),
                               author=user, decisions=decisions())
    except DiagramError as exc:  # e.g. an input now reads a variable a process using the table never defines
        raise Refused([Problem(f, e, f"{f}: {e + ': ' if e else ''}{m}") for f, e, m in exc.problems]) from exc
    return [r.version for r in results if r.created]


def create_decision(name, user, now) -> DecisionDocument:
    """A new decision document from the starting template (its decision id is the file name without .dmn)."""
    name = (name or "").strip()
    if not name.endswith(".dmn"):
        name += ".dmn"
    if not DMN_NAME.match(name):
        raise DomainError(_("Nombre de archivo no válido: minúsculas, cifras, _ o -, terminado en .dmn."))
    if db.session.get(DecisionDocument, name) is not None:
        raise DomainError(_("Ya existe la tabla de decisión %(n)s.", n=name))
    text = NEW_DECISION.format(key=name[:-4].replace("-", "_"))
    problems = check_decision(name, text)
    if problems:
        raise DomainError(" ".join(problems))
    document = DecisionDocument(name=name, text=text, updated_by_id=user.id, updated_at=now)
    db.session.add(document)
    db.session.flush()
    return document


def seed_decisions(dmn_dir) -> int:
    """Insert the .dmn files the database does not have yet; edited documents are kept."""
    known = set(db.session.scalars(db.select(DecisionDocument.name)))
    added = 0
    for name, text in read_dmn_dir(dmn_dir).items():
        if name not in known:
            db.session.add(DecisionDocument(name=name, text=text))
            added += 1
    db.session.flush()
    return added


def used_by(name) -> list[str]:
    """Labels of the latest process versions whose snapshot holds this decision document."""
    return [v.label for v in latest_versions() if name in json.loads(v.decisions_json or "{}")]
