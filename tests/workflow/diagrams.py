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
