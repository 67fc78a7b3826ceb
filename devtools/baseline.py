"""The naive design's cost, for the benchmark (devtools/bench/engine.py): SpiffWorkflow on the FULL serialization
(spec and called specs included in every saved workflow), without SIPROC's per-version spec cache. Kept here so
that app/workflow stays the only package importing SpiffWorkflow."""
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from app.workflow.engine import get_engine


def task_count(workflow) -> int:
    """Tasks of the workflow and of its running subprocesses."""
    return len(workflow.tasks) + sum(len(sub.tasks) for sub in workflow.subprocesses.values())


class FullJsonCycle:
    """deserialize_json (spec included) → complete one READY user task → timers + engine steps → serialize_json."""

    def __init__(self, workflow, task_id: str, data: dict):
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self.script_engine = get_engine().script_engine  # the same restricted evaluator the app runs
        self.full_json = self.serializer.serialize_json(workflow)
        self.task_id, self.data = UUID(task_id), data
        self.workflow, self.result = None, ""

    def run(self) -> str:
        workflow = self.serializer.deserialize_json(self.full_json)
        workflow.script_engine = self.script_engine
        task = workflow.get_task_from_id(self.task_id)
        if task is None or task.state != TaskState.READY:
            raise RuntimeError("the raw cycle did not find the user task READY")
        task.task_spec.add_data_from_form(task, self.data)
        task.run()
        workflow.refresh_timers()
        workflow.do_engine_steps()
        self.workflow, self.result = workflow, self.serializer.serialize_json(workflow)
        return self.result

    def ready_steps(self) -> list[str]:
        return [t.task_spec.bpmn_id for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)]
