"""Decision tables edited by process owners: listed and created on the «Decisiones» page, checked before they are
stored (Spanish problems, nothing half saved), republished with the processes that use them; open cases keep the
table of their version."""
import re
from pathlib import Path

import pytest

from app.core import clock
from app.extensions import db
from app.modeler import decisions
from app.modeler.models import DecisionDocument
from app.modeler.services import Refused
from app.workflow import services as workflow
from app.workflow.models import ProcessVersion
from tests.conftest import flashes
from tests.helpers import register_case, single_open_task, submit
from tests.workflow.test_dmn import attention_days

NAME = "riesgo.dmn"
KEY = "proteccion_consular"
PROBLEM = re.compile(r'data-testid="decision-problem">(.*?)</div>', re.S)
ANSWERS = {"necesidades": ["documentacion"], "nivel_riesgo": "bajo", "requiere_remision": "no"}


@pytest.fixture
def gestor(login):
    return login("gestor")


def text(name=NAME):
    db.session.expire_all()
    found = db.session.get(DecisionDocument, name)
    return found.text if found else None


def versions():
    db.session.expire_all()
    return db.session.execute(db.select(ProcessVersion.process_key, ProcessVersion.version)
                              .order_by(ProcessVersion.id)).all()


def state():
    return versions(), db.session.scalar(db.select(db.func.count()).select_from(DecisionDocument)), text()


def test_the_seed_tables_are_in_the_database_and_listed_for_process_owners(app, gestor):
    page = gestor.get("/decisiones/").get_data(as_text=True)
    assert NAME in page and "riesgo_matriz" in page and "Protección consular v" in page
    assert 'href="/decisiones/"' in gestor.get("/procesos/").get_data(as_text=True)  # «Decisiones» in the menu
    assert text() == (Path(app.config["BPMN_DIR"]).parent / "dmn" / NAME).read_text()


@pytest.mark.parametrize("username", ["oficial.tap", "consul.tap", "analista", "admin"])
def test_only_process_owners_reach_the_decision_pages(app, login, username):
    client = login(username)
    before = state()
    assert client.get("/decisiones/").status_code == 403
    assert client.get(f"/decisiones/{NAME}").status_code == 403
    assert client.post("/decisiones/nueva", data={"nombre": "otra.dmn"}).status_code == 403
    assert client.post(f"/decisiones/{NAME}", data={"texto": "x"}).status_code == 403
    assert state() == before


def test_the_editor_page_carries_the_table_for_dmn_js_without_inline_code(app, gestor):
    response = gestor.get(f"/decisiones/{NAME}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="dmn-canvas"' in page and "/static/vendor/dmn-js/dmn-modeler.production.min.js" in page
    assert "DecisionTable_riesgo" in page  # the XML, escaped, in the text box the script reads
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", page)  # no inline script
    assert "cdn" not in page.lower()


def test_a_new_table_from_the_template_is_valid_and_opens_in_the_editor(app, gestor):
    response = gestor.post("/decisiones/nueva", data={"nombre": "derivacion"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/decisiones/derivacion.dmn")
    assert decisions.check_decision("derivacion.dmn", text("derivacion.dmn")) == []
    assert "derivacion.dmn" in gestor.get("/decisiones/").get_data(as_text=True)
    again = gestor.post("/decisiones/nueva", data={"nombre": "derivacion.dmn"}, follow_redirects=True)
    assert "Ya existe la tabla de decisión derivacion.dmn." in flashes(again.get_data(as_text=True))
    bad = gestor.post("/decisiones/nueva", data={"nombre": "../x"}, follow_redirects=True)
    assert any("Nombre de archivo no válido" in f for f in flashes(bad.get_data(as_text=True)))


def test_saving_a_changed_table_republishes_the_process_and_open_cases_keep_theirs(app, gestor, login):
    officer = login("oficial.tap")
    old_case = register_case(officer)  # waits at the assessment, on the current version
    before = workflow.latest_version(KEY).version
    changed = text().replace('<text>"bajo"</text>', '<text>"alto"</text>')  # now every case is high risk
    response = gestor.post(f"/decisiones/{NAME}", data={"texto": changed}, follow_redirects=True)
    assert "Tabla de decisión guardada. Procesos republicados: versión" in " ".join(
        flashes(response.get_data(as_text=True)))
    assert text() == changed and workflow.latest_version(KEY).version == before + 1
    submit(officer, single_open_task(instance_id=old_case.id), ANSWERS)
    assert attention_days(old_case) == 5  # the table its version was published with: low risk
    new_case = register_case(officer)
    submit(officer, single_open_task(instance_id=new_case.id), ANSWERS)
    assert attention_days(new_case) == 2
    html = gestor.get(f"/procesos/{KEY}/diferencias?desde={before}&hasta={before + 1}").get_data(as_text=True)
    changed_list = html.split('data-testid="decisions-changed">', 1)[1].split("</ul>", 1)[0]
    assert NAME in changed_list  # «Diferencias» names the table that changed between the two versions


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda t: t.replace('hitPolicy="FIRST"', 'hitPolicy="RULE ORDER"'), "«RULE ORDER»"),
    (lambda t: t.replace("<text>nivel_riesgo</text>", "<text>nivel_riesgo.__class__</text>"), "__class__"),
    (lambda t: t.replace('<text>"bajo"</text>', "<text>open('/etc/passwd')</text>"), "open"),
    (lambda t: '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]>' + t.split("?>", 1)[1], "DOCTYPE"),
    (lambda t: t[:200], "XML mal formado"),
    (lambda t: t.replace("<text>requiere_remision</text>", "<text>ingresos_mensuales</text>"),
     "«ingresos_mensuales», que ningún formulario"),  # the process using it never defines that variable
])
def test_a_table_with_problems_is_refused_with_a_spanish_message_and_nothing_is_stored(app, gestor, mutate,
                                                                                        expected):
    before = state()
    response = gestor.post(f"/decisiones/{NAME}", data={"texto": mutate(text())})
    assert response.status_code == 422
    problems = [p.strip() for p in PROBLEM.findall(response.get_data(as_text=True))]
    assert any(expected in p for p in problems), problems
    assert all(p.endswith("No se guardó nada.") for p in problems)
    assert state() == before


def test_a_decision_id_two_documents_would_share_is_refused(app, users):
    with pytest.raises(Refused) as refused:
        decisions.save_decision("copia.dmn", text(), users["gestor"], clock.now())
    assert "El identificador de decisión «riesgo_matriz» ya lo usa riesgo.dmn." in str(refused.value)
    assert text("copia.dmn") is None


def test_save_decision_returns_the_new_versions_and_an_unused_table_republishes_nothing(app, users):
    before = workflow.latest_version(KEY).version
    changed = text().replace("Ningún factor de riesgo", "Sin factores")
    assert decisions.save_decision(NAME, changed, users["gestor"], clock.now()) == [before + 1]
    assert decisions.decisions()[NAME] == changed
    assert decisions.save_decision(NAME, changed, users["gestor"], clock.now()) == []  # unchanged
    spare = decisions.NEW_DECISION.format(key="suelta")
    assert decisions.save_decision("suelta.dmn", spare, users["gestor"], clock.now()) == []


def test_seeding_adds_missing_files_only(app, users, tmp_path):
    edited = text().replace("Ningún factor de riesgo", "Editada en el navegador")
    decisions.save_decision(NAME, edited, users["gestor"], clock.now())
    (tmp_path / NAME).write_text("<definitions/>")
    (tmp_path / "nueva.dmn").write_text(decisions.NEW_DECISION.format(key="nueva"))
    assert decisions.seed_decisions(tmp_path) == 1
    assert text() == edited and text("nueva.dmn").startswith("<?xml")


def test_the_process_editor_marks_a_business_rule_task_whose_table_is_missing(app, gestor):
    """Validating in the editor names the task (its id, so the editor marks it) and the missing decision; publishing
    stores nothing."""
    xml = gestor.get(f"/procesos/{KEY}/borrador.bpmn").get_data(as_text=True)
    broken = xml.replace("<spiffworkflow:calledDecisionId>riesgo_matriz</spiffworkflow:calledDecisionId>",
                         "<spiffworkflow:calledDecisionId>riesgo_inexistente</spiffworkflow:calledDecisionId>")
    assert broken != xml
    body = gestor.post(f"/procesos/{KEY}/validar", json={"xml": broken}).get_json()
    assert any(p["element"] == "Task_riesgo" and "«riesgo_inexistente»" in p["message"] and "riesgo_matriz" in
               p["message"] for p in body["problems"]), body
    before = versions()
    published = gestor.post(f"/procesos/{KEY}/publicar", json={"xml": broken}).get_json()
    assert published["ok"] is False and versions() == before
