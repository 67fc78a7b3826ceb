"""Instructions written by a process owner (perhaps a compromised account) reach officers only as safe text."""
import re
import time
from types import SimpleNamespace
from xml.sax.saxutils import escape as xml_escape

import pytest

from app.cases.models import Case
from app.extensions import db
from app.tasks import services
from tests.formschema.test_instructions import HOSTILE, HOSTILE_VALUE, assert_only_safe_markup, tags
from tests.helpers import register_case, single_open_task

KEY = "proteccion_consular"
EVALUACION = ("Caso {{ numero_caso }}: valore las necesidades de {{ persona }} y el nivel de riesgo. "
              "Decida si hace falta remitir el caso a una institución.")
INSTRUCTIONS = re.compile(r'<div class="alert alert-secondary instructions" data-testid="instructions">(.*?)</div>',
                          re.S)


def instructions_of(html: str) -> str:
    found = INSTRUCTIONS.findall(html)
    assert len(found) == 1, html[:3000]
    return found[0]


def publish_evaluation_instructions(login, text: str) -> None:
    """The process owner's editor publishes the protection process with other instructions for the evaluation."""
    gestor = login("gestor")
    xml = gestor.get(f"/procesos/{KEY}/borrador.bpmn").get_data(as_text=True)
    assert xml.count(EVALUACION) == 1
    response = gestor.post(f"/procesos/{KEY}/publicar", json={"xml": xml.replace(EVALUACION, xml_escape(text)),
                                                              "comment": "Instrucciones nuevas"})
    assert response.status_code == 200 and response.get_json()["ok"], response.get_json()


def evaluation_page(officer, **registro) -> tuple[str, Case]:
    instance = register_case(officer, **registro)
    task = single_open_task(instance_id=instance.id)
    response = officer.get(f"/tareas/{task.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True), db.session.get(Case, task.case_id)


def test_the_project_instructions_show_the_case_number_and_person(login):
    html, case = evaluation_page(login("oficial.tap"))
    shown = instructions_of(html)
    assert shown == (f"<p>Caso {case.number}: valore las necesidades de {case.person.full_name} y el nivel de "
                     "riesgo. Decida si hace falta remitir el caso a una institución.</p>\n")


def test_hostile_instructions_of_a_published_diagram_are_shown_as_text(login):
    hostile = "\n".join(["**Caso {{ numero_caso }}** de {{ persona }} ({{ oficina }}, {{ categoria }}).", *HOSTILE,
                         "[Guía](https://sre.gob.hn/guia)"])
    publish_evaluation_instructions(login, hostile)
    html, case = evaluation_page(login("oficial.tap"), nombres=HOSTILE_VALUE)
    shown = instructions_of(html)
    assert_only_safe_markup(shown)
    assert f"<strong>Caso {case.number}</strong> de **negrita** [enlace](http://x) &lt;b&gt;" in shown
    assert f"({case.office.name}, {case.category.name})" in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert [a["href"] for t, a in tags(shown) if t == "a"] == ["http://evil/x.png", "http://ok.example",
                                                              "https://sre.gob.hn/guia"]
    for needle in ("<script>alert", 'action="https://evil.example', "<img src=x", 'href="javascript:',
                   "<iframe", '<svg onload', 'href="//evil'):
        assert needle not in html  # nor anywhere else on the page


def test_template_code_of_an_old_version_is_shown_literally_and_costs_nothing(login, monkeypatch):
    """A version stored before the publish-time check may still hold Jinja: it is text, never evaluated."""
    officer = login("oficial.tap")
    instance = register_case(officer)
    task = single_open_task(instance_id=instance.id)
    text = "{{ 7**(4*10**6) > 1 }} {% for x in range(10**9) %}x{% endfor %} {{ persona.__class__ }}"
    monkeypatch.setattr(services, "task_definition", lambda human_task: SimpleNamespace(
        instructions=text, ui_form=None))
    case = db.session.get(Case, task.case_id)
    started = time.perf_counter()
    services.instructions(task, case)
    assert time.perf_counter() - started < 0.05
    shown = instructions_of(officer.get(f"/tareas/{task.id}").get_data(as_text=True))
    assert shown == ("<p>{{ 7**(4*10**6) &gt; 1 }} {% for x in range(10**9) %}x{% endfor %} "
                     "{{ persona.__class__ }}</p>\n")


@pytest.mark.parametrize("text", ["", None])
def test_no_instructions_no_box(login, monkeypatch, text):
    officer = login("oficial.tap")
    task = single_open_task(instance_id=register_case(officer).id)
    monkeypatch.setattr(services, "task_definition", lambda human_task: SimpleNamespace(
        instructions=text, ui_form=None))
    assert 'data-testid="instructions"' not in officer.get(f"/tareas/{task.id}").get_data(as_text=True)
