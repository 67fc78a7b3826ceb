"""Task instructions (BPMN instructionsForEndUser): a little Markdown with {{ field }} placeholders.

The text is written by process owners and is treated as untrusted: it is never evaluated as a template and
never passed through as HTML. Rendering is two linear steps over text capped at MAX_CHARS:

1. Placeholders. Each ``{{ name }}`` (a plain field name, optional spaces) becomes the field's value as text,
   every Markdown punctuation character backslash-escaped, so that a value can never add markup or a link.
   Anything else that looks like template syntax (``{{ 7**4 }}``, ``{% if %}``, ``{# #}``) is shown literally;
   check_instructions() refuses it at publish time, but versions stored before that rule may still hold it.
2. Markdown (markdown-it-py, "zero" preset, raw HTML off, linkify off) with only: paragraphs, line breaks
   (a single newline is kept, as officers expect), **strong**/*emphasis*, bullet and numbered lists, `code`
   spans, backslash escapes and entities, and links to http(s)/mailto/tel that open in a new tab with
   rel="noopener noreferrer" (an officer half way through a form does not lose it by following one).
   Left out on purpose: raw HTML (shown as text), images (an image is fetched without a click: a tracking
   pixel in every case's page), headings and horizontal rules (an instruction is a short note inside the
   task page's box, not a document), indented and fenced code blocks (text indented in the diagram must not
   turn into a code block), block quotes, tables, reference-style links and autolinks.

The regular expressions use RE2 (linear time whatever the text); markdown-it is linear, and the text and each
substituted value are capped: ordinary instructions render in well under a millisecond, and even 8,000
characters crafted to be slow (brackets, asterisks) take ~0.1 s.
"""
from datetime import date, datetime
from decimal import Decimal

import re2
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup

MAX_CHARS = 8_000  # of instructions text; longer stored text is cut (and refused at publish)
MAX_VALUE_CHARS = 2_000  # of one substituted value
MAX_VALUES_CHARS = 40_000  # of all the values substituted into one text (a placeholder repeated 4,000 times)
ELLIPSIS = "…"
FIELD_NAME = r"[A-Za-z][A-Za-z0-9_]{0,63}"
ALLOWED_SCHEMES = ("http:", "https:", "mailto:", "tel:")

# A valid placeholder (group 1 is the name), or a span of template syntax shown literally. Leftmost-first:
# at one position the valid placeholder wins. (?s): Jinja expressions may span lines.
_TOKEN = re2.compile(r"(?s)\{\{[ \t]*(" + FIELD_NAME + r")[ \t]*\}\}|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
# Template syntax left outside the spans above: an unclosed {{, {% or {#, or a stray %}.
_STRAY = re2.compile(r"\{\{|\{%|\{#|%\}")
# Every ASCII punctuation character can be backslash-escaped in CommonMark.
_PUNCTUATION = re2.compile(r"([!-/:-@\[-`{-~])")
_WHITESPACE = re2.compile(r"\s+")
_SHOWN = 60  # characters of a faulty snippet quoted in a message
_MAX_PROBLEMS = 10


def check_instructions(text: str) -> list[str]:
    """Problems of an instructions text, in Spanish, for the diagram linter; [] when it can be published."""
    if not text:
        return []
    problems = []
    if len(text) > MAX_CHARS:
        problems.append(_("las instrucciones tienen %(n)s caracteres; el máximo es %(max)s",
                          n=_thousands(len(text)), max=_thousands(MAX_CHARS)))
    faults: dict[str, str] = {}  # snippet -> kind, in order of appearance, at most _MAX_PROBLEMS
    for snippet, kind in _faults(text):
        faults.setdefault(_shorten(snippet), kind)
        if len(faults) >= _MAX_PROBLEMS:
            break
    example = "{{ numero_caso }}"
    for snippet, kind in faults.items():
        if kind == "expression":
            problems.append(_("las instrucciones solo admiten campos entre llaves dobles, como %(example)s; "
                              "«%(found)s» no es un nombre de campo", example=example, found=snippet))
        elif kind == "block":
            problems.append(_("las instrucciones solo admiten campos entre llaves dobles, como %(example)s; "
                              "«%(found)s» no está permitido", example=example, found=snippet))
        else:
            problems.append(_("las instrucciones solo admiten campos entre llaves dobles, como %(example)s; "
                              "«%(found)s» está incompleto", example=example, found=snippet))
    return problems


def _faults(text: str):
    """(snippet, kind) of each piece of template syntax that is not a plain {{ field }}, in order."""
    position = 0
    for match in _TOKEN.finditer(text):
        yield from _strays(text, position, match.start())
        position = match.end()
        if match.group(1) is None:
            snippet = match.group(0)
            yield snippet, "expression" if snippet.startswith("{{") else "block"
    yield from _strays(text, position, len(text))


def _strays(text: str, start: int, end: int):
    for match in _STRAY.finditer(text[start:end]):
        yield text[start + match.start():min(end, start + match.start() + _SHOWN)], "unclosed"


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def _shorten(snippet: str) -> str:
    snippet = _WHITESPACE.sub(" ", snippet)
    return snippet if len(snippet) <= _SHOWN else snippet[:_SHOWN] + ELLIPSIS


def render_instructions(text: str, fields: dict) -> Markup:
    """The instructions as safe HTML, with each {{ name }} replaced by fields[name] shown as plain text."""
    if not text:
        return Markup("")
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + ELLIPSIS
    budget = MAX_VALUES_CHARS

    def substitute(match) -> str:
        nonlocal budget
        name = match.group(1)
        if name is None:  # template syntax of an old version: shown as written
            return _escape_markdown(match.group(0))
        value = _as_text(fields.get(name))[:budget]
        budget -= len(value)
        return _escape_markdown(value)

    return Markup(_render_markdown(_TOKEN.sub(substitute, text)))


def _render_markdown(source: str) -> str:
    """markdown-it is linear but pure Python: ~0.1 s at worst for 8,000 characters of brackets and asterisks.
    Not cached: the source holds the case's values (names), which must not outlive the request in memory."""
    return _markdown.render(source)


def _as_text(value) -> str:
    """A field value as one line of plain text: scalars, and lists of scalars; anything else is left out."""
    if isinstance(value, (list, tuple)):
        parts, length = [], 0
        for item in value:
            if length > MAX_VALUE_CHARS:
                break
            if part := _scalar_text(item):
                parts.append(part)
                length += len(part) + 2
        text = ", ".join(parts)
    else:
        text = _scalar_text(value)
    text = _WHITESPACE.sub(" ", text).strip()  # no line of its own: no list item, code block or break
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + ELLIPSIS


def _scalar_text(value) -> str:
    if isinstance(value, bool):
        return _("Sí") if value else _("No")
    if isinstance(value, str):
        return value[:MAX_VALUE_CHARS + 1]
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return ""


def _escape_markdown(text: str) -> str:
    return _PUNCTUATION.sub(r"\\\1", text)


def _validate_link(url: str) -> bool:
    """Only web, mail and phone links; markdown-it has already decoded entities and normalised the URL."""
    return url.strip().lower().startswith(ALLOWED_SCHEMES)


def _link_open(renderer, tokens, idx, options, env):
    tokens[idx].attrSet("target", "_blank")
    tokens[idx].attrSet("rel", "noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)


def _build() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False, "breaks": True})
    md.enable(["list", "emphasis", "newline", "escape", "entity", "backticks", "link"])
    md.validateLink = _validate_link
    md.add_render_rule("link_open", _link_open)
    return md


_markdown = _build()
