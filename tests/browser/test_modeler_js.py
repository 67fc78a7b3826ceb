"""Headless Chromium: the BPMN editor and viewer modules (app/static/js/modeler/main.js, viewer.js) on their own.

No Flask app: a tiny threaded http.server serves a copy of app/static plus two pages that follow the page
contracts of the editor and the viewer, with fake JSON endpoints (canned answers; the posted XML is kept for
the assertions) and the application's Content-Security-Policy (read from app/core/web.py) plus
`font-src 'self' data:` for the font embedded in bpmn-font. Any console error, script error or CSP violation
fails the test.
"""
import functools
import http.server
import json
import shutil
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, BROWSER, assert_clean_console, security_policy

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "app" / "static"
DIAGRAM = ROOT / "workflows" / "bpmn" / "proteccion_consular.bpmn"
pytestmark = BROWSER + [
    pytest.mark.skipif(not (STATIC / "vendor" / "bpmn-js" / "bpmn-modeler.production.min.js").exists(),
                       reason="bpmn-js is not installed in app/static/vendor (run make install)"),
]

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
CSRF = "token-de-prueba"
ROLES = [
    {"code": "oficial", "label": "Oficial consular", "lane": "Oficial consular"},
    {"code": "supervisor", "label": "Supervisor (cónsul)", "lane": "Supervisor"},
    {"code": "analista", "label": "Analista central", "lane": "Analista central"},
    {"code": "gestor", "label": "Gestor de procesos", "lane": "Gestor de procesos"},
    {"code": "admin", "label": "Administrador", "lane": "Administrador"},
]
STATUSES = [["registrado", "Registrado"], ["en_evaluacion", "En evaluación"], ["en_remision", "En remisión"],
            ["en_atencion", "En atención"], ["en_seguimiento", "En seguimiento"],
            ["cierre_propuesto", "Cierre propuesto"], ["cerrado", "Cerrado"]]
PROBLEMS = [
    {"file": "proteccion_consular.bpmn", "element": "Task_evaluacion",
     "message": "el formulario «evaluacion.json» de la tarea «Evaluación de necesidades y riesgos» no existe"},
    {"file": "nna_no_acompanado.bpmn", "element": "Task_nna_senaf", "message": "plazo de «Remisión a SENAF»: vacío"},
    {"file": "proteccion_consular.bpmn", "element": None, "message": "el proceso no tiene evento de fin"},
]
SMALL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Definitions_pequeno" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="pequeno" isExecutable="true">
    <bpmn:startEvent id="StartEvent_hora" name="Cada hora">
      <bpmn:outgoing>Flow_1</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerEventDefinition_hora" />
    </bpmn:startEvent>
    <bpmn:userTask id="Task_nueva" name="Tarea nueva">
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:scriptTask id="Script_calculo" name="Cálculo">
      <bpmn:extensionElements>
        <spiffworkflow:unitTests>
          <spiffworkflow:unitTest id="ScriptUnitTest_1">
            <spiffworkflow:inputJson>{}</spiffworkflow:inputJson>
            <spiffworkflow:expectedOutputJson>{"x": 1}</spiffworkflow:expectedOutputJson>
          </spiffworkflow:unitTest>
        </spiffworkflow:unitTests>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming>
      <bpmn:script>x = 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_hora" targetRef="Task_nueva" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_nueva" targetRef="Script_calculo" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_pequeno">
    <bpmndi:BPMNPlane id="BPMNPlane_pequeno" bpmnElement="pequeno">
      <bpmndi:BPMNShape id="StartEvent_hora_di" bpmnElement="StartEvent_hora">
        <dc:Bounds x="252" y="102" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_nueva_di" bpmnElement="Task_nueva">
        <dc:Bounds x="340" y="80" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Script_calculo_di" bpmnElement="Script_calculo">
        <dc:Bounds x="500" y="80" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1">
        <di:waypoint x="288" y="120" />
        <di:waypoint x="340" y="120" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2">
        <di:waypoint x="440" y="120" />
        <di:waypoint x="500" y="120" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
VIEWER_CONFIG = {
    "xml_url": "/api/diagrama.bpmn",
    "completed": ["StartEvent_caso", "Task_registro", "Flow_inicio", "No_existe"],
    "current": ["Task_evaluacion", "Task_que_no_existe"],
    "timers": ["Timer_recordatorio"],
    "counts": {"Task_evaluacion": 12, "Task_seguimiento": 3, "Task_fantasma": 5},
}


def editor_page(forms: list[str]) -> str:
    config = {
        "xml_url": "/api/diagrama.bpmn", "save_url": "/api/guardar", "validate_url": "/api/validar",
        "publish_url": "/api/publicar", "download_url": "/api/diagrama.bpmn", "csrf_token": CSRF,
        "forms": forms, "roles": ROLES, "case_statuses": STATUSES,
    }
    return f"""<!doctype html>
<html lang="es">
<head>
  <meta charset="utf-8">
  <title>Editor de diagramas</title>
  <link rel="stylesheet" href="/static/vendor/bootstrap/bootstrap.min.css">
  <link rel="stylesheet" href="/static/vendor/bpmn-js/diagram-js.css">
  <link rel="stylesheet" href="/static/vendor/bpmn-js/bpmn-js.css">
  <link rel="stylesheet" href="/static/vendor/bpmn-js/bpmn-embedded.css">
  <link rel="stylesheet" href="/static/css/app.css">
  <link rel="stylesheet" href="/static/css/modeler.css">
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<main class="container-fluid py-3">
  <h1 class="h4">Protección consular — borrador</h1>
  <div class="d-flex flex-wrap gap-2 align-items-center mb-2">
    <button type="button" id="btn-save" class="btn btn-primary btn-sm">Guardar</button>
    <button type="button" id="btn-validate" class="btn btn-outline-secondary btn-sm">Validar</button>
    <input type="text" id="publish-comment" class="form-control form-control-sm w-auto" placeholder="Comentario">
    <button type="button" id="btn-publish" class="btn btn-success btn-sm">Publicar</button>
    <a id="btn-download" class="btn btn-link btn-sm" href="/api/diagrama.bpmn" download>Descargar</a>
  </div>
  <div id="modeler-status" role="status"></div>
  <div class="siproc-modeler">
    <div id="canvas"></div>
    <aside id="properties-panel"></aside>
  </div>
  <div id="problems"></div>
</main>
<script type="application/json" id="modeler-config">{json.dumps(config, ensure_ascii=False)}</script>
<script src="/static/vendor/bpmn-js/bpmn-modeler.production.min.js"></script>
<script type="module" src="/static/js/modeler/main.js"></script>
</body>
</html>
"""


def viewer_page() -> str:
    return f"""<!doctype html>
<html lang="es">
<head>
  <meta charset="utf-8">
  <title>Caso</title>
  <link rel="stylesheet" href="/static/vendor/bootstrap/bootstrap.min.css">
  <link rel="stylesheet" href="/static/vendor/bpmn-js/diagram-js.css">
  <link rel="stylesheet" href="/static/vendor/bpmn-js/bpmn-js.css">
  <link rel="stylesheet" href="/static/vendor/bpmn-js/bpmn-embedded.css">
  <link rel="stylesheet" href="/static/css/app.css">
  <link rel="stylesheet" href="/static/css/modeler.css">
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<main class="container-xl py-3">
  <h1 class="h4">Caso TAP-2025-0001</h1>
  <div id="case-diagram" class="diagram-viewer"></div>
</main>
<script type="application/json" id="viewer-config">{json.dumps(VIEWER_CONFIG)}</script>
<script src="/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"></script>
<script type="module" src="/static/js/viewer.js"></script>
</body>
</html>
"""


class FakeSiproc(http.server.SimpleHTTPRequestHandler):
    """Static files from the served folder; /api/... answers like the Flask views of the contract."""

    policy = ""
    posts: list = []
    diagram = b""

    def end_headers(self):
        self.send_header("Content-Security-Policy", self.policy)
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/api/diagrama.bpmn":
            return self._reply(200, self.diagram, "application/xml; charset=utf-8")
        return super().do_GET()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.headers.get("X-CSRFToken") != CSRF:  # as Flask-WTF: an HTML error page, not JSON
            return self._reply(400, b"<h1>CSRF</h1>", "text/html; charset=utf-8")
        body = json.loads(raw)
        kind = {"/api/guardar": "save", "/api/validar": "validate", "/api/publicar": "publish"}.get(self.path)
        if kind is None:
            return self._reply(404, b"{}", "application/json")
        self.posts.append((kind, body))
        if kind == "save":
            answer, status = {"ok": True, "message": "Borrador guardado.", "problems": []}, 200
        elif kind == "validate":
            answer, status = {"ok": False, "message": "El diagrama tiene 3 problemas.", "problems": PROBLEMS}, 422
        else:
            answer, status = {"ok": False, "message": "No se publicó: corrija los problemas.",
                              "problems": PROBLEMS[:1]}, 422
        return self._reply(status, json.dumps(answer).encode(), "application/json")

    def _reply(self, status, data, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def fake_server(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(STATIC, site / "static")
    forms = sorted(p.name for p in (ROOT / "forms").glob("*.json"))
    (site / "editor.html").write_text(editor_page(forms), encoding="utf-8")
    (site / "viewer.html").write_text(viewer_page(), encoding="utf-8")
    handler = type("Handler", (FakeSiproc,), {"policy": security_policy(), "posts": [],
                                               "diagram": DIAGRAM.read_bytes()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", handler.posts, handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser_viewport():
    return {"width": 1440, "height": 950}  # the editor with its properties panel beside the canvas


# ----------------------------------------------------------------------------- helpers
EDITOR_MODULE = "/static/js/modeler/main.js"


def editor(page):
    """The page's Editor (a JSHandle), as the entry module exports it: no global on window; the dynamic import
    returns the module instance the page already loaded. Its bpmn-js Modeler is editor.modeler."""
    return page.evaluate_handle(f"async () => await (await import('{EDITOR_MODULE}')).ready")


def is_dirty(page):
    return editor(page).evaluate("e => e.isDirty()")


def undo(page):
    editor(page).evaluate("e => e.modeler.get('commandStack').undo()")


def redo(page):
    editor(page).evaluate("e => e.modeler.get('commandStack').redo()")


def select(page, element_id):
    editor(page).evaluate("""(e, id) => {
        const m = e.modeler;
        m.get('selection').select(m.get('elementRegistry').get(id));
    }""", element_id)
    page.wait_for_function("id => document.getElementById('properties-panel').dataset.elementId === id", arg=element_id)


def panel_value(page, key):
    return page.locator(f"#properties-panel [data-key='{key}']").input_value()


def last_post(posts, kind):
    matching = [body for k, body in posts if k == kind]
    assert matching, f"no {kind} request reached the server"
    return matching[-1]


def parse(xml):
    root = ET.fromstring(xml.encode("utf-8"))
    return root, (lambda element_id: root.find(f".//*[@id='{element_id}']"))


def properties(node):
    return {p.get("name"): p.get("value") for p in node.iterfind(".//spiffworkflow:property", NS)}


def assert_watermark_visible(page, container):
    logo = page.locator(f"{container} .bjs-powered-by")
    assert logo.is_visible()
    box = logo.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0
    uncovered = page.evaluate("""sel => {
        const logo = document.querySelector(sel + ' .bjs-powered-by');
        const r = logo.getBoundingClientRect();
        const points = [[r.left + 2, r.top + 2], [r.right - 2, r.top + 2], [r.left + 2, r.bottom - 2],
                        [r.right - 2, r.bottom - 2], [r.left + r.width / 2, r.top + r.height / 2]];
        return points.every(([x, y]) => logo.contains(document.elementFromPoint(x, y)));
    }""", container)
    assert uncovered, "the bpmn.io watermark is covered by another element"


def spiff_schema_valid(xml):
    """The saved XML passes SpiffWorkflow's own schema validation (BPMN 2.0 + spiffworkflow.xsd)."""
    from lxml import etree
    from SpiffWorkflow.spiff.parser.process import VALIDATOR

    VALIDATOR.validate(etree.fromstring(xml.encode("utf-8")), "proteccion_consular.bpmn")


# ----------------------------------------------------------------------------- tests
def test_editor_side_panel_save_validate_publish(fake_server, page):
    base, posts, _ = fake_server
    original = ET.fromstring(DIAGRAM.read_bytes())
    page.goto(base + "/editor.html")
    page.wait_for_selector("#canvas[data-ready='true']")
    assert page.locator("#modeler-status").inner_text() == "Diagrama cargado."
    assert_watermark_visible(page, "#canvas")
    assert is_dirty(page) is False

    # A user task, selected with the mouse: name (committed with Enter) and deadline (still being typed at save).
    page.locator(".djs-element[data-element-id='Task_registro']").click()
    page.wait_for_function("() => document.getElementById('properties-panel').dataset.elementId === 'Task_registro'")
    assert page.locator("#siproc-field-id").input_value() == "Task_registro"
    assert panel_value(page, "name") == "Registro del caso"
    assert panel_value(page, "deadline") == "PT8H"
    assert panel_value(page, "form") == "registro_caso.json"
    assert panel_value(page, "case-status") == "registrado"
    assert page.locator("#siproc-field-lane").input_value() == "Oficial consular"
    page.fill("#siproc-field-name", "Registro inicial del caso")
    page.press("#siproc-field-name", "Enter")
    page.fill("#siproc-field-deadline", "P1D")
    assert is_dirty(page) is True
    page.screenshot(path=ARTIFACTS / "40-editor-panel-tarea.png")
    page.click("#btn-save")
    page.wait_for_function("() => document.getElementById('modeler-status').dataset.state === 'success'")
    assert page.locator("#modeler-status").inner_text() == "Borrador guardado."
    assert page.locator("#problems").inner_text() == "Sin problemas."
    assert is_dirty(page) is False

    xml = last_post(posts, "save")["xml"]
    root, by_id = parse(xml)
    # what the engine needs of the referral sub-process survives the editor: the collection it runs over (a
    # reference bpmn-js keeps only because it names a data object), the service task's operator, its own plane
    assert "<bpmn:loopDataInputRef>remisiones</bpmn:loopDataInputRef>" in xml
    assert "<bpmn:loopDataOutputRef>respuestas</bpmn:loopDataOutputRef>" in xml
    assert 'serviceTaskOperator id="siproc/remision_recordatorio"' in xml
    assert 'bpmnElement="SubProcess_remisiones"' in xml and 'id="Timer_plazo_remision"' in xml
    task = by_id("Task_registro")
    assert task.get("name") == "Registro inicial del caso"
    assert properties(task) == {"formJsonSchemaFilename": "registro_caso.json",
                                "formUiSchemaFilename": "registro_caso_ui.json",
                                "caseStatus": "registrado", "deadline": "P1D"}
    assert task.find("bpmn:extensionElements/spiffworkflow:instructionsForEndUser", NS).text.startswith(
        "Registre a la persona")
    assert properties(by_id("Task_evaluacion")) == properties(original.find(".//*[@id='Task_evaluacion']"))
    assert len(root.findall(".//spiffworkflow:property", NS)) == len(original.findall(".//spiffworkflow:property", NS))
    spiff_schema_valid(xml)

    # Undo/redo go through the command stack: the panel follows.
    undo(page)
    page.wait_for_function("() => document.querySelector(\"[data-key='deadline']\").value === 'PT8H'")
    assert is_dirty(page) is True
    redo(page)
    page.wait_for_function("() => document.querySelector(\"[data-key='deadline']\").value === 'P1D'")
    assert is_dirty(page) is False

    # Form (with its _ui file), case status, instructions: one undo step each.
    page.select_option("#siproc-field-form", "remision.json")
    page.select_option("#siproc-field-case-status", "en_evaluacion")
    page.fill("#siproc-field-instructions", "Registre a la persona.\nLínea dos <b>sin HTML</b>.")
    page.locator("#siproc-field-instructions").blur()
    page.wait_for_function("() => !document.querySelector('[data-pending]')")

    # Validate: the problems are listed, marked on the canvas and clickable.
    page.click("#btn-validate")
    page.wait_for_selector("#problems .siproc-problem-link")
    assert page.locator("#modeler-status").inner_text() == "El diagrama tiene 3 problemas."
    assert page.locator("#modeler-status").get_attribute("data-state") == "error"
    items = page.locator("#problems li").all_inner_texts()
    assert len(items) == 3
    assert items[0].startswith("Evaluación de necesidades y riesgos: el formulario «evaluacion.json»")
    assert items[1].startswith("(Task_nna_senaf, archivo nna_no_acompanado.bpmn)")
    assert items[2] == "(archivo proteccion_consular.bpmn) el proceso no tiene evento de fin"
    marked = page.locator(".djs-element.siproc-problem")
    assert marked.count() == 1 and marked.get_attribute("data-element-id") == "Task_evaluacion"
    assert page.locator(".djs-overlay .siproc-problem-note").count() == 1
    assert "«evaluacion.json»" in page.locator(".siproc-problem-note").get_attribute("title")
    page.screenshot(path=ARTIFACTS / "41-editor-problemas.png")
    page.click("#problems .siproc-problem-link")
    page.wait_for_function("() => document.getElementById('properties-panel').dataset.elementId === 'Task_evaluacion'")
    assert last_post(posts, "validate")["xml"].count("remision_ui.json") == 2  # Task_remision's and ours

    # A lane's role, then an unknown lane name: warning.
    select(page, "Lane_supervisor")
    assert panel_value(page, "lane-role") == "supervisor"
    assert page.locator("#properties-panel .siproc-field-warning").count() == 0
    page.select_option("#siproc-field-lane-role", "analista")
    page.wait_for_function("() => document.querySelector(\"[data-key='name']\").value === 'Analista central'")
    page.fill("#siproc-field-name", "Cónsules")
    page.press("#siproc-field-name", "Tab")
    page.wait_for_selector("#properties-panel .siproc-field-warning")
    assert panel_value(page, "lane-role") == ""
    page.screenshot(path=ARTIFACTS / "42-editor-carril.png")
    page.select_option("#siproc-field-lane-role", "analista")
    page.wait_for_function("() => document.querySelector(\"[data-key='name']\").value === 'Analista central'")

    # A flow leaving an exclusive gateway: condition, then another flow made the default (condition removed).
    select(page, "Flow_si_remision")
    assert panel_value(page, "condition") == "requiere_remision == True"
    page.fill("#siproc-field-condition", 'requiere_remision == True and categoria != "BUS"')
    page.press("#siproc-field-condition", "Tab")
    select(page, "Flow_no_remision")
    assert page.locator("#siproc-field-default-flow").is_checked()
    assert page.locator("#siproc-field-condition").is_disabled()
    select(page, "Flow_seguimiento_si")
    page.check("#siproc-field-default-flow")
    page.wait_for_function("() => document.querySelector(\"[data-key='condition']\").disabled")
    assert panel_value(page, "condition") == ""
    page.screenshot(path=ARTIFACTS / "43-editor-flujo.png")

    # A timer: an unquoted literal gets a warning; then a quoted duration replaces the cycle.
    select(page, "Timer_recordatorio")
    assert panel_value(page, "timer-kind") == "timeCycle"
    assert panel_value(page, "timer-expression").startswith('"R/" + instante_local(proxima_fecha')  # issue 17
    assert not page.locator("#siproc-field-cancel-activity").is_checked()
    page.fill("#siproc-field-timer-expression", "P3D")
    page.press("#siproc-field-timer-expression", "Enter")
    page.wait_for_selector("#properties-panel .siproc-field-warning")
    page.select_option("#siproc-field-timer-kind", "timeDuration")
    page.fill("#siproc-field-timer-expression", '"P3D"')
    page.press("#siproc-field-timer-expression", "Enter")
    page.wait_for_function("() => !document.querySelector('#properties-panel .siproc-field-warning')")

    # Ctrl+S saves.
    page.locator("#canvas").click(position={"x": 30, "y": 30})
    page.keyboard.press("Control+s")
    page.wait_for_function("e => e.isDirty() === false", arg=editor(page))
    page.wait_for_function("() => document.getElementById('modeler-status').dataset.state === 'success'")
    xml = last_post(posts, "save")["xml"]
    root, by_id = parse(xml)
    task = by_id("Task_registro")
    assert properties(task) == {"formJsonSchemaFilename": "remision.json", "formUiSchemaFilename": "remision_ui.json",
                                "caseStatus": "en_evaluacion", "deadline": "P1D"}
    assert task.find(".//spiffworkflow:instructionsForEndUser", NS).text == (
        "Registre a la persona.\nLínea dos <b>sin HTML</b>.")
    assert by_id("Lane_supervisor").get("name") == "Analista central"
    assert by_id("Flow_si_remision").find("bpmn:conditionExpression", NS).text == (
        'requiere_remision == True and categoria != "BUS"')
    assert by_id("Gateway_seguimiento").get("default") == "Flow_seguimiento_si"
    assert by_id("Flow_seguimiento_si").find("bpmn:conditionExpression", NS) is None
    timer = by_id("Timer_recordatorio").find("bpmn:timerEventDefinition", NS)
    assert [child.tag.split("}")[1] for child in timer] == ["timeDuration"]
    assert timer.find("bpmn:timeDuration", NS).text == '"P3D"'
    assert by_id("Timer_recordatorio").get("cancelActivity") == "false"
    spiff_schema_valid(xml)

    # Publish is refused by the server: message and problems shown, the editor stays as it was.
    page.fill("#publish-comment", "Plazos nuevos")
    page.click("#btn-publish")
    page.wait_for_function("() => document.getElementById('modeler-status').textContent.startsWith('No se publicó')")
    assert last_post(posts, "publish")["comment"] == "Plazos nuevos"
    assert page.locator("#problems li").count() == 1
    assert page.locator(".djs-element.siproc-problem").count() == 1

    # A network failure: a Spanish message, a local copy to download, the changes still unsaved.
    select(page, "Task_seguimiento")
    page.fill("#siproc-field-deadline", "P9D")
    page.press("#siproc-field-deadline", "Enter")
    page.route("**/api/guardar", lambda route: route.abort())
    page.click("#btn-save")
    page.wait_for_function("() => document.getElementById('modeler-status').dataset.state === 'error'")
    assert page.locator("#modeler-status").inner_text().startswith("No se pudo conectar con el servidor.")
    assert page.locator("#modeler-status a[download]").count() == 1
    assert is_dirty(page) is True
    page.screenshot(path=ARTIFACTS / "44-editor-sin-red.png")
    assert_watermark_visible(page, "#canvas")
    assert_clean_console(page, allowed=("net::ERR_FAILED", "status of 422"))

    # Leaving the page with unsaved changes asks first (dismissed: the editor stays).
    page.on("dialog", lambda dialog: dialog.dismiss())
    with page.expect_event("dialog", timeout=10_000) as asked:  # no dialog: fails after 10 s
        page.evaluate("() => { window.location.href = '/viewer.html'; }")
    assert asked.value.type == "beforeunload"
    # Dismissed: the navigation was cancelled, the same document still runs the editor.
    assert page.evaluate("location.pathname") == "/editor.html"
    assert is_dirty(page) is True
    assert page.url.endswith("/editor.html")


def test_editor_keeps_strict_csp_in_bpmn_js_menus(fake_server, page):
    """Context pad, replace menu and the align/distribute icons (SVG with style attributes) under the CSP."""
    base, _, _ = fake_server
    page.goto(base + "/editor.html")
    page.wait_for_selector("#canvas[data-ready='true']")
    page.locator(".djs-element[data-element-id='Task_evaluacion']").click()
    page.wait_for_selector(".djs-context-pad .entry")
    page.locator(".djs-context-pad .entry[data-action='replace']").click()
    page.wait_for_selector(".djs-popup")
    assert "Tarea de servicio" in page.locator(".djs-popup").inner_text()
    page.keyboard.press("Escape")
    editor(page).evaluate("""e => {
        const m = e.modeler, r = m.get('elementRegistry');
        m.get('selection').select([r.get('Task_registro'), r.get('Task_evaluacion'), r.get('Task_atencion')]);
    }""")
    page.wait_for_selector(".djs-context-pad .entry[data-action='align-elements']")
    page.locator(".djs-context-pad .entry[data-action='align-elements']").click()
    page.wait_for_selector(".djs-popup .djs-popup-entry-icon svg")
    assert "style=" not in page.locator(".djs-popup").inner_html()
    page.screenshot(path=ARTIFACTS / "45-editor-alinear.png")
    assert_clean_console(page)


def test_viewer_markers_counts_and_legend(fake_server, page):
    base, _, _ = fake_server
    page.goto(base + "/viewer.html")
    page.wait_for_selector("#case-diagram[data-ready='true']")

    def classes(element_id):
        return page.locator(f"#case-diagram .djs-element[data-element-id='{element_id}']").get_attribute("class")

    assert "siproc-done" in classes("Task_registro") and "siproc-done" in classes("StartEvent_caso")
    assert "siproc-current" in classes("Task_evaluacion")
    assert "siproc-timer" in classes("Timer_recordatorio")
    assert "siproc-done" not in classes("Task_atencion")
    badges = page.locator("#case-diagram .djs-overlay .siproc-count")
    assert sorted(badges.all_inner_texts()) == ["12", "3"]
    legend = page.locator(".siproc-legend").inner_text()
    for text in ("Completado", "En curso", "Recordatorio o plazo programado", "Casos en este paso"):
        assert text in legend
    assert_watermark_visible(page, "#case-diagram")
    page.screenshot(path=ARTIFACTS / "46-visor-caso.png", full_page=True)
    assert_clean_console(page)


def current_xml(page):
    return editor(page).evaluate("async e => (await e.modeler.saveXML({format: true})).xml")


def test_editor_creates_and_removes_extension_elements(fake_server, page):
    """Elements without extensions: the panel creates them, and removes them again when emptied (undo works)."""
    base, posts, handler = fake_server
    handler.diagram = SMALL.encode()
    page.goto(base + "/editor.html")
    page.wait_for_selector("#canvas[data-ready='true']")

    select(page, "Task_nueva")
    assert page.locator("#properties-panel .siproc-field-warning").inner_text() == "La tarea no está en ningún carril."
    page.select_option("#siproc-field-form", "seguimiento.json")
    page.fill("#siproc-field-deadline", "P2D")
    page.press("#siproc-field-deadline", "Tab")
    page.fill("#siproc-field-instructions", "Llame a la persona.")
    page.locator("#siproc-field-instructions").blur()
    page.wait_for_function("() => !document.querySelector('[data-pending]')")
    _, by_id = parse(current_xml(page))
    task = by_id("Task_nueva")
    assert properties(task) == {"formJsonSchemaFilename": "seguimiento.json",
                                "formUiSchemaFilename": "seguimiento_ui.json", "deadline": "P2D"}
    assert task.find(".//spiffworkflow:instructionsForEndUser", NS).text == "Llame a la persona."

    page.select_option("#siproc-field-form", "")
    page.fill("#siproc-field-deadline", "")
    page.press("#siproc-field-deadline", "Enter")
    page.fill("#siproc-field-instructions", "  ")
    page.locator("#siproc-field-instructions").blur()
    page.fill("#siproc-field-name", "")
    page.press("#siproc-field-name", "Enter")
    page.wait_for_function("() => !document.querySelector('[data-pending]')")
    _, by_id = parse(current_xml(page))
    assert by_id("Task_nueva").find("bpmn:extensionElements", NS) is None
    assert by_id("Task_nueva").get("name") in (None, "")
    undo(page)  # the name
    undo(page)  # the instructions, in one step
    page.wait_for_function("() => document.getElementById('siproc-field-instructions').value === 'Llame a la persona.'")
    assert panel_value(page, "name") == "Tarea nueva"

    select(page, "Script_calculo")
    assert panel_value(page, "script") == "x = 1"
    page.fill("#siproc-field-script", "x = 2\ny = x * 3\n")
    page.locator("#siproc-field-script").blur()
    select(page, "StartEvent_hora")
    assert panel_value(page, "timer-kind") == "timeDuration" and panel_value(page, "timer-expression") == ""
    page.select_option("#siproc-field-timer-kind", "timeCycle")
    page.fill("#siproc-field-timer-expression", '"R/PT1H"')
    page.press("#siproc-field-timer-expression", "Enter")
    assert page.locator("#siproc-field-cancel-activity").count() == 0  # only boundary events interrupt

    page.click("#btn-save")
    page.wait_for_function("() => document.getElementById('modeler-status').dataset.state === 'success'")
    xml = last_post(posts, "save")["xml"]
    _, by_id = parse(xml)
    script = by_id("Script_calculo")
    assert script.find("bpmn:script", NS).text == "x = 2\ny = x * 3"
    assert script.find(".//spiffworkflow:expectedOutputJson", NS).text == '{"x": 1}'  # SpiffArena's, kept
    assert by_id("StartEvent_hora").find(".//bpmn:timeCycle", NS).text == '"R/PT1H"'
    spiff_schema_valid(xml)
    assert_clean_console(page)


def test_editor_refuses_to_save_what_it_would_lose(fake_server, page):
    """A spiffworkflow element the editor does not know would be dropped by bpmn-js: saving is refused."""
    base, posts, handler = fake_server
    handler.diagram = SMALL.replace("<spiffworkflow:unitTests>",
                                    "<spiffworkflow:novedad>x</spiffworkflow:novedad><spiffworkflow:unitTests>").encode()
    page.goto(base + "/editor.html")
    page.wait_for_selector("#canvas[data-ready='true']")
    status = page.locator("#modeler-status").inner_text()
    assert "<spiffworkflow:novedad>" in status and "se perdería al guardar" in status
    assert page.locator("#btn-save").is_disabled() and page.locator("#btn-publish").is_disabled()
    assert page.locator("#btn-validate").is_enabled()
    page.keyboard.press("Control+s")
    # Validate still works. Had Ctrl+S started a save, the editor would be busy (no validate request: this
    # times out) or the save would reach the server first: either way the list of requests below differs.
    with page.expect_response("**/api/validar", timeout=10_000) as validated:
        page.click("#btn-validate")
    assert validated.value.status == 422
    assert [kind for kind, _ in posts] == ["validate"]
    assert page.locator("#btn-save").is_disabled()
    assert_clean_console(page, allowed=("status of 422",))
