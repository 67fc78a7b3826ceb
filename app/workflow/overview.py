"""Diagram viewer data: a case's steps on its process version, and open cases per step for a scope."""
import functools

from flask import url_for
from sqlalchemy import func

from ..extensions import db
from .engine import get_engine
from .lint import NS
from .models import HumanTask, ProcessVersion, Timer, WorkflowInstance
from .xmlsafe import parse_xml


@functools.lru_cache(maxsize=64)
def _call_activities(cache_key, xml) -> dict[str, str]:
    """calledElement -> id of the call activity that calls it, in one version's main diagram."""
    root = parse_xml(xml.encode("utf-8"), "diagrama").getroot()
    return {node.get("calledElement"): node.get("id") for node in root.iterfind(".//bpmn:callActivity", NS)}


@functools.lru_cache(maxsize=64)
def element_names(cache_key, xml) -> dict[str, str]:
    """id -> name of every named element of one version's main diagram."""
    root = parse_xml(xml.encode("utf-8"), "diagrama").getroot()
    return {node.get("id"): node.get("name") for node in root.iter() if node.get("id") and node.get("name")}


def on_main_diagram(version: ProcessVersion, bpmn_ids) -> list[str]:
    """Element ids to mark on the main diagram: a task of a called process is shown on its call activity."""
    owners = get_engine().user_task_processes(version.cache_key, lambda: version.spec_json)
    calls = _call_activities(version.cache_key, version.bpmn_xml)
    shown = []
    for bpmn_id in bpmn_ids:
        owner = owners.get(bpmn_id, version.process_key)
        element = bpmn_id if owner == version.process_key else calls.get(owner)
        if element and element not in shown:
            shown.append(element)
    return shown


def case_view(case, instance: WorkflowInstance) -> dict:
    """What the case page's diagram marks: steps done, steps waiting, armed timers."""
    version = instance.process_version
    tasks = db.session.execute(db.select(HumanTask.task_spec, HumanTask.completed_at, HumanTask.outcome)
                               .where(HumanTask.instance_id == instance.id)).all()
    current = [spec for spec, done, _ in tasks if done is None]
    completed = [spec for spec, done, outcome in tasks if done is not None and outcome == "completed"]
    timers = db.session.scalars(db.select(Timer.bpmn_id).where(Timer.instance_id == instance.id)).all()
    current_shown = on_main_diagram(version, current)
    return {
        "xml_url": url_for("cases.diagram", case_id=case.id),
        "current": current_shown,
        "completed": [e for e in on_main_diagram(version, completed) if e not in current_shown],
        "timers": [t for t in timers if t],
        "version": version.label,
    }


def process_view(key, version: ProcessVersion, user) -> dict:
    """Open cases of the user's scope waiting at each step of the process (any version), on the latest."""
    query = (db.select(HumanTask.task_spec, func.count(func.distinct(HumanTask.case_id)))
             .join(WorkflowInstance, HumanTask.instance_id == WorkflowInstance.id)
             .join(ProcessVersion, WorkflowInstance.process_version_id == ProcessVersion.id)
             .where(HumanTask.completed_at.is_(None), ProcessVersion.process_key == key)
             .group_by(HumanTask.task_spec))
    if not user.is_central:  # process owners are central users
        query = query.where(HumanTask.office_id == user.office_id)
    counts = {}
    for spec, count in db.session.execute(query):
        for element in on_main_diagram(version, [spec]):
            counts[element] = counts.get(element, 0) + count
    names = element_names(version.cache_key, version.bpmn_xml)
    steps = sorted(((names.get(element, element), element, count) for element, count in counts.items()),
                   key=lambda row: (-row[2], row[0]))
    return {"xml_url": url_for("modeler.view_xml", process_key=key, version=version.version), "counts": counts,
            "steps": [{"name": name, "element": element, "count": count} for name, element, count in steps]}
