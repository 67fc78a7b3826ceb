"""Build small test diagrams from tests/data/mini_template.bpmn."""
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
FORMS = {p.name: p.read_text() for p in (DATA / "forms").glob("*.json")}


def mini(task_name="Tarea A", lane="Oficial consular", form="mini.json", script="doble = valor * 2",
         condition="doble &gt; 10") -> bytes:
    text = (DATA / "mini_template.bpmn").read_text()
    for key, value in {"TASK_NAME": task_name, "LANE": lane, "FORM": form, "SCRIPT": script,
                       "CONDITION": condition}.items():
        text = text.replace("{" + key + "}", value)
    return text.encode()


def boundary_timer_diagram(key, script, timer='<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1H"'
                                             '</bpmn:timeDuration>', timer_name="Una hora",
                           script_name="Calcular") -> bytes:
    """A user task with a non-interrupting boundary timer whose path runs `script` (for scheduler tests)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="D_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" name="{key.capitalize()}" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L" name="Oficial consular">
      <bpmn:flowNodeRef>S</bpmn:flowNodeRef><bpmn:flowNodeRef>T</bpmn:flowNodeRef><bpmn:flowNodeRef>B</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>X</bpmn:flowNodeRef><bpmn:flowNodeRef>E1</bpmn:flowNodeRef><bpmn:flowNodeRef>E2</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="T" name="Esperar"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="mini.json" /></spiffworkflow:properties>
      </bpmn:extensionElements><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="B" name="{timer_name}" cancelActivity="false" attachedToRef="T">
      <bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TD">{timer}</bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:scriptTask id="X" name="{script_name}"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="E1"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="E2"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T" /><bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E1" />
    <bpmn:sequenceFlow id="F3" sourceRef="B" targetRef="X" /><bpmn:sequenceFlow id="F4" sourceRef="X" targetRef="E2" />
  </bpmn:process>
</bpmn:definitions>""".encode()
