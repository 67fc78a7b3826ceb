"""Task instructions: a safe subset of Markdown with {{ field }} placeholders, never a template, never raw HTML."""
import time
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from lxml import etree
from markupsafe import Markup

from app.formschema.instructions import (
    MAX_CHARS,
    MAX_VALUE_CHARS,
    check_instructions,
    render_instructions,
)

pytestmark = pytest.mark.nodb  # no database: runs once, in the SQLite pass

BPMN_DIR = Path(__file__).resolve().parents[2] / "workflows" / "bpmn"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}instructionsForEndUser"
TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "code", "a"}
LINK_ATTRS = {"href", "title", "target", "rel"}
HOSTILE_VALUE = "**negrita** [enlace](http://x) <b>"


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(str(html))
    parser.close()
    return parser.tags


def assert_only_safe_markup(html: str) -> None:
    """Only the allowed elements; attributes only on links, whose targets are web, mail or phone."""
    for tag, attrs in tags(html):
        assert tag in TAGS, (tag, html)
        if tag == "a":
            assert set(attrs) <= LINK_ATTRS and attrs["href"].startswith(("http://", "https://", "mailto:", "tel:"))
            assert attrs["rel"] == "noopener noreferrer" and attrs["target"] == "_blank"
        else:
            assert attrs == {}, (tag, html)
    lowered = str(html).lower()
    for needle in ("<script", "<form", "<img", "<iframe", "<svg", "<input", "<style", 'href="javascript',
                   "href='javascript", 'href="vbscript', 'href="data', 'href="file'):
        assert needle not in lowered, (needle, html)


HOSTILE = [
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1) )",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript&#58;alert(1))",
    "[x](java\\script:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](file:///etc/passwd)",
    "[x](//evil.example/phish)",
    "[x](/logout)",
    '<form action="https://evil.example/robar" method="post"><input name="clave"></form>',
    "<img src=x onerror=alert(1)>",
    "![x](http://evil/x.png)",
    "![x](javascript:alert(1))",
    "<http://evil.example>",
    "<javascript:alert(1)>",
    "[x]: javascript:alert(1)\n\n[x]",
    "<iframe src=https://evil.example></iframe>",
    '<svg onload="alert(1)">',
    "<style>body{display:none}</style>",
    "<!-- <script>alert(1)</script> -->",
    "```html\n<script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '[x](http://ok.example "<script>alert(1)</script>")',
    '[x](http://ok.example" onmouseover="alert(1))',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markup_never_reaches_the_page(text):
    html = render_instructions(text, {})
    assert isinstance(html, Markup)
    assert_only_safe_markup(html)
    assert check_instructions(text) == []  # HTML is not an error: it is shown as the text it is


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                                  '<a href="javascript:alert(1)">x</a>'])
def test_raw_html_is_shown_as_text(text):
    html = render_instructions(text, {})
    assert "&lt;" in html and tags(html) == [("p", {})]


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:x", "file:///etc/passwd",
                                 "data:image/png;base64,AAAA", "ftp://x.example/", "/casos/1", "#top"])
def test_links_other_than_web_mail_and_phone_stay_text(url):
    html = render_instructions(f"[aquí]({url})", {})
    assert "<a " not in html and "[aquí]" in html


def test_web_mail_and_phone_links_open_apart_without_referrer():
    html = render_instructions("Vea [la guía](https://sre.gob.hn/guia?a=1&b=2), escriba a [la oficina](mailto:"
                               "tap@sre.gob.hn) o llame al [+52 962](tel:+52962000000).", {})
    assert tags(html) == [
        ("p", {}),
        ("a", {"href": "https://sre.gob.hn/guia?a=1&b=2", "target": "_blank", "rel": "noopener noreferrer"}),
        ("a", {"href": "mailto:tap@sre.gob.hn", "target": "_blank", "rel": "noopener noreferrer"}),
        ("a", {"href": "tel:+52962000000", "target": "_blank", "rel": "noopener noreferrer"}),
    ]


def test_a_small_markdown_subset():
    html = render_instructions("Revise **todo** con *calma*.\nLínea dos `código`.\n\n- uno\n- dos\n\n1. primero\n"
                               "2. segundo\n\n# no es un título\n\n---\n\n    sangría no es código\n\n> ni cita", {})
    assert "<strong>todo</strong>" in html and "<em>calma</em>" in html
    assert "<br>\nLínea dos <code>código</code>." in html  # a single newline is kept
    assert "<ul>\n<li>uno</li>\n<li>dos</li>\n</ul>" in html and "<ol>\n<li>primero</li>" in html
    assert "<p># no es un título</p>" in html and "<p>---</p>" in html and "<p>sangría no es código</p>" in html
    assert "<p>&gt; ni cita</p>" in html
    assert_only_safe_markup(html)


def test_template_expressions_are_never_evaluated_and_cost_nothing():
    text = "{{ 7**(4*10**6) > 1 }}"
    render_instructions("calentamiento {{ x }}", {})
    started = time.perf_counter()
    html = render_instructions(text, {})
    assert time.perf_counter() - started < 0.05
    assert html == Markup("<p>{{ 7**(4*10**6) &gt; 1 }}</p>\n")  # shown as written, asterisks included
    assert check_instructions(text) == [
        "las instrucciones solo admiten campos entre llaves dobles, como {{ numero_caso }}; "
        "«{{ 7**(4*10**6) > 1 }}» no es un nombre de campo"]


@pytest.mark.parametrize("text", [
    "{{ persona.__class__ }}", "{{ persona|upper }}", "{{ ''.__class__.__mro__ }}", "{{numero_caso()}}",
    "{{ 1_a }}", "{{ a" + "b" * 64 + " }}", "{{ lipsum.__globals__ }}", "{{\nnumero_caso\n}}",
])
def test_anything_but_a_field_name_is_refused_and_shown_literally(text):
    assert len(check_instructions(text)) == 1 and "no es un nombre de campo" in check_instructions(text)[0]
    html = render_instructions(text, {"persona": "Ana", "numero_caso": "TAP-1"})
    assert "Ana" not in html and "TAP-1" not in html and "{{" in html


@pytest.mark.parametrize("text,found", [
    ("{% if persona %}hola{% endif %}", "«{% if persona %}» no está permitido"),
    ("{# nota #}", "«{# nota #}» no está permitido"),
    ("Caso {{ numero_caso", "«{{ numero_caso» está incompleto"),
    ("sobra %} aquí", "«%} aquí» está incompleto"),
    ("{% raw %}", "«{% raw %}» no está permitido"),
])
def test_jinja_blocks_comments_and_unclosed_placeholders_are_refused(text, found):
    problems = check_instructions(text)
    assert len(problems) == (2 if "endif" in text else 1)  # each piece once
    assert problems[0].startswith(
        "las instrucciones solo admiten campos entre llaves dobles, como {{ numero_caso }}; ") and found in problems[0]
    assert text in render_instructions(text, {"persona": "Ana", "numero_caso": "TAP-1"})  # shown as written


def test_problems_are_few_and_short_whatever_the_text():
    many = "".join(f"{{{{ {i}! }}}}" for i in range(50))
    problems = check_instructions("{{ 1 }}{{ 2 }}{{ 1 }}" + "{{ x" * 1000 + many)
    assert "«{{ 1 }}»" in problems[0] and "«{{ 2 }}»" in problems[1] and "«{{ 1 }}»" not in problems[2]
    assert len(problems) == 10  # the first ten different ones: enough to fix, not a wall of text
    assert len(check_instructions("{{ " + "9" * 500 + " }}")[0]) < 200


def test_valid_placeholders_pass_with_or_without_spaces():
    assert check_instructions("Caso {{numero_caso}} de {{ persona }} en {{  oficina  }}: {{ a_1 }}") == []
    assert check_instructions("") == [] and check_instructions("Sin campos. Llaves sueltas { } y }} no") == []


def test_text_longer_than_the_limit_is_refused_and_cut_when_shown():
    text = "a" * (MAX_CHARS + 10)
    assert check_instructions(text) == ["las instrucciones tienen 8\u00a0010 caracteres; el máximo es 8\u00a0000"]
    assert check_instructions("a" * MAX_CHARS) == []
    html = render_instructions(text, {})
    assert html == Markup("<p>" + "a" * MAX_CHARS + "…</p>\n")


def test_a_field_value_is_always_plain_text():
    html = render_instructions("**Atienda a {{ persona }}** {{ persona }}", {"persona": HOSTILE_VALUE})
    assert html == Markup("<p><strong>Atienda a **negrita** [enlace](http://x) &lt;b&gt;</strong> "
                          "**negrita** [enlace](http://x) &lt;b&gt;</p>\n")


@pytest.mark.parametrize("value", [
    "<script>alert(1)</script>", "javascript:alert(1)", "[x](javascript:alert(1))", "![x](http://evil/x.png)",
    "\n\n- lista\n1. lista\n# título\n    código\n> cita", "&lt;script&gt;", "&#106;avascript:alert(1)",
    "\\", "\\*no\\*", "`código`", "<http://evil.example>", "a\r\n\r\n<img src=x onerror=alert(1)>",
])
def test_hostile_field_values_cannot_add_markup_even_inside_a_link(value):
    for text in ("{{ v }}", "[ver]({{ v }})", "[{{ v }}](https://ok.example)", "*{{ v }}*", "1. {{ v }}"):
        html = render_instructions(text, {"v": value})
        assert_only_safe_markup(html)
        assert {t for t, _ in tags(html)} <= {"p", "a", "em", "ol", "li"}
        for tag, attrs in tags(html):
            if tag == "a":
                assert attrs["href"] == "https://ok.example"


def test_values_unknown_names_lists_and_caps():
    fields = {"n": 3, "monto": 12.5, "activo": True, "no": False, "fecha": date(2026, 11, 20),
              "lista": ["a", 1, {"x": 1}, None, "b"], "dic": {"a": 1}, "obj": object(), "nada": None,
              "largo": "x" * (MAX_VALUE_CHARS + 500)}
    html = render_instructions("{{ n }}|{{ monto }}|{{ activo }}|{{ no }}|{{ fecha }}|{{ lista }}|{{ dic }}|"
                               "{{ obj }}|{{ nada }}|{{ desconocido }}|", fields)
    assert html == Markup("<p>3|12.5|Sí|No|20/11/2026|a, 1, b|||||</p>\n")
    long_html = render_instructions("{{ largo }}", fields)
    assert long_html == Markup("<p>" + "x" * MAX_VALUE_CHARS + "…</p>\n")


def test_repeated_placeholders_are_bounded_in_total():
    html = render_instructions("{{ v }}" * 3000, {"v": "y" * MAX_VALUE_CHARS})
    assert len(html) < 50_000


@pytest.mark.parametrize("unit", ["[", "*a", "a_ ", "![", "<", "[*a](", "**a", "a\n", "{{", "{{ a", "&#", "\\",
                                  "- ", "  - x\n", "`a``", "[a](http://x)"])
def test_texts_made_to_be_slow_stay_bounded(unit):
    text = unit * (MAX_CHARS * 2 // len(unit))
    started = time.perf_counter()
    html = render_instructions(text, {"a": "b" * MAX_VALUE_CHARS})
    check_instructions(text)
    assert time.perf_counter() - started < 2  # ~0.1 s at worst on a quiet machine; linear in MAX_CHARS
    assert len(html) < 200_000
    assert_only_safe_markup(html)


def _project_instructions():
    for path in sorted(BPMN_DIR.glob("*.bpmn")):
        for element in etree.parse(str(path)).iter(SPIFF):
            yield path.name, element.text or ""


def test_every_project_diagram_instruction_is_valid_and_renders():
    fields = {"numero_caso": "TAP-2026-00001", "persona": "José Ángel Hernández Núñez", "oficina": "Tapachula",
              "categoria": "Retorno"}
    found = list(_project_instructions())
    assert len(found) >= 20
    for name, text in found:
        assert check_instructions(text) == [], (name, text)
        html = render_instructions(text, fields)
        assert "{{" not in html and "{%" not in html, (name, html)
        assert_only_safe_markup(html)
        assert html.startswith("<p>") and ("{{ persona }}" not in text or "José Ángel Hernández Núñez" in html)
        assert "{{ numero_caso }}" not in text or "TAP-2026-00001" in html
